//! The seed's `myAgent`: a conversation kept in SQLite across runs.
//!
//! ```sh
//! cargo run --example agent -- my-session "What's new in Rust?"
//! cargo run --example agent -- my-session "And what did I ask before?"   # remembers
//! ```
//!
//! The session id is the first argument (or `AGENT_SESSION_ID`), the message the second;
//! the database is `AGENT_DB` (default: `genkit-agent-example.db` in the temp dir).
//! Without `GEMINI_API_KEY` it talks to a local Gemini-compatible server.
//!
//! `web_search` needs approval (`ToolApproval`): the turn ends `interrupted` with the
//! waiting requests on its `turnEnd`, and the example answers them on the same
//! connection: approved, or denied with `APPROVE=no`.

use genkit::agent::{AgentInit, AgentInput, GetSnapshotRequest};
use genkit::googleai::GoogleAi;
use genkit::middleware::ToolApproval;
use genkit::prelude::*;
use genkit::store::SqliteSessionStore;

#[derive(Deserialize, Serialize, JsonSchema)]
struct SearchInput {
    query: String,
}

/// Search the web for a query.
#[genkit::tool]
async fn web_search(input: SearchInput) -> Result<String> {
    Ok(format!("Results for: {}", input.query))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let session_id = args
        .next()
        .or_else(|| std::env::var("AGENT_SESSION_ID").ok())
        .unwrap_or_else(|| "my-session".into());
    let message = args.next().unwrap_or_else(|| "Search: Rust agents".into());
    let db = std::env::var("AGENT_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("genkit-agent-example.db"));

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
        .use_(ToolApproval::new()) // every tool call waits for the user
        .store(SqliteSessionStore::open(&db)?)
        .build()?;

    // What this session already holds.
    if let Some(snap) = agent
        .get_snapshot(GetSnapshotRequest::session(&session_id))
        .await?
    {
        let earlier = snap.state.map(|s| s.messages).unwrap_or_default();
        let asked: Vec<String> = earlier
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.text())
            .collect();
        println!(
            "remembered {} earlier messages; you asked: {asked:?}",
            earlier.len()
        );
    }

    let mut conn = agent
        .stream_bidi_with(AgentInit::session(&session_id))
        .await?;
    conn.send_text(message).await?;
    let approve = std::env::var("APPROVE").map_or(true, |v| v != "no");
    while let Some(chunk) = conn.next().await {
        let chunk = chunk?;
        if let Some(m) = chunk.model_chunk {
            print!("{}", m.text());
        }
        let Some(end) = chunk.turn_end else { continue };
        if end.interrupts().is_empty() {
            conn.close(); // the turn is answered: no more input, the stream ends
            continue;
        }
        // The turn stopped for approval: answer each waiting call; the next turn runs.
        for part in end.interrupts() {
            let call = part.tool_request.as_ref().map_or("?", |r| r.name.as_str());
            let decision = if approve { "approved" } else { "denied" };
            eprintln!("\n`{call}` needs approval: {decision}");
            conn.send(if approve {
                AgentInput::restart(part, json!({"toolApproved": true}))
            } else {
                AgentInput::respond(part, ToolApproval::denied("The user said no."))
            })
            .await?;
        }
    }
    println!();
    Ok(())
}
