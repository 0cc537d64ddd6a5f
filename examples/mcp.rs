//! MCP both ways: the research flow's `web_search` comes from an MCP server, and the
//! program serves its own tools and flows over MCP.
//!
//! `cargo run --example mcp --features mcp`:
//! 1. starts this same binary as an MCP server over stdio (`mcp serve-search`: it
//!    serves `web_search` and nothing else), and connects to it as server `search`;
//! 2. runs `research_flow`, whose model calls `search/web_search` through MCP;
//! 3. serves the program's `web_search` and `research_flow` at
//!    `http://127.0.0.1:$PORT/mcp` (default 3401) behind an API key, and calls
//!    `research_flow` there with an MCP client, as Claude Desktop, Cursor or Genkit JS
//!    would. With `--keep-serving` it then stays up for other clients.
//!
//! Models: Gemini when `GEMINI_API_KEY` is set, else a local Gemini-compatible server
//! in this process. Nothing else needs to be installed.

use genkit::axum::axum::Router;
use genkit::axum::axum::serve::Listener as _;
use genkit::axum::{ContextLayer, api_key};
use genkit::googleai::GoogleAi;
use genkit::mcp::{McpHost, McpServer, McpServerConfig};
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

/// Researches a topic with the web_search tool of the MCP server `search`.
#[genkit::flow]
async fn research_flow(ai: &Genkit, input: SearchInput, cx: FlowContext) -> Result<String> {
    let call = ai
        .generate()
        .prompt(format!("Research: {}", input.query))
        .tools(["search/web_search"]); // registered from the MCP server below
    Ok(cx.forward(call).await?.text())
}

#[tokio::main]
async fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some("serve-search") {
        // The MCP server side: stdout carries MCP messages only.
        let ai = Genkit::builder().build().await?;
        return McpServer::new(&ai)
            .name("search")
            .only(["web_search"])
            .serve_stdio()
            .await;
    }

    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;

    // 1. An MCP server over stdio: this binary, started again in server mode.
    let exe = std::env::current_exe()?;
    let mcp = McpHost::builder()
        .server(
            "search",
            // Not a second dev-mode runtime under `genkit start`.
            McpServerConfig::stdio(exe)
                .args(["serve-search"])
                .env("GENKIT_ENV", "prod"),
        )
        .connect()
        .await?;
    let names = mcp.register_tools(&ai).await?;
    eprintln!("tools from MCP: {names:?}");

    // 2. The research flow; its model calls search/web_search over MCP.
    let report = research_flow(
        &ai,
        SearchInput {
            query: "Rust".into(),
        },
    )
    .await?;
    println!("research_flow: {report}");

    // 3. The program's own tools and flows over MCP, on an axum Router behind an API key.
    let key = std::env::var("APP_API_KEY").unwrap_or_else(|_| "local-dev-key".into());
    let server = McpServer::new(&ai)
        .name("research")
        .only(["web_search", "research_flow"]);
    let app = Router::new()
        .nest_service("/mcp", server.http_service())
        .layer(ContextLayer::new(api_key(format!("Bearer {key}"))));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3401".into());
    let listener = genkit::axum::bind(&format!("127.0.0.1:{port}")).await?;
    let url = format!("http://{}/mcp", listener.local_addr()?);
    let serving = tokio::spawn(async move { genkit::axum::axum::serve(listener, app).await });
    eprintln!("serving MCP at {url}");

    // Call it as any MCP client would.
    let client = McpHost::builder()
        .server(
            "research",
            McpServerConfig::http(&url).header("Authorization", format!("Bearer {key}")),
        )
        .connect()
        .await?;
    for tool in client.tools().await? {
        eprintln!("served over MCP: {}", tool.name());
    }
    let flow = client
        .server_tools("research")
        .await?
        .into_iter()
        .find(|t| t.name() == "research/research_flow")
        .ok_or_else(|| Error::not_found("research_flow is not served"))?;
    let answer = flow
        .call(json!({"query": "MCP"}), ToolContext::default())
        .await?;
    let answer = answer
        .as_str()
        .map_or_else(|| answer.to_string(), str::to_string);
    println!("research_flow over MCP: {answer}");
    client.close().await;

    if std::env::args().any(|a| a == "--keep-serving") {
        eprintln!("serving until Ctrl-C");
        let _ = serving.await;
    }
    mcp.close().await;
    Ok(())
}
