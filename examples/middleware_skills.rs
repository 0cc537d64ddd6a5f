//! `Skills`: every `skills/<name>/SKILL.md` is listed to the model in its system
//! instructions, and the model loads one with the `use_skill` tool.
//!
//! `cargo run --example middleware_skills` (Gemini with `GEMINI_API_KEY`, otherwise a
//! local Gemini-compatible server). It writes two skills to a temporary directory.

use genkit::googleai::GoogleAi;
use genkit::middleware::Skills;
use genkit::prelude::*;

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;

    let dir = std::env::temp_dir().join(format!("genkit-skills-example-{}", std::process::id()));
    for (name, description, body) in [
        (
            "haiku",
            "Answer in a haiku.",
            "Answer in exactly three lines of 5, 7 and 5 syllables.",
        ),
        (
            "eli5",
            "Explain like I'm five.",
            "Use short words and one everyday comparison.",
        ),
    ] {
        std::fs::create_dir_all(dir.join(name))?;
        std::fs::write(
            dir.join(name).join("SKILL.md"),
            format!("---\nname: {name}\ndescription: {description}\n---\n{body}\n"),
        )?;
    }
    let skills = Skills::new().skill_paths([&dir]);
    eprintln!("skills: {:?}", skills.names());

    let response = ai
        .generate()
        .prompt("Use skill: haiku")
        .use_(skills)
        .await?;
    println!("{}", response.text());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
