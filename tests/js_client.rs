//! The real Genkit JS client (`genkit/beta/client` from npm `genkit@1.42.0`, installed by
//! `genkit_testkit` on first use) calling flows served by `genkit::axum`, run by node
//! against a server on 127.0.0.1 backed by the local Gemini-compatible server.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use genkit::agent::InMemorySessionStore;
use genkit::axum::axum::Router;
use genkit::axum::axum::routing::post;
use genkit::axum::{ContextLayer, ServeOptions, agent, agent_with, api_key, flows};
use genkit::googleai::GoogleAi;
use genkit::googleai::server::LocalGemini;
use genkit::prelude::*;
use tokio::sync::mpsc;

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

#[genkit::flow]
async fn research_stream(ai: &Genkit, input: SearchInput, cx: FlowContext) -> Result<String> {
    let mut stream = ai
        .generate()
        .prompt(format!("Research: {}", input.query))
        .tools([web_search])
        .stream();
    while let Some(chunk) = stream.next().await {
        cx.send_chunk(chunk?.text()).await?;
    }
    Ok(stream.response().await?.text())
}

#[genkit::flow]
async fn whoami(ai: &Genkit, input: Value, cx: FlowContext) -> Result<Value> {
    let _ = (ai, input);
    Ok(cx.context().cloned().unwrap_or(Value::Null))
}

#[genkit::flow]
async fn boom(input: Value) -> Result<String> {
    let _ = input;
    Err(Error::internal("db password is hunter2"))
}

/// The real Genkit JS client's `node_modules`, installed on first use.
pub fn node_modules() -> PathBuf {
    genkit_testkit::npm_packages(&[genkit_testkit::GENKIT_JS]).join("node_modules")
}

/// Runs `tests/js/<script> <url>` with node; returns its stdout lines (asserting success).
async fn run_node(script: &str, url: &str) -> Vec<String> {
    let modules = node_modules();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/js")
        .join(script);
    let mut child = std::process::Command::new("node")
        .arg(&path)
        .arg(url)
        .env("NODE_PATH", &modules)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    // Wait on a blocking thread (the server runs on this runtime), killing node if it
    // hangs (the client hangs on a stream that ends without a final frame).
    let out = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while child.try_wait().ok().flatten().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output()
    })
    .await
    .expect("join")
    .expect("node output");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

struct Server {
    url: String,
    gemini: LocalGemini,
    dropped: mpsc::UnboundedReceiver<()>,
    _slow_gemini: LocalGemini,
}

/// Sends `()` when dropped: the `hang` flow's run was cancelled.
struct DropSignal(mpsc::UnboundedSender<()>);
impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

async fn start() -> Server {
    let gemini = LocalGemini::start().await.expect("local gemini");
    let ai = Genkit::builder()
        .plugin(GoogleAi::new("test-key").with_base_url(gemini.base_url()))
        .model("googleai/gemini-2.0-flash")
        .build()
        .await
        .expect("genkit");
    let (tx, dropped) = mpsc::unbounded_channel();
    let tx = Arc::new(Mutex::new(tx));
    ai.define_flow(
        "hang",
        move |_ai: Genkit, _input: Value, cx: FlowContext| {
            let guard = DropSignal(tx.lock().unwrap_or_else(|e| e.into_inner()).clone());
            async move {
                let _guard = guard;
                cx.send_chunk("started").await?;
                std::future::pending::<()>().await;
                Ok::<_, Error>(String::new())
            }
        },
    )
    .expect("hang flow");
    let my_agent = ai
        .define_agent("myAgent")
        .system("You are a helpful assistant.")
        .store(InMemorySessionStore::new())
        .build()
        .expect("myAgent");
    let notes = ai.define_agent("notes").build().expect("notes");
    // An agent on a slow model (its own instance and model server), to abort mid-turn.
    let slow_gemini = LocalGemini::start().await.expect("local gemini");
    slow_gemini.set_latency(Duration::from_secs(5));
    let slow_ai = Genkit::builder()
        .plugin(GoogleAi::new("test-key").with_base_url(slow_gemini.base_url()))
        .model("googleai/gemini-2.0-flash")
        .without_submitted_actions()
        .build()
        .await
        .expect("genkit");
    let slow = slow_ai
        .define_agent("slowAgent")
        .store(InMemorySessionStore::new())
        .abort_poll_interval(Duration::from_millis(20))
        .build()
        .expect("slowAgent");
    let secure = Router::new()
        .merge(flows(&ai))
        .merge(agent_with(
            my_agent.clone(),
            "/myAgent",
            ServeOptions::new(),
        ))
        .layer(ContextLayer::new(api_key("Bearer k")));
    let app = Router::new()
        .route(
            "/research",
            post(genkit::axum::flow(research_flow::action())),
        )
        .merge(flows(&ai))
        .merge(agent(my_agent))
        .merge(agent(notes))
        .merge(agent(slow))
        .nest("/secure", secure)
        .with_state(ai);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = genkit::axum::axum::serve(listener, app).await;
    });
    Server {
        url,
        gemini,
        dropped,
        _slow_gemini: slow_gemini,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_js_client_runs_streams_and_is_refused_as_genkit_js_would_be() {
    let mut server = start().await;
    let lines = run_node("flows.cjs", &server.url).await;
    for check in [
        "run_flow",
        "stream_flow",
        "bad_input",
        "internal_error",
        "auth",
        "disconnect",
        "concurrent",
    ] {
        assert!(
            lines.contains(&format!("ok {check}")),
            "missing `ok {check}` in {lines:?}"
        );
    }
    // The aborted stream dropped the flow's run.
    let dropped = tokio::time::timeout(Duration::from_secs(10), server.dropped.recv()).await;
    assert_eq!(dropped, Ok(Some(())), "the aborted run was not cancelled");
    // Every answer came from a real 2-turn tool loop against the model server (24
    // answered calls); refused and bad-input calls made no model call.
    assert_eq!(server.gemini.requests().len(), 2 * 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_js_remote_agent_chats_reads_snapshots_and_aborts() {
    let server = start().await;
    let lines = run_node("agent.cjs", &server.url).await;
    for check in [
        "two_turns",
        "get_snapshot",
        "stream_turn",
        "abort",
        "client_state",
        "auth",
    ] {
        assert!(
            lines.contains(&format!("ok {check}")),
            "missing `ok {check}` in {lines:?}"
        );
    }
    // The second turn's model call carried the first turn (server-managed history), and
    // so did the client-managed one.
    let texts: Vec<String> = server
        .gemini
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("My name is Ada.") && t.contains("What is my name?"))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Remember: blue.") && t.contains("Which colour?"))
    );
}
