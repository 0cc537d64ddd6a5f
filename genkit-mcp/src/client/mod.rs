//! The client: several MCP servers, each under a name, whose tools become Genkit tools.

mod config;
mod connection;
mod content;
mod tools;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::future::join_all;
use genkit_core::{Genkit, Message, Part, Result, ToolRef};
use rmcp::model::{
    GetPromptRequestParams, Implementation, ReadResourceRequestParams, ServerCapabilities,
};
use rmcp::{Peer, RoleClient, ServiceError};
use serde_json::{Map, Value};

pub use config::McpServerConfig;
pub use connection::ServerStatus;
pub use content::{McpPrompt, McpPromptArgument, McpResource};

use crate::error::McpError;
use connection::Server;

/// Connections to several MCP servers, each under a name (Genkit JS's `createMcpHost`).
/// Their tools are Genkit tools named `{server}/{tool}`:
///
/// ```no_run
/// use genkit_mcp::{McpHost, McpServerConfig};
/// # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
/// let mcp = McpHost::builder()
///     .server("fs", McpServerConfig::stdio("npx").args(["-y", "@modelcontextprotocol/server-filesystem", "."]))
///     .server("search", McpServerConfig::http("http://127.0.0.1:3000/mcp").header("Authorization", "Bearer s3cret"))
///     .connect()
///     .await?;
/// let response = ai.generate().prompt("What is in README.md?").tools(mcp.tools().await?).await?;
/// mcp.register_tools(&ai).await?;                         // now also by name:
/// let response = ai.generate().prompt("Search Rust").tools(["search/web_search"]).await?;
/// mcp.close().await;
/// # Ok(()) }
/// ```
///
/// Cheap to clone. Tools keep their server alive: one that has exited is started again
/// on the next call. A `notifications/tools/list_changed` makes the next
/// [`tools`](McpHost::tools) list them again.
#[derive(Clone)]
pub struct McpHost {
    inner: Arc<Inner>,
}

struct Inner {
    servers: Vec<Entry>,
    raw: bool,
}

struct Entry {
    server: Arc<Server>,
    /// The tools of the last listing and the generation they were listed at.
    tools: std::sync::Mutex<Option<(u64, Arc<[ToolRef]>)>>,
}

/// Builds an [`McpHost`].
#[must_use]
pub struct McpHostBuilder {
    name: String,
    version: String,
    servers: Vec<(String, McpServerConfig)>,
    raw: bool,
}

impl McpHostBuilder {
    /// The client name sent to servers in `initialize` (default `genkit-mcp`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The client version sent to servers (default `1.0.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Adds a server under `name`: its tools are `{name}/{tool}`.
    pub fn server(mut self, name: impl Into<String>, config: McpServerConfig) -> Self {
        self.servers.push((name.into(), config));
        self
    }

    /// Tools return the server's `tools/call` result as it is (`{content, isError,
    /// structuredContent}`) instead of Genkit's simplification of it.
    pub fn raw_tool_responses(mut self) -> Self {
        self.raw = true;
        self
    }

    /// Connects to every server at once (`initialize`, capabilities). The first that
    /// cannot be reached is the error (UNAVAILABLE, naming it); the others are closed.
    pub async fn connect(self) -> Result<McpHost> {
        let host = self.build()?;
        let results = join_all(host.inner.servers.iter().map(|e| e.server.peer())).await;
        if let Some(err) = results.into_iter().find_map(Result::err) {
            host.close().await;
            return Err(err.into());
        }
        Ok(host)
    }

    /// The host without connecting: each server is connected on first use.
    pub fn build(self) -> Result<McpHost> {
        let client = Implementation::new(self.name, self.version);
        let mut servers: Vec<Entry> = Vec::with_capacity(self.servers.len());
        for (name, config) in self.servers {
            if name.is_empty() || name.contains('/') {
                return Err(McpError::Config {
                    server: name,
                    message: "a server name must be non-empty and have no '/'".into(),
                }
                .into());
            }
            if servers.iter().any(|e| *e.server.name == *name) {
                return Err(McpError::Config {
                    server: name,
                    message: "two servers have this name".into(),
                }
                .into());
            }
            servers.push(Entry {
                server: Arc::new(Server::new(&name, config, &client)),
                tools: std::sync::Mutex::new(None),
            });
        }
        Ok(McpHost {
            inner: Arc::new(Inner {
                servers,
                raw: self.raw,
            }),
        })
    }
}

impl McpHost {
    /// Starts configuring a host.
    pub fn builder() -> McpHostBuilder {
        McpHostBuilder {
            name: "genkit-mcp".into(),
            version: "1.0.0".into(),
            servers: Vec::new(),
            raw: false,
        }
    }

    fn entry(&self, server: &str) -> Result<&Entry> {
        self.inner
            .servers
            .iter()
            .find(|e| &*e.server.name == server)
            .ok_or_else(|| McpError::UnknownServer(server.to_string()).into())
    }

    /// The names of the configured servers, in the order they were added.
    pub fn servers(&self) -> Vec<&str> {
        self.inner.servers.iter().map(|e| &*e.server.name).collect()
    }

    /// What each server is doing.
    pub fn status(&self) -> Vec<(String, ServerStatus)> {
        self.inner
            .servers
            .iter()
            .map(|e| (e.server.name.to_string(), e.server.status()))
            .collect()
    }

    /// Every server's tools, as Genkit tools named `{server}/{tool}`: pass them to
    /// `.tools(..)` of a generate call or an agent. Listed once and kept until a server
    /// says its list changed (or reconnects).
    pub async fn tools(&self) -> Result<Vec<ToolRef>> {
        let lists = join_all(self.inner.servers.iter().map(|e| self.tools_of(e))).await;
        let mut all = Vec::new();
        for list in lists {
            all.extend(list?.iter().cloned());
        }
        Ok(all)
    }

    /// The tools of one server.
    pub async fn server_tools(&self, server: &str) -> Result<Vec<ToolRef>> {
        Ok(self.tools_of(self.entry(server)?).await?.to_vec())
    }

    async fn tools_of(&self, entry: &Entry) -> Result<Arc<[ToolRef]>> {
        let server = &entry.server;
        // Connect first: a (re)connection bumps the generation.
        server.peer().await?;
        let generation = server.generations.tools.load(Ordering::Acquire);
        if let Some((g, tools)) = &*entry.tools.lock().unwrap_or_else(|e| e.into_inner())
            && *g == generation
        {
            return Ok(tools.clone());
        }
        let listed = server
            .request(|peer| async move { peer.list_all_tools().await })
            .await?;
        let tools: Arc<[ToolRef]> = listed
            .iter()
            .map(|t| tools::tool_action(server, t, self.inner.raw))
            .collect();
        let mut cache = entry.tools.lock().unwrap_or_else(|e| e.into_inner());
        // A change notified while listing leaves the cache stale for the next call.
        *cache = Some((generation, tools.clone()));
        Ok(tools)
    }

    /// Registers every server's tools in `ai`'s registry, so generate calls, agents,
    /// `/util/generate` and the Dev UI can name them (`"search/web_search"`). Tools
    /// already registered under the same name are left as they are (call it again
    /// after a server's list changed to add its new tools). Returns the names.
    pub async fn register_tools(&self, ai: &Genkit) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for tool in self.tools().await? {
            let name = tool.name().to_string();
            if ai.registry().tool(&name).is_err() {
                ai.registry().register_tool(tool)?;
            }
            names.push(name);
        }
        Ok(names)
    }

    /// Every server's resources.
    pub async fn list_resources(&self) -> Result<Vec<McpResource>> {
        let items = self
            .list_each(
                |c| c.resources.is_some(),
                |peer| async move { peer.list_all_resources().await },
            )
            .await?;
        Ok(items
            .iter()
            .map(|(server, v)| content::resource(server, v))
            .collect())
    }

    /// Lists items of every server that declares the capability, as JSON, each with
    /// its server's name.
    async fn list_each<T, F, Fut>(
        &self,
        supports: fn(&ServerCapabilities) -> bool,
        list: F,
    ) -> Result<Vec<(Arc<str>, Value)>>
    where
        T: serde::Serialize,
        F: Fn(Peer<RoleClient>) -> Fut,
        Fut: Future<Output = Result<Vec<T>, ServiceError>>,
    {
        let mut all = Vec::new();
        for entry in &self.inner.servers {
            let server = &entry.server;
            let peer = server.peer().await?;
            if !peer.peer_info().is_some_and(|i| supports(&i.capabilities)) {
                continue;
            }
            for item in server.request(&list).await? {
                all.push((server.name.clone(), serde_json::to_value(&item)?));
            }
        }
        Ok(all)
    }

    /// Reads a resource of `server` as Genkit parts (text, or media with a `data:` URL).
    pub async fn read_resource(&self, server: &str, uri: &str) -> Result<Vec<Part>> {
        let server = &self.entry(server)?.server;
        let params = ReadResourceRequestParams::new(uri.to_string());
        let result = server
            .request(|peer| async move { peer.read_resource(params).await })
            .await?;
        let result = serde_json::to_value(result)?;
        let contents = result.get("contents").and_then(Value::as_array);
        contents
            .into_iter()
            .flatten()
            .map(content::resource_part)
            .collect()
    }

    /// Every server's prompts.
    pub async fn list_prompts(&self) -> Result<Vec<McpPrompt>> {
        let items = self
            .list_each(
                |c| c.prompts.is_some(),
                |peer| async move { peer.list_all_prompts().await },
            )
            .await?;
        Ok(items
            .iter()
            .map(|(server, v)| content::prompt(server, v))
            .collect())
    }

    /// Renders a prompt of `server` with string arguments, as Genkit messages
    /// (`assistant` → `model`), ready for `.messages(..)` of a generate call.
    pub async fn get_prompt<I, K, V>(
        &self,
        server: &str,
        name: &str,
        args: I,
    ) -> Result<Vec<Message>>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let server = &self.entry(server)?.server;
        let arguments: Map<String, Value> = args
            .into_iter()
            .map(|(k, v)| (k.into(), Value::String(v.into())))
            .collect();
        let mut params = GetPromptRequestParams::new(name.to_string());
        if !arguments.is_empty() {
            params.arguments = Some(arguments);
        }
        let result = server
            .request(|peer| async move { peer.get_prompt(params).await })
            .await?;
        let result = serde_json::to_value(result)?;
        let messages = result.get("messages").and_then(Value::as_array);
        messages
            .into_iter()
            .flatten()
            .map(content::prompt_message)
            .collect()
    }

    /// Shuts every server down: stdio servers get their stdin closed and are
    /// terminated if they do not exit; HTTP sessions are ended. Tools made from this
    /// host then fail FAILED_PRECONDITION.
    pub async fn close(&self) {
        join_all(self.inner.servers.iter().map(|e| e.server.shut_down())).await;
    }
}

impl std::fmt::Debug for McpHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHost")
            .field("servers", &self.status())
            .finish()
    }
}
