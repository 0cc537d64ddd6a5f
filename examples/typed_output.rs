//! Typed output: the JSON schema of a Rust type is sent to the model, the reply is
//! validated against it and parsed into the type.

use genkit::googleai::GoogleAi;
use genkit::prelude::*;

#[derive(Debug, Deserialize, JsonSchema)]
struct Recipe {
    title: String,
    ingredients: Vec<String>,
    minutes: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.5-flash")
        .build()
        .await?;

    let response = ai
        .generate()
        .prompt("A quick tomato soup recipe.")
        .output::<Recipe>()
        .await?;
    let recipe: Recipe = response.output()?;
    println!(
        "{} ({} min): {}",
        recipe.title,
        recipe.minutes,
        recipe.ingredients.join(", ")
    );
    Ok(())
}
