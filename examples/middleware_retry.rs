//! `Retry`: the seed's `use=[Retry(max_retries=3)]`. Transient model errors (429, 503,
//! timeouts) are retried with exponential backoff; a tool that already ran is never
//! run again.
//!
//! `cargo run --example middleware_retry` uses Gemini when `GEMINI_API_KEY` is set;
//! otherwise a local Gemini-compatible server, scripted to answer 429 then 503 first,
//! so the retries happen (with short delays, to keep the run quick).

use std::time::Duration;

use genkit::googleai::GoogleAi;
use genkit::googleai::server::{LocalGemini, Reply};
use genkit::middleware::Retry;
use genkit::prelude::*;

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    // With the local server, script two transient failures before the answer.
    let scripted = match backend.is_local() {
        true => Some(LocalGemini::start().await?),
        false => None,
    };
    let googleai = match &scripted {
        Some(server) => {
            server.push(Reply::rate_limited(Duration::from_millis(200)));
            server.push(Reply::error(
                503,
                "The model is overloaded. Please try again later.",
            ));
            googleai.with_base_url(server.base_url())
        }
        None => googleai,
    };
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;

    let response = ai
        .generate()
        .prompt("What's the latest on Gemini 2.5 Pro?")
        .use_(
            Retry::new()
                .max_retries(3)
                .initial_delay(Duration::from_millis(100)),
        )
        .await?;
    println!("{}", response.text());
    if let Some(server) = &scripted {
        eprintln!("the model was called {} times", server.requests().len());
    }
    Ok(())
}
