//! # genkit-mcp
//!
//! The [Model Context Protocol](https://modelcontextprotocol.io) for genkit-rs, on the
//! official Rust SDK ([`rmcp`]):
//!
//! - **Client** ([`McpHost`]): connect to MCP servers over stdio (a command to spawn)
//!   or Streamable HTTP (a URL with headers), several at once, each under a name.
//!   Their tools are Genkit tools named `{server}/{tool}` for `.tools(..)` of
//!   generate calls and agents — traced as tool spans like any other — and their
//!   resources and prompts are readable as Genkit parts and messages.
//! - **Server** ([`McpServer`]): serve the program's tools, and its flows as tools,
//!   over stdio or as an axum service on your Router.
//!
//! ```no_run
//! use genkit_mcp::{McpHost, McpServer, McpServerConfig};
//! # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
//! let mcp = McpHost::builder()
//!     .server("search", McpServerConfig::stdio("my-search-server"))
//!     .connect()
//!     .await?;
//! let answer = ai
//!     .generate()
//!     .prompt("What's new in Rust?")
//!     .tools(mcp.tools().await?)
//!     .await?;
//! println!("{}", answer.text());
//!
//! let app: axum::Router = axum::Router::new().nest_service("/mcp", McpServer::new(&ai).http_service());
//! # let _ = app;
//! # Ok(()) }
//! ```
//!
//! Not supported yet: sampling and elicitation requests from servers (they are
//! declined), roots, resource subscriptions, and serving resources and prompts.

#![warn(missing_docs)]

mod client;
mod error;
mod server;

pub use client::{
    McpHost, McpHostBuilder, McpPrompt, McpPromptArgument, McpResource, McpServerConfig,
    ServerStatus,
};
pub use error::McpError;
pub use server::McpServer;

/// The official MCP Rust SDK this crate is built on.
pub use rmcp;
