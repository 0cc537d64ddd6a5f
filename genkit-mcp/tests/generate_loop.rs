//! A model (the local Gemini look-alike, which calls the declared tool that fits the
//! prompt) calls an MCP tool of a Python SDK server inside the generate loop; the
//! trace shows the tool span under generate.

mod common;

use genkit_core::{Genkit, ToolRef};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;
use genkit_mcp::{McpHost, McpServerConfig};

async fn setup() -> (LocalGemini, Genkit, McpHost) {
    common::spans::collect();
    let gemini = LocalGemini::start().await.unwrap();
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(GoogleAi::new("test-key").with_base_url(gemini.base_url()))
        .model("googleai/gemini-2.0-flash")
        .build()
        .await
        .unwrap();
    let mcp = McpHost::builder()
        .server(
            "py",
            McpServerConfig::stdio(common::python()).args([
                common::fixture("py/server.py").into_os_string(),
                "stdio".into(),
            ]),
        )
        .connect()
        .await
        .unwrap();
    (gemini, ai, mcp)
}

fn only(tools: Vec<ToolRef>, name: &str) -> Vec<ToolRef> {
    tools.into_iter().filter(|t| t.name() == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_calls_an_mcp_tool_and_the_trace_shows_it() {
    let (gemini, ai, mcp) = setup().await;
    let tools = only(mcp.tools().await.unwrap(), "py/web_search");
    assert_eq!(tools.len(), 1);
    let response = ai
        .generate()
        .prompt("Search the web: Rust MCP")
        .tools(tools)
        .await
        .unwrap();
    assert_eq!(
        response.text(),
        r#"Based on web_search: {"result":"Python results for: Rust MCP"}"#,
        "the server's structuredContent is the tool's output, as in Genkit JS"
    );
    // The model was offered the server's schema, under the short name.
    let first = &gemini.requests()[0];
    let body = first.body.to_string();
    assert!(body.contains("\"web_search\""), "{body}");
    assert!(body.contains("Search the web for a query."), "{body}");

    // generate → tool span for py/web_search, with its input and the server's output.
    let spans = common::spans::with_path("{py/web_search,t:action,s:tool}");
    let span = spans
        .iter()
        .find(|s| {
            s.get("genkit:input")
                .is_some_and(|i| i.contains("Rust MCP"))
        })
        .unwrap_or_else(|| panic!("no tool span: {spans:?}"));
    assert!(
        span["genkit:path"].starts_with("/{generate,t:util}"),
        "{span:?}"
    );
    assert_eq!(span["genkit:name"], "py/web_search");
    assert_eq!(span["genkit:state"], "success");
    assert!(
        span["genkit:output"].contains("Python results for: Rust MCP"),
        "{span:?}"
    );
    mcp.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_mcp_tools_are_usable_by_name() {
    let (_gemini, ai, mcp) = setup().await;
    let names = mcp.register_tools(&ai).await.unwrap();
    assert!(names.iter().any(|n| n == "py/web_search"), "{names:?}");
    // Registering again leaves them as they are.
    assert_eq!(mcp.register_tools(&ai).await.unwrap(), names);
    let response = ai
        .generate()
        .prompt("Search the web: by name")
        .tools(["py/web_search"])
        .await
        .unwrap();
    assert_eq!(
        response.text(),
        r#"Based on web_search: {"result":"Python results for: by name"}"#
    );
    // …and by key, as the Dev UI runs them.
    let out = ai
        .run_action(
            "/tool/py/web_search",
            serde_json::json!({"query": "dev ui"}),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(out["result"], "Python results for: dev ui");
    mcp.close().await;
}
