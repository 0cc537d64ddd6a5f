//! Shared helpers of the integration tests: a local server and a Genkit on it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use genkit_anthropic::Anthropic;
use genkit_anthropic::server::{LocalAnthropic, ServerOptions};
use genkit_core::{Error, Genkit, ToolAction, ToolRef};
use schemars::JsonSchema;
use serde::Deserialize;

pub const KEY: &str = "sk-ant-test-7f3a9c";
pub const MODEL: &str = "anthropic/claude-sonnet-4-5";

pub async fn server() -> LocalAnthropic {
    LocalAnthropic::start_with(ServerOptions::default().api_key(KEY))
        .await
        .expect("server starts")
}

pub fn plugin(server: &LocalAnthropic) -> Anthropic {
    Anthropic::new(KEY)
        .with_base_url(server.base_url())
        .with_timeout(Duration::from_secs(20))
}

pub async fn genkit_with(plugin: Anthropic) -> Genkit {
    Genkit::builder()
        .without_submitted_actions()
        .plugin(plugin)
        .model(MODEL)
        .build()
        .await
        .expect("genkit builds")
}

pub async fn genkit(server: &LocalAnthropic) -> Genkit {
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
