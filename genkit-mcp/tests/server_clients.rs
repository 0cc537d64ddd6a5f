//! Our server called by real clients: the official MCP Python SDK's (over stdio and
//! Streamable HTTP) and Genkit JS's `@genkit-ai/mcp` (over Streamable HTTP), with the
//! endpoint mounted on an axum Router behind genkit-axum's API-key layer.

mod common;

use std::process::Stdio;
use std::sync::Arc;

use genkit_axum::{ContextLayer, api_key};
use genkit_core::{Error, FlowAction, Genkit, Status};
use genkit_mcp::McpServer;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const TOKEN: &str = "mcp-test-token";

#[derive(Deserialize, JsonSchema)]
struct SearchInput {
    /// What to search for.
    query: String,
}

async fn genkit() -> Genkit {
    let ai = Genkit::builder()
        .without_submitted_actions()
        .build()
        .await
        .unwrap();
    ai.define_tool(
        "web_search",
        "Search the web for a query.",
        |i: SearchInput, _| async move { Ok::<_, Error>(format!("Rust results for: {}", i.query)) },
    )
    .unwrap();
    ai.define_tool(
        "failing_tool",
        "Always fails.",
        |_: SearchInput, _| async move {
            Err::<String, _>(Error::new(
                Status::PermissionDenied,
                "no access to the index",
            ))
        },
    )
    .unwrap();
    ai.define_tool(
        "whoami",
        "The caller's context.",
        |_: SearchInput, cx| async move {
            Ok::<_, Error>(cx.context().cloned().unwrap_or(json!({"anonymous": true})))
        },
    )
    .unwrap();
    let shout = FlowAction::new("shout", |_ai, s: String, _cx| async move {
        Ok::<_, Error>(s.to_uppercase())
    })
    .with_description("Shouts the text.");
    ai.registry().register_flow(Arc::new(shout)).unwrap();
    ai
}

/// Serves `ai` over MCP at /mcp on 127.0.0.1, behind an API-key layer.
async fn serve_http(ai: &Genkit) -> String {
    let app = axum::Router::new()
        .nest_service("/mcp", McpServer::new(ai).name("rs-test").http_service())
        .layer(ContextLayer::new(api_key(format!("Bearer {TOKEN}"))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{}/mcp", addr.port())
}

fn assert_python_report(r: &Value) {
    assert_eq!(r["server"], "rs-test", "{r}");
    assert_eq!(r["hasTools"], true);
    let tools = &r["tools"];
    assert_eq!(
        tools["web_search"]["description"],
        "Search the web for a query."
    );
    let schema = &tools["web_search"]["inputSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["query"]["type"], "string");
    assert_eq!(schema["required"], json!(["query"]));
    // A flow is a tool; its string input is the argument `input`.
    assert_eq!(tools["shout"]["description"], "Shouts the text.");
    assert_eq!(tools["shout"]["inputSchema"]["required"], json!(["input"]));

    assert_eq!(r["search"]["isError"], false);
    assert_eq!(r["search"]["text"], "Rust results for: from python");
    assert_eq!(r["shout"]["text"], "HI");
    // The action's failure is a result the model can read, with its status.
    assert_eq!(r["failing"]["isError"], true);
    assert_eq!(
        r["failing"]["text"],
        "PERMISSION_DENIED: no access to the index"
    );
    // Input that does not fit the schema, too.
    assert_eq!(r["badInput"]["isError"], true);
    assert!(
        r["badInput"]["text"]
            .as_str()
            .unwrap()
            .starts_with("INVALID_ARGUMENT"),
        "{}",
        r["badInput"]
    );
    // An unknown tool is a protocol error.
    assert!(
        r["unknown"].as_str().unwrap().contains("no_such_tool"),
        "{}",
        r["unknown"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_over_stdio() {
    common::spans::collect();
    let ai = genkit().await;
    let report = tempfile("py-stdio");
    let mut child = tokio::process::Command::new(common::python())
        .arg(common::fixture("py/client.py"))
        .arg(&report)
        .arg("stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (stdout, stdin) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    // Our server on the other ends of the client's stdin and stdout.
    McpServer::new(&ai)
        .name("rs-test")
        .serve_io(stdout, stdin)
        .await
        .expect("serves until the client leaves");
    assert!(child.wait().await.unwrap().success());
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_python_report(&r);
    // Over stdio there is no request context.
    assert_eq!(r["whoami"]["structured"], json!({"anonymous": true}));

    // Each call ran as a traced action.
    let spans = common::spans::with_path("{web_search,t:action");
    let ok = spans
        .iter()
        .find(|s| {
            s.get("genkit:output")
                .is_some_and(|o| o.contains("from python"))
        })
        .unwrap_or_else(|| panic!("no traced web_search call: {spans:?}"));
    assert_eq!(ok["genkit:state"], "success");
    let flows = common::spans::with_path("{shout,t:flow}");
    assert!(
        flows
            .iter()
            .any(|s| s.get("genkit:output").is_some_and(|o| o == "\"HI\"")),
        "{flows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_over_http_with_auth() {
    let ai = genkit().await;
    let url = serve_http(&ai).await;
    let report = tempfile("py-http");
    let status = tokio::process::Command::new(common::python())
        .arg(common::fixture("py/client.py"))
        .arg(&report)
        .args(["http", &url, TOKEN])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_python_report(&r);
    // The API-key layer's context reached the tool.
    assert_eq!(
        r["whoami"]["structured"],
        json!({"auth": {"apiKey": format!("Bearer {TOKEN}")}})
    );

    // A wrong key never reaches the MCP endpoint.
    let status = tokio::process::Command::new(common::python())
        .arg(common::fixture("py/client.py"))
        .arg(tempfile("py-http-bad"))
        .args(["http", &url, "wrong"])
        .stderr(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(!status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genkit_js_mcp_client_over_http() {
    let ai = genkit().await;
    let url = serve_http(&ai).await;
    let node_dir =
        genkit_testkit::npm_packages(&["@genkit-ai/mcp@1.42.0", genkit_testkit::GENKIT_JS]);
    let script = node_dir.join("mcp-client.mjs");
    std::fs::copy(common::fixture("js/client.mjs"), &script).unwrap();
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .args([url.as_str(), TOKEN])
        .current_dir(&node_dir)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node failed: {stderr}");
    let r: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));

    // Genkit JS names them {server}/{tool}, with our schemas and descriptions.
    let tools = &r["tools"];
    assert_eq!(
        tools["rs/web_search"]["description"],
        "Search the web for a query."
    );
    assert_eq!(
        tools["rs/web_search"]["inputSchema"]["properties"]["query"]["type"],
        "string"
    );
    assert_eq!(tools["rs/shout"]["description"], "Shouts the text.");
    assert_eq!(r["search"], "Rust results for: from js");
    assert_eq!(r["shout"], "HI");
    // Our isError result is what Genkit JS hands its model: {"error": text}.
    assert_eq!(
        r["failing"],
        json!({"error": "PERMISSION_DENIED: no access to the index"})
    );
    assert_eq!(
        r["whoami"],
        json!({"auth": {"apiKey": format!("Bearer {TOKEN}")}})
    );
}

fn tempfile(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("genkit-mcp-{name}-{}.json", std::process::id()))
}
