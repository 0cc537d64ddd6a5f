//! `Artifacts`: an agent writes a session artifact with `write_artifact` (streamed as an
//! `artifact` chunk and kept in the session), and sees it listed on later turns.
//!
//! `cargo run --example middleware_artifacts` (local Gemini-compatible server without a
//! key: it calls the tool whose name best matches the prompt).

use genkit::agent::InMemorySessionStore;
use genkit::googleai::GoogleAi;
use genkit::middleware::Artifacts;
use genkit::prelude::*;
use genkit::text_of;

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;
    let agent = ai
        .define_agent("notebook")
        .system("Keep the user's notes as artifacts.")
        .use_(Artifacts::new())
        .store(InMemorySessionStore::new())
        .build()?;

    let mut conn = agent.stream_bidi().await?;
    conn.send_text("write artifact: groceries").await?;
    conn.close();
    while let Some(chunk) = conn.next().await {
        let chunk = chunk?;
        if let Some(a) = chunk.artifact {
            println!(
                "artifact {:?}: {}",
                a.name.unwrap_or_default(),
                text_of(&a.parts)
            );
        }
        if let Some(m) = chunk.model_chunk {
            print!("{}", m.text());
        }
    }
    println!();
    Ok(())
}
