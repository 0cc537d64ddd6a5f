//! Our client against a server built with the official MCP Python SDK
//! (`tests/py/server.py`), over stdio and Streamable HTTP.

mod common;

use std::time::Duration;

use genkit_core::{Status, ToolContext, ToolRef};
use genkit_mcp::{McpHost, McpServerConfig, ServerStatus};
use serde_json::{Value, json};

fn stdio_config() -> McpServerConfig {
    McpServerConfig::stdio(common::python())
        .args([
            common::fixture("py/server.py").into_os_string(),
            "stdio".into(),
        ])
        .env("PYTHONUNBUFFERED", "1")
}

async fn stdio_host() -> McpHost {
    McpHost::builder()
        .server("py", stdio_config())
        .connect()
        .await
        .expect("connects to the Python server")
}

fn find<'a>(tools: &'a [ToolRef], name: &str) -> &'a ToolRef {
    tools.iter().find(|t| t.name() == name).unwrap_or_else(|| {
        panic!(
            "no tool {name} in {:?}",
            tools.iter().map(|t| t.name()).collect::<Vec<_>>()
        )
    })
}

async fn call(tool: &ToolRef, input: Value) -> genkit_core::Result<Value> {
    tool.call(input, ToolContext::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_tools_schemas_results_and_errors() {
    let mcp = stdio_host().await;
    match &mcp.status()[0].1 {
        ServerStatus::Connected {
            server_name,
            protocol_version,
        } => {
            assert_eq!(server_name, "py-fixture");
            assert!(!protocol_version.is_empty());
        }
        other => panic!("not connected: {other:?}"),
    }

    let tools = mcp.tools().await.unwrap();
    let search = find(&tools, "py/web_search");
    // The model sees the short name, the server's description and its JSON schema.
    let def = search.definition();
    assert_eq!(def.name, "web_search");
    assert_eq!(def.description, "Search the web for a query.");
    let schema = def.input_schema.as_ref().expect("input schema");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["query"]["type"], "string");
    assert_eq!(schema["required"], json!(["query"]));

    // The server's structuredContent (Python wraps a string as `result`) is the
    // output, as Genkit JS 1.42 makes it; the raw result is available too.
    assert_eq!(
        call(search, json!({"query": "Rust"})).await.unwrap(),
        json!({"result": "Python results for: Rust"})
    );
    let add = find(&tools, "py/add");
    let sum = call(add, json!({"a": 2, "b": 40})).await.unwrap();
    assert_eq!(sum["sum"], 42, "{sum}");

    // A failing tool is an `isError` result: the model reads `{"error": text}`.
    let broken = find(&tools, "py/broken");
    let out = call(broken, json!({"reason": "test"})).await.unwrap();
    let text = out["error"].as_str().expect("an error text");
    assert!(text.contains("broken on purpose: test"), "{out}");

    // Arguments the server's schema rejects: also reported to the model.
    let out = call(add, json!({"a": "x"})).await.unwrap();
    assert!(out.get("error").is_some(), "{out}");

    // Input that is not an object never reaches the server.
    let err = call(search, json!("Rust")).await.unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);

    // A server name that was not configured.
    let Err(err) = mcp.server_tools("nope").await else {
        panic!("an unknown server has tools")
    };
    assert_eq!(err.status(), Status::NotFound);

    mcp.close().await;
    assert_eq!(mcp.status()[0].1, ServerStatus::ShutDown);
    let err = call(search, json!({"query": "x"})).await.unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_resources_and_prompts() {
    let mcp = stdio_host().await;
    let resources = mcp.list_resources().await.unwrap();
    let greeting = resources
        .iter()
        .find(|r| r.name == "greeting")
        .expect("the greeting resource");
    assert_eq!(greeting.server, "py");
    assert_eq!(greeting.uri, "fixture://greeting");
    assert_eq!(greeting.mime_type.as_deref(), Some("text/plain"));
    let parts = mcp.read_resource("py", &greeting.uri).await.unwrap();
    assert_eq!(genkit_core::text_of(&parts), "Hello from Python");
    let err = mcp
        .read_resource("py", "fixture://missing")
        .await
        .unwrap_err();
    assert_ne!(err.status(), Status::Ok);

    let prompts = mcp.list_prompts().await.unwrap();
    let summarize = prompts.iter().find(|p| p.name == "summarize").unwrap();
    assert_eq!(summarize.arguments[0].name, "topic");
    assert!(summarize.arguments[0].required);
    let messages = mcp
        .get_prompt("py", "summarize", [("topic", "Rust")])
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].role, genkit_core::Role::User);
    assert_eq!(messages[0].text(), "Summarize Rust in one line.");
    mcp.close().await;

    // With raw responses, a tool's output is the `tools/call` result as it came.
    let raw = McpHost::builder()
        .server("py", stdio_config())
        .raw_tool_responses()
        .build()
        .unwrap();
    let tools = raw.server_tools("py").await.unwrap();
    let out = call(find(&tools, "py/web_search"), json!({"query": "raw"}))
        .await
        .unwrap();
    assert_eq!(
        out["content"][0]["text"], "Python results for: raw",
        "{out}"
    );
    assert_eq!(
        out["structuredContent"]["result"],
        "Python results for: raw"
    );
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_list_changed_refreshes_the_tools() {
    let mcp = stdio_host().await;
    let before = mcp.tools().await.unwrap();
    assert!(before.iter().all(|t| t.name() != "py/late"));
    let out = call(find(&before, "py/add_late_tool"), json!({}))
        .await
        .unwrap();
    assert_eq!(out["result"], "added");
    // The notification is processed by the connection's task: wait for it.
    let mut after = Vec::new();
    for _ in 0..100 {
        after = mcp.tools().await.unwrap();
        if after.iter().any(|t| t.name() == "py/late") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let late = find(&after, "py/late");
    assert_eq!(
        call(late, json!({"word": "tool"})).await.unwrap()["result"],
        "late tool"
    );
    mcp.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_crash_is_reported_and_restarted_on_the_next_call() {
    let mcp = stdio_host().await;
    let tools = mcp.tools().await.unwrap();
    let pid = find(&tools, "py/pid");
    let first = call(pid, json!({})).await.unwrap();

    let err = call(find(&tools, "py/crash"), json!({})).await.unwrap_err();
    assert_eq!(err.status(), Status::Unavailable, "{err}");
    assert!(err.message().contains("'py'"), "{err}");
    assert!(
        matches!(mcp.status()[0].1, ServerStatus::Disconnected { .. }),
        "{:?}",
        mcp.status()
    );

    // The same tool value works again: the server was started anew.
    let second = call(pid, json!({})).await.unwrap();
    let (first, second) = (&first["result"], &second["result"]);
    assert!(
        first.as_u64().is_some() && second.as_u64().is_some(),
        "{first} {second}"
    );
    assert_ne!(first, second, "a new process answers");
    assert!(matches!(mcp.status()[0].1, ServerStatus::Connected { .. }));
    mcp.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_does_not_exist_is_unavailable() {
    let err = McpHost::builder()
        .server("ghost", McpServerConfig::stdio("/nonexistent/mcp-server"))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::Unavailable);
    assert!(err.message().contains("'ghost'"), "{err}");
}

async fn python_http_server(token: &str) -> (common::Child, u16) {
    let port = common::free_port();
    let child = tokio::process::Command::new(common::python())
        .arg(common::fixture("py/server.py"))
        .args(["http", &port.to_string(), token])
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    common::wait_for_port(port).await;
    (common::Child(child), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_with_auth_header_alongside_stdio() {
    let (_server, port) = python_http_server("s3cret-token").await;
    let url = format!("http://127.0.0.1:{port}/mcp");

    // Without the header: the server answers 401 and we cannot connect.
    let err = McpHost::builder()
        .server("remote", McpServerConfig::http(&url))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::Unavailable, "{err}");
    assert!(!err.to_string().contains("s3cret-token"));

    // Two servers at once, each under its name.
    let mcp = McpHost::builder()
        .server(
            "remote",
            McpServerConfig::http(&url).header("Authorization", "Bearer s3cret-token"),
        )
        .server("local", stdio_config())
        .connect()
        .await
        .expect("connects with the header");
    assert_eq!(mcp.servers(), ["remote", "local"]);
    let tools = mcp.tools().await.unwrap();
    let remote = find(&tools, "remote/web_search");
    let local = find(&tools, "local/web_search");
    assert_eq!(
        call(remote, json!({"query": "http"})).await.unwrap()["result"],
        "Python results for: http"
    );
    assert_eq!(
        call(local, json!({"query": "stdio"})).await.unwrap()["result"],
        "Python results for: stdio"
    );
    let sum = call(find(&tools, "remote/add"), json!({"a": 1, "b": 2}))
        .await
        .unwrap();
    assert_eq!(sum["sum"], 3);
    let parts = mcp
        .read_resource("remote", "fixture://greeting")
        .await
        .unwrap();
    assert_eq!(genkit_core::text_of(&parts), "Hello from Python");
    mcp.close().await;
}
