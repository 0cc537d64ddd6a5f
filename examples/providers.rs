//! One flow, answered by every provider: Gemini, OpenAI, Anthropic and Ollama. Only the
//! model string changes.
//!
//! `cargo run --example providers`: each provider uses its key when set
//! (`GEMINI_API_KEY`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) and otherwise a local
//! look-alike server started in this process; Ollama is used at `OLLAMA_HOST` when set,
//! otherwise the local OpenAI-compatible server stands in for it.

use genkit::anthropic::Anthropic;
use genkit::googleai::GoogleAi;
use genkit::openai::OpenAi;
use genkit::openai::server::ServerOptions;
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

#[genkit::schema]
struct Ask {
    /// `googleai/gemini-2.5-flash`, `openai/gpt-4o-mini`, `anthropic/claude-sonnet-4-5`,
    /// `ollama/llama3.2`, …
    model: String,
    query: String,
}

#[genkit::flow]
async fn ask(ai: &Genkit, input: Ask, _cx: FlowContext) -> Result<String> {
    let response = ai
        .generate()
        .model(input.model)
        .prompt(format!("Research: {}", input.query))
        .tools([web_search])
        .await?;
    Ok(response.text())
}

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, gemini) = GoogleAi::from_env_or_local().await?;
    let (openai, openai_backend) = OpenAi::from_env_or_local().await?;
    let ollama = if std::env::var_os(genkit::openai::OLLAMA_HOST_VAR).is_some() {
        OpenAi::ollama()
    } else {
        OpenAi::local("ollama", ServerOptions::ollama())
            .await?
            .with_label("Ollama")
    };
    let (anthropic, anthropic_backend) = Anthropic::from_env_or_local().await?;
    eprintln!(
        "googleai: {gemini}\nopenai: {openai_backend}\nanthropic: {anthropic_backend}\nollama: {}",
        ollama.base_url()
    );
    let ai = Genkit::builder()
        .plugin(googleai)
        .plugin(openai)
        .plugin(anthropic)
        .plugin(ollama)
        .build()
        .await?;

    let models = [
        "googleai/gemini-2.5-flash",
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4-5",
        "ollama/llama3.2",
    ];
    for model in models {
        let answer = ask(
            &ai,
            Ask {
                model: model.into(),
                query: "Rust".into(),
            },
        )
        .await?;
        println!("{model}: {answer}");
    }
    Ok(())
}
