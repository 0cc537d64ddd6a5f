//! The seed's program: a tool, a flow, a generate call with tools, a streaming call, an
//! agent, `use` with Retry, and the flow on an axum route.
//!
//! `cargo run --example research` talks to Gemini when `GEMINI_API_KEY` (or
//! `GOOGLE_API_KEY`) is set, and otherwise to a local Gemini-compatible server started
//! in this process; it prints which one it used. With `PORT` set it then serves
//! `POST /research` and the agent at `/myAgent` on 127.0.0.1:$PORT until Ctrl-C.

use genkit::agent::InMemorySessionStore;
use genkit::axum::axum::{Router, routing::post};
use genkit::googleai::GoogleAi;
use genkit::middleware::Retry;
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
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
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

    // The agent harness: history and state kept for you across turns.
    let agent = ai
        .define_agent("myAgent")
        .system("You are a helpful assistant.")
        .tools([web_search])
        .store(InMemorySessionStore::new())
        .build()?;
    let mut conn = agent.stream_bidi().await?;
    conn.send_text("What's happening with Gemini 2.5 Pro?")
        .await?;
    conn.close();
    while let Some(chunk) = conn.next().await {
        if let Some(m) = chunk?.model_chunk {
            print!("{}", m.text());
        }
    }
    println!();

    // A flow is an ordinary async fn: call it directly (it is traced as a flow)…
    let report = research_flow(
        &ai,
        SearchInput {
            query: "Rust".into(),
        },
    )
    .await?;
    println!("{report}");

    // …or hang it on the axum app you already have (the seed's FastAPI line).
    let app = Router::new()
        .route("/research", post(genkit::axum::flow(research_flow)))
        .merge(genkit::axum::agent(agent))
        .with_state(ai);
    if let Ok(port) = std::env::var("PORT") {
        let listener = genkit::axum::bind(("127.0.0.1", port.parse().unwrap_or(3400))).await?;
        eprintln!("serving POST /research and /myAgent on 127.0.0.1:{port}");
        genkit::axum::axum::serve(listener, app).await?;
    }
    Ok(())
}
