//! The seed's deploy pattern: flows and an agent on an axum server, speaking Genkit's
//! flow protocol (so `genkit/beta/client`'s runFlow / streamFlow / remoteAgent work).
//!
//! `cargo run --example serve` listens on 127.0.0.1:$PORT (default 3400):
//! - `POST /research`: `research_flow` (the seed's `@app.post('/research')`);
//! - `POST /<flowName>`: every flow under its own name;
//! - `POST /myAgent` (+ `/myAgent/getSnapshot`, `/myAgent/abort`): the agent, its
//!   sessions kept in SQLite (`$GENKIT_SESSIONS_DB`, default `sessions.db`).
//!
//! With `APP_API_KEY` set, every route requires `Authorization: Bearer $APP_API_KEY`;
//! without it the server is open, and says so. Models: Gemini when `GEMINI_API_KEY` is
//! set, else a local Gemini-compatible server in this process.
//!
//! ```sh
//! curl -s localhost:3400/research -H 'content-type: application/json' -d '{"data":{"query":"Rust"}}'
//! curl -sN 'localhost:3400/research?stream=true' -H 'content-type: application/json' -d '{"data":{"query":"Rust"}}'
//! ```

use genkit::axum::axum::Router;
use genkit::axum::axum::routing::post;
use genkit::axum::{ContextLayer, ServeOptions, Shutdown, api_key};
use genkit::googleai::GoogleAi;
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
async fn research_flow(ai: &Genkit, input: SearchInput) -> Result<String> {
    let response = ai
        .generate()
        .prompt(format!("Research: {}", input.query))
        .tools([web_search])
        .await?;
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

    let agent = ai
        .define_agent("myAgent")
        .system("You are a helpful assistant.")
        .tools([web_search])
        .store(sessions()?)
        .build()?;

    // Shutdown on Ctrl-C: stop accepting, give runs in flight 10 s, then end them.
    let shutdown = Shutdown::new();
    let opts = ServeOptions::new().shutdown(&shutdown);

    let mut app = Router::new()
        .route(
            "/research",
            post(genkit::axum::flow(research_flow).with_options(opts.clone())),
        )
        .merge(genkit::axum::flows_with(&ai, opts.clone()))
        .merge(genkit::axum::agent_with(agent, "/myAgent", opts))
        .with_state(ai);
    match std::env::var("APP_API_KEY") {
        Ok(key) if !key.trim().is_empty() => {
            app = app.layer(ContextLayer::new(api_key(format!("Bearer {}", key.trim()))));
            eprintln!("every route requires `Authorization: Bearer $APP_API_KEY`");
        }
        _ => eprintln!("APP_API_KEY is not set: the server is OPEN (no auth on any route)"),
    }

    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| Error::invalid_argument(format!("PORT is not a port number: {p}")))?,
        Err(_) => 3400,
    };
    // `bind`: TCP_NODELAY (streamed chunks leave at once), at most 1024 connections,
    // a client that stops reading for 30 s is dropped. `serve`: a client gets 30 s to
    // send its headers, and an idle kept-alive connection is closed after 30 s.
    let listener = genkit::axum::bind(("127.0.0.1", port)).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    tokio::spawn(shutdown.clone().trigger_on_ctrl_c());
    genkit::axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.signal())
        .await?;
    Ok(())
}

/// The SQLite session store at `$GENKIT_SESSIONS_DB` (default `sessions.db`).
fn sessions() -> Result<genkit::store::SqliteSessionStore> {
    let path = std::env::var("GENKIT_SESSIONS_DB").unwrap_or_else(|_| "sessions.db".into());
    genkit::store::SqliteSessionStore::open(&path)
}
