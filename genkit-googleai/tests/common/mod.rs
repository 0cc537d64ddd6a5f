//! Shared helpers of the integration tests: a local server and a Genkit on it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use genkit_core::{Error, Genkit, ToolAction, ToolRef};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::{LocalGemini, ServerOptions};
use schemars::JsonSchema;
use serde::Deserialize;

pub const KEY: &str = "test-key-7f3a9c";

pub async fn server() -> LocalGemini {
    LocalGemini::start_with(ServerOptions::default().api_key(KEY))
        .await
        .expect("server starts")
}

pub fn plugin(server: &LocalGemini) -> GoogleAi {
    GoogleAi::new(KEY)
        .with_base_url(server.base_url())
        .with_timeout(Duration::from_secs(20))
}

pub async fn genkit_with(plugin: GoogleAi) -> Genkit {
    Genkit::builder()
        .without_submitted_actions()
        .plugin(plugin)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await
        .expect("genkit builds")
}

pub async fn genkit(server: &LocalGemini) -> Genkit {
    genkit_with(plugin(server)).await
}

#[derive(Deserialize, JsonSchema)]
pub struct SearchInput {
    /// What to search for.
    pub query: String,
}

pub fn web_search() -> ToolRef {
    Arc::new(ToolAction::new(
        "web_search",
        "Search the web",
        |input: SearchInput, _ctx| async move {
            Ok::<_, Error>(format!("Results for: {}", input.query))
        },
    ))
}

/// Streams one `generate` of "hi": the chunk texts, then the error that ended it
/// (from the stream, else from the final response).
pub async fn stream_until_error(ai: &Genkit) -> (Vec<String>, Error) {
    use futures::StreamExt;
    let mut stream = ai.generate().prompt("hi").stream();
    let mut texts = Vec::new();
    let mut error = None;
    while let Some(c) = stream.next().await {
        match c {
            Ok(c) => texts.push(c.text()),
            Err(e) => error = Some(e),
        }
    }
    let e = match error {
        Some(e) => e,
        None => stream.response().await.expect_err("the stream must fail"),
    };
    (texts, e)
}
