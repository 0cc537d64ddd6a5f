//! `Fallback`: when the model fails with a transient status (quota, overload, not
//! found…), the same request goes to the next model of the list; `custom.fallback`
//! says which model answered.
//!
//! `cargo run --example middleware_fallback` uses Gemini when `GEMINI_API_KEY` is set;
//! otherwise a local Gemini-compatible server, scripted so the first model is out of
//! quota.

use std::time::Duration;

use genkit::googleai::GoogleAi;
use genkit::googleai::server::{LocalGemini, Reply};
use genkit::middleware::{Fallback, Retry};
use genkit::prelude::*;

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let scripted = match backend.is_local() {
        true => Some(LocalGemini::start().await?),
        false => None,
    };
    let googleai = match &scripted {
        Some(server) => {
            server.push(Reply::rate_limited(Duration::from_secs(30)));
            googleai.with_base_url(server.base_url())
        }
        None => googleai,
    };
    let ai = Genkit::builder().plugin(googleai).build().await?;

    let response = ai
        .generate()
        .model("googleai/gemini-2.5-pro")
        .prompt("Say hello in three languages.")
        // Outermost first: retry the whole chain on UNAVAILABLE only, and fall back
        // to the smaller models on any transient status.
        .use_(Retry::new().statuses([Status::Unavailable]))
        .use_(Fallback::new([
            "googleai/gemini-2.5-flash",
            "googleai/gemini-2.0-flash",
        ]))
        .await?;
    println!("{}", response.text());
    let answered = response
        .custom
        .as_ref()
        .and_then(|c| c["fallback"]["model"].as_str())
        .unwrap_or("googleai/gemini-2.5-pro");
    eprintln!("answered by {answered}");
    Ok(())
}
