//! The seed's program: a tool, a flow, a generate call with tools, and a streaming call.
//!
//! `cargo run --example research` talks to Gemini when `GEMINI_API_KEY` (or
//! `GOOGLE_API_KEY`) is set, and otherwise to a local Gemini-compatible server started
//! in this process; it prints which one it used.
//!
//! Another provider is one environment variable away: `GENKIT_MODEL=openai/gpt-4o-mini`
//! (the key from `OPENAI_API_KEY`, else a local OpenAI-compatible server) or
//! `GENKIT_MODEL=anthropic/claude-sonnet-4-5` (the key from `ANTHROPIC_API_KEY`, else a
//! local Anthropic-compatible server). Every
//! provider's plugin is registered, so the Dev UI lists and runs all their models.

use genkit::anthropic::Anthropic;
use genkit::googleai::GoogleAi;
use genkit::middleware::Retry;
use genkit::openai::OpenAi;
use genkit::prelude::*;

#[genkit::schema]
struct SearchInput {
    query: String,
}

/// Search the web for a query.
#[genkit::tool]
async fn web_search(input: SearchInput) -> Result<String> {
    Ok(format!("Results for: {}", input.query))
}

#[genkit::flow]
async fn research_flow(ai: &Genkit, input: SearchInput, cx: FlowContext) -> Result<String> {
    let call = ai
        .generate()
        .prompt(format!("Research: {}", input.query))
        .tools([web_search])
        .use_(Retry::new().max_retries(3));
    let response = cx.forward(call).await?; // streams chunks when the caller streams
    Ok(response.text())
}

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let (openai, openai_backend) = OpenAi::from_env_or_local().await?;
    eprintln!("openai: using {openai_backend}");
    let (anthropic, anthropic_backend) = Anthropic::from_env_or_local().await?;
    eprintln!("anthropic: using {anthropic_backend}");
    // The model string is the only thing that picks the provider.
    let model =
        std::env::var("GENKIT_MODEL").unwrap_or_else(|_| "googleai/gemini-2.0-flash".into());
    eprintln!("model: {model}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .plugin(openai)
        .plugin(anthropic)
        .model(model)
        .build()
        .await?;

    // The generate loop: the model calls web_search, gets its result, answers.
    let response = ai
        .generate()
        .prompt("What's the latest on Gemini 2.5 Pro?")
        .tools([web_search])
        .await?;
    println!("{}", response.text());

    // Streaming: chunks as they arrive, then the final response.
    let mut stream = ai.generate().prompt("Summarize it.").stream();
    while let Some(chunk) = stream.next().await {
        print!("{}", chunk?.text());
    }
    println!();

    // A flow is an ordinary async fn: call it directly (it is traced as a flow).
    let report = research_flow(
        &ai,
        SearchInput {
            query: "Rust".into(),
        },
    )
    .await?;
    println!("{report}");
    Ok(())
}
