//! Streaming across a tool loop: model chunks, the tool chunk, then the next model
//! turn, each with its role and message index.

use genkit::googleai::GoogleAi;
use genkit::prelude::*;

#[derive(Deserialize, Serialize, JsonSchema)]
struct City {
    city: String,
}

/// Get the current weather in a city.
#[genkit::tool]
async fn weather(input: City) -> Result<String> {
    Ok(format!("Sunny and 21°C in {}", input.city))
}

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;

    let mut stream = ai
        .generate()
        .prompt("What's the weather in: Paris")
        .tools([weather])
        .stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let role = chunk.role.map(|r| format!("{r:?}")).unwrap_or_default();
        let index = chunk.index.unwrap_or_default();
        for request in chunk.tool_requests() {
            println!(
                "[{index} {role}] calls {}({})",
                request.name,
                request.input.clone().unwrap_or_default()
            );
        }
        for part in &chunk.content {
            if let Some(response) = &part.tool_response {
                println!(
                    "[{index} {role}] {} -> {}",
                    response.name,
                    response.output.clone().unwrap_or_default()
                );
            }
        }
        let text = chunk.text();
        if !text.is_empty() {
            println!("[{index} {role}] {text}");
        }
    }
    let response = stream.response().await?;
    println!("final: {}", response.text());
    Ok(())
}
