use genkit::agent::InMemorySessionStore;
use genkit::axum::axum::{Router, routing::post};
use genkit::googleai::GoogleAi;
use genkit::middleware::Retry;
use genkit::prelude::*;

#[derive(Deserialize, Serialize, JsonSchema)]
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
    // Gemini with GEMINI_API_KEY, else a local Gemini-compatible server.
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
    let last = stream.response().await?;
    println!("\n(finished: {:?})", last.finish_reason);

    // The agent harness: history kept per session in the store.
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

    // A flow is an ordinary async fn: call it directly (traced as a flow)…
    let query = SearchInput {
        query: "Rust".into(),
    };
    println!("{}", research_flow(&ai, query).await?);

    // …or serve it: `POST /research` (the seed's FastAPI line) and the agent.
    let app = Router::new()
        .route("/research", post(genkit::axum::flow(research_flow)))
        .merge(genkit::axum::agent(agent))
        .with_state(ai);
    let listener = genkit::axum::bind("127.0.0.1:3400").await?;
    genkit::axum::axum::serve(listener, app).await?;
    Ok(())
}
