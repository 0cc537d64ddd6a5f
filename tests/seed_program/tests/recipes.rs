//! The recipes of `API.md`, compiled in a crate that depends on `genkit` and `tokio`
//! only, so the page's code keeps compiling. Keep them in step with API.md's "Recipes"
//! (their behaviour is tested elsewhere: tests/interrupts.rs, the examples' tests).
#![allow(dead_code)]

use genkit::agent::{AgentInit, AgentInput, InMemorySessionStore};
use genkit::axum::axum::{Router, routing::post};
use genkit::middleware::{Fallback, Retry, ToolApproval};
use genkit::prelude::*;
use genkit::{Interruption, RunOptions};

#[derive(Deserialize, Serialize, JsonSchema)]
struct SearchInput {
    /// What to search for (doc comments become schema descriptions).
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
        .tools([web_search]);
    let response = cx.forward(call).await?;
    Ok(response.text())
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct ResearchInput {
    query: String,
    #[serde(default)]
    interruption: Option<Interruption>,
}

#[genkit::flow]
async fn approved_research(ai: &Genkit, input: ResearchInput) -> Result<String> {
    let call = match input.interruption {
        Some(i) => ai
            .generate()
            .messages(i.messages)
            .resume(i.resume.unwrap_or_default()),
        None => ai.generate().prompt(format!("Research: {}", input.query)),
    };
    let response = call.tools([web_search]).use_(ToolApproval::new()).await?;
    Ok(response.ok_or_interrupted()?.text())
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Recipe {
    title: String,
    ingredients: Vec<String>,
    minutes: u32,
}

async fn recipes() -> Result<()> {
    // 3. Generate.
    let (googleai, _backend) = genkit::googleai::GoogleAi::from_env_or_local().await?;
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;
    let response = ai
        .generate()
        .prompt("What's the latest on Gemini 2.5 Pro?")
        .system("Be brief.")
        .tools([web_search])
        .max_turns(5)
        .await?;
    let _ = (
        response.text(),
        response.messages(),
        response.usage(),
        response.finish_reason,
    );
    let _ = ai
        .run_action(
            "/flow/research_flow",
            json!({"query": "x"}),
            RunOptions::default(),
        )
        .await?;

    // 4. Stream.
    let mut stream = ai
        .generate()
        .prompt("Summarize it.")
        .tools([web_search])
        .stream();
    while let Some(chunk) = stream.next().await {
        print!("{}", chunk?.text());
    }
    let _response = stream.response().await?;

    // 5. Typed output.
    let response = ai
        .generate()
        .prompt("A quick tomato soup recipe.")
        .output::<Recipe>()
        .await?;
    let _recipe: Recipe = response.output()?;

    // 6. Interrupts: generate.
    let response = ai
        .generate()
        .prompt("Search: Rust")
        .tools([web_search])
        .use_(ToolApproval::new())
        .await?;
    if let Some(part) = response.interrupts().first().map(|p| (*p).clone()) {
        let resumed = || {
            ai.generate()
                .messages(response.messages())
                .tools([web_search])
                .use_(ToolApproval::new())
        };
        let _approved = resumed()
            .restart(&part, json!({"toolApproved": true}))
            .await?;
        let _denied = resumed().respond(&part, ToolApproval::denied("no")).await?;
    }

    // 7. Middleware.
    let _ = ai
        .generate()
        .prompt("…")
        .use_(Retry::new().max_retries(3))
        .use_(Fallback::new(["googleai/gemini-2.5-flash"]))
        .use_(genkit::middleware_fn("log", |req, cx, next| {
            Box::pin(async move { next.run(req, cx).await })
        }))
        .await?;

    // 8. An agent with a store; 6. its interrupts.
    let agent = ai
        .define_agent("myAgent")
        .system("You are a helpful assistant.")
        .tools([web_search])
        .use_(ToolApproval::new())
        .store(InMemorySessionStore::new())
        .build()?;
    let mut conn = agent.stream_bidi().await?;
    conn.send_text("Search: Rust").await?;
    while let Some(chunk) = conn.next().await {
        let Some(end) = chunk?.turn_end else { continue };
        if end.interrupts().is_empty() {
            conn.close();
        }
        for part in end.interrupts() {
            conn.send(AgentInput::restart(part, json!({"toolApproved": true})))
                .await?;
        }
    }
    let output = conn.output().await?;
    let mut conn = agent
        .stream_bidi_with(AgentInit::session(output.session_id.unwrap_or_default()))
        .await?;
    conn.close();
    while let Some(chunk) = conn.next().await {
        if let Some(m) = chunk?.model_chunk {
            print!("{}", m.text());
        }
    }

    // 9. Serving.
    let app: Router = Router::new()
        .route("/research", post(genkit::axum::flow(research_flow)))
        .route("/approved", post(genkit::axum::flow(approved_research)))
        .merge(genkit::axum::flows(&ai))
        .merge(genkit::axum::agent(agent))
        .layer(genkit::axum::ContextLayer::new(genkit::axum::api_key(
            "Bearer secret",
        )))
        .with_state(ai);
    let listener = genkit::axum::bind("127.0.0.1:0").await?;
    drop((app, listener));

    // 10. Tracing.
    let _layer = genkit::telemetry::layer();
    genkit::telemetry::flush().await;
    Ok(())
}

#[test]
fn the_recipes_compile() {
    let _ = recipes;
}
