//! The server: the program's tools and flows as MCP tools, over stdio or Streamable HTTP.

mod handler;
mod listing;

use std::sync::{Arc, OnceLock};

use genkit_core::{Error, Genkit, Result};
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use handler::Handler;
use listing::Listing;

/// Serves a Genkit instance's tools, and its flows as tools, to MCP clients (Genkit
/// JS's `createMcpServer`). Each call runs the action as `ai.run_action` does: traced,
/// with its input checked against its schema.
///
/// ```no_run
/// use axum::Router;
/// use genkit_mcp::McpServer;
/// # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
/// // over this process's stdin and stdout, until the client closes them:
/// McpServer::new(&ai).name("research").serve_stdio().await?;
/// // or at /mcp on your Router, behind your own layers (auth, CORS, …):
/// let app: Router = Router::new().nest_service("/mcp", McpServer::new(&ai).http_service());
/// # Ok(()) }
/// ```
///
/// - Tools are listed under the name models see (the part after the last `/`) and
///   flows under their name, with their input schemas and descriptions. An input that
///   is not a JSON object (a flow taking a string) is the argument `input`.
/// - A result is one text block: a string as it is, anything else as JSON (plus
///   `structuredContent` when it is an object). A failing action is an `isError`
///   result whose text is `STATUS: message`, so the model can read it; an unknown tool
///   is a JSON-RPC error.
/// - Over HTTP, the context a `genkit::axum::ContextLayer` put on the request is the
///   action's context (`ToolContext::context`, `FlowContext::context`).
#[derive(Clone)]
#[must_use]
pub struct McpServer {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) ai: Genkit,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) instructions: Option<String>,
    flows: bool,
    only: Option<Vec<String>>,
    listing: OnceLock<Listing>,
    allowed_hosts: Option<Vec<String>>,
}

impl Inner {
    /// The actions served, resolved at the first request (so actions registered
    /// after the server was made are included).
    pub(crate) fn listing(&self) -> &Listing {
        self.listing
            .get_or_init(|| Listing::of(&self.ai, self.flows, self.only.as_deref()))
    }
}

impl McpServer {
    /// A server for every tool and flow registered in `ai`.
    pub fn new(ai: &Genkit) -> Self {
        McpServer {
            inner: Arc::new(Inner {
                ai: ai.clone(),
                name: "genkit".into(),
                version: "1.0.0".into(),
                instructions: None,
                flows: true,
                only: None,
                listing: OnceLock::new(),
                allowed_hosts: None,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => f(inner),
            None => {
                let i = &self.inner;
                let mut copy = Inner {
                    ai: i.ai.clone(),
                    name: i.name.clone(),
                    version: i.version.clone(),
                    instructions: i.instructions.clone(),
                    flows: i.flows,
                    only: i.only.clone(),
                    listing: OnceLock::new(),
                    allowed_hosts: i.allowed_hosts.clone(),
                };
                f(&mut copy);
                self.inner = Arc::new(copy);
            }
        }
        self
    }

    /// The server name sent in `initialize` (default `genkit`).
    pub fn name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.edit(|i| i.name = name)
    }

    /// The server version sent in `initialize` (default `1.0.0`).
    pub fn version(self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.edit(|i| i.version = version)
    }

    /// Instructions for the client's model, sent in `initialize`.
    pub fn instructions(self, instructions: impl Into<String>) -> Self {
        let instructions = instructions.into();
        self.edit(|i| i.instructions = Some(instructions))
    }

    /// Serve tools only, not flows.
    pub fn without_flows(self) -> Self {
        self.edit(|i| i.flows = false)
    }

    /// Serve only these actions, by their registered names (`web_search`,
    /// `research_flow`); a name that matches nothing is logged when the list is made.
    pub fn only<I, S>(self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names = names.into_iter().map(Into::into).collect();
        self.edit(|i| i.only = Some(names))
    }

    /// The `Host` header values the HTTP service accepts (its protection against DNS
    /// rebinding). Default: `localhost`, `127.0.0.1`, `::1`; add your public host name
    /// when serving beyond this machine. An empty list accepts any host.
    pub fn allowed_hosts<I, S>(self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let hosts = hosts.into_iter().map(Into::into).collect();
        self.edit(|i| i.allowed_hosts = Some(hosts))
    }

    /// Serves over this process's stdin and stdout until the client closes them
    /// (stdout then carries only MCP messages: log to stderr).
    pub async fn serve_stdio(&self) -> Result<()> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout()).await
    }

    /// Serves over any byte stream pair (a pipe, a socket) until it closes.
    pub async fn serve_io<R, W>(&self, read: R, write: W) -> Result<()>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let running = Handler::new(self.inner.clone())
            .serve((read, write))
            .await
            .map_err(|e| Error::unavailable(format!("MCP initialization failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| Error::internal(format!("MCP server task failed: {e}")))?;
        Ok(())
    }

    /// The Streamable HTTP endpoint as a tower service: mount it on your axum Router
    /// with `.nest_service("/mcp", …)` or `.route_service("/mcp", …)`, behind your
    /// layers. Sessions are kept in memory and end after a period without requests.
    pub fn http_service(
        &self,
    ) -> StreamableHttpService<impl rmcp::ServerHandler, LocalSessionManager> {
        let inner = self.inner.clone();
        let mut config = StreamableHttpServerConfig::default();
        if let Some(hosts) = &self.inner.allowed_hosts {
            config = config.with_allowed_hosts(hosts.clone());
        }
        StreamableHttpService::new(
            move || Ok(Handler::new(inner.clone())),
            Arc::new(LocalSessionManager::default()),
            config,
        )
    }
}
