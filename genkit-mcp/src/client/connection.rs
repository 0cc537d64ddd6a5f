//! One configured server: its live connection (started on demand, restarted after it
//! ended), and the counters its list-changed notifications bump.

use std::collections::HashMap;
use std::future::Future;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceError, ServiceExt};

use super::config::{McpServerConfig, Transport};
use crate::error::McpError;

/// What a server is doing, as [`McpHost::status`](crate::McpHost::status) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerStatus {
    /// Not connected yet.
    Idle,
    /// Initialized.
    Connected {
        /// The name the server gave in `initialize`.
        server_name: String,
        /// The negotiated protocol version.
        protocol_version: String,
    },
    /// The connection ended (the process exited, the session ended) or could not be
    /// made; the next call reconnects.
    Disconnected {
        /// Why, as far as it is known.
        reason: String,
    },
    /// [`McpHost::close`](crate::McpHost::close) shut it down.
    ShutDown,
}

/// Generations of a server's lists: bumped by its list-changed notifications and by
/// every (re)connection, so a cached list is known to be stale.
#[derive(Default)]
pub(crate) struct Generations {
    pub(crate) tools: AtomicU64,
    pub(crate) prompts: AtomicU64,
    pub(crate) resources: AtomicU64,
}

impl Generations {
    fn bump_all(&self) {
        self.tools.fetch_add(1, Ordering::AcqRel);
        self.prompts.fetch_add(1, Ordering::AcqRel);
        self.resources.fetch_add(1, Ordering::AcqRel);
    }
}

/// The client side of one connection: answers the server's notifications.
struct Handler {
    info: ClientConfig,
    server: Arc<str>,
    generations: Arc<Generations>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    fn on_tool_list_changed(
        &self,
        _cx: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + Send + '_ {
        tracing::debug!(target: "genkit::mcp", server = %self.server, "tool list changed");
        self.generations.tools.fetch_add(1, Ordering::AcqRel);
        std::future::ready(())
    }

    fn on_prompt_list_changed(
        &self,
        _cx: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + Send + '_ {
        self.generations.prompts.fetch_add(1, Ordering::AcqRel);
        std::future::ready(())
    }

    fn on_resource_list_changed(
        &self,
        _cx: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + Send + '_ {
        self.generations.resources.fetch_add(1, Ordering::AcqRel);
        std::future::ready(())
    }
}

type Live = RunningService<RoleClient, Handler>;

/// One configured server. Shared by the host and by every tool made from it, so a
/// tool keeps working (reconnecting when needed) as long as it exists.
pub(crate) struct Server {
    pub(crate) name: Arc<str>,
    config: McpServerConfig,
    info: ClientConfig,
    live: tokio::sync::Mutex<Option<Live>>,
    pub(crate) generations: Arc<Generations>,
    status: std::sync::Mutex<ServerStatus>,
    shut_down: AtomicBool,
}

impl Server {
    pub(crate) fn new(name: &str, config: McpServerConfig, client: &Implementation) -> Self {
        // `initialize` as every released SDK speaks it; newer servers answer it too.
        let info = ClientConfig::new(ClientCapabilities::default(), client.clone())
            .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE);
        Server {
            name: Arc::from(name),
            config,
            info,
            live: tokio::sync::Mutex::new(None),
            generations: Arc::default(),
            status: std::sync::Mutex::new(ServerStatus::Idle),
            shut_down: AtomicBool::new(false),
        }
    }

    pub(crate) fn status(&self) -> ServerStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_status(&self, status: ServerStatus) {
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }

    /// The live connection's peer: connects first if there is none, and reconnects
    /// (reporting it) if the last one ended.
    pub(crate) async fn peer(&self) -> Result<Peer<RoleClient>, McpError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(McpError::ShutDown(self.name.to_string()));
        }
        let mut live = self.live.lock().await;
        if let Some(service) = live.as_ref() {
            if !service.is_closed() && !service.peer().is_transport_closed() {
                return Ok(service.peer().clone());
            }
            let what = if self.config.is_stdio() {
                "the MCP server process exited; starting it again"
            } else {
                "the MCP server closed the connection; reconnecting"
            };
            tracing::warn!(target: "genkit::mcp", server = %self.name, "{what}");
            *live = None;
        }
        let service = match tokio::time::timeout(self.config.timeout, self.connect()).await {
            Ok(Ok(service)) => service,
            Ok(Err(e)) => {
                self.set_status(ServerStatus::Disconnected {
                    reason: e.to_string(),
                });
                return Err(e);
            }
            Err(_) => {
                let e = McpError::Timeout {
                    server: self.name.to_string(),
                    timeout: self.config.timeout,
                };
                self.set_status(ServerStatus::Disconnected {
                    reason: e.to_string(),
                });
                return Err(e);
            }
        };
        let peer = service.peer().clone();
        if let Some(info) = peer.peer_info() {
            self.set_status(ServerStatus::Connected {
                server_name: info
                    .server_info
                    .as_ref()
                    .map(|i| i.name.clone())
                    .unwrap_or_default(),
                protocol_version: info.protocol_version.to_string(),
            });
        }
        *live = Some(service);
        // A new connection may list other tools than the last one did.
        self.generations.bump_all();
        Ok(peer)
    }

    /// Starts the transport and runs `initialize`.
    async fn connect(&self) -> Result<Live, McpError> {
        let handler = Handler {
            info: self.info.clone(),
            server: self.name.clone(),
            generations: self.generations.clone(),
        };
        let init = |e| McpError::from_init(&self.name, e);
        match &self.config.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
                stderr,
            } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).envs(env);
                if let Some(dir) = cwd {
                    cmd.current_dir(dir);
                }
                let stderr = if *stderr {
                    Stdio::inherit()
                } else {
                    Stdio::null()
                };
                let (process, _) = TokioChildProcess::builder(cmd)
                    .stderr(stderr)
                    .spawn()
                    .map_err(|e| McpError::Connect {
                        server: self.name.to_string(),
                        message: format!("cannot start {}: {e}", command.to_string_lossy()),
                    })?;
                handler.serve(process).await.map_err(init)
            }
            Transport::Http { url, headers } => {
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(self.headers(headers)?);
                install_crypto_provider();
                let transport = StreamableHttpClientTransport::from_config(config);
                handler.serve(transport).await.map_err(init)
            }
        }
    }

    fn headers(
        &self,
        headers: &[(String, String)],
    ) -> Result<HashMap<HeaderName, HeaderValue>, McpError> {
        let mut out = HashMap::with_capacity(headers.len());
        for (name, value) in headers {
            let bad = |what: &str| McpError::Config {
                server: self.name.to_string(),
                // The value is never shown: it is usually a credential.
                message: format!("header '{name}' has an invalid {what}"),
            };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name"))?;
            let mut v = HeaderValue::from_str(value).map_err(|_| bad("value"))?;
            v.set_sensitive(true);
            out.insert(n, v);
        }
        Ok(out)
    }

    /// Runs one request with the server's timeout. A connection that ended while it
    /// was in flight is reported and left for the next call to restart.
    pub(crate) async fn request<T, F, Fut>(&self, f: F) -> Result<T, McpError>
    where
        F: FnOnce(Peer<RoleClient>) -> Fut,
        Fut: Future<Output = Result<T, ServiceError>>,
    {
        let peer = self.peer().await?;
        let closed = |peer: &Peer<RoleClient>| peer.is_transport_closed();
        match tokio::time::timeout(self.config.timeout, f(peer.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let e = McpError::from_service(&self.name, e);
                if matches!(e, McpError::Closed { .. }) || closed(&peer) {
                    return Err(self.ended());
                }
                Err(e)
            }
            Err(_) => Err(McpError::Timeout {
                server: self.name.to_string(),
                timeout: self.config.timeout,
            }),
        }
    }

    /// Records and reports a connection that ended under a request.
    fn ended(&self) -> McpError {
        let detail = if self.config.is_stdio() {
            "the process exited; it is started again on the next call"
        } else {
            "it is reconnected on the next call"
        };
        tracing::error!(target: "genkit::mcp", server = %self.name, "MCP server closed the connection: {detail}");
        self.set_status(ServerStatus::Disconnected {
            reason: "the connection closed".into(),
        });
        McpError::Closed {
            server: self.name.to_string(),
            detail: Some(detail.into()),
        }
    }

    /// Ends the connection (a stdio server's stdin is closed, then it is terminated if
    /// it does not exit); later calls fail FAILED_PRECONDITION.
    pub(crate) async fn shut_down(&self) {
        self.shut_down.store(true, Ordering::Release);
        let live = self.live.lock().await.take();
        if let Some(mut service) = live {
            let _ = service
                .close_with_timeout(std::time::Duration::from_secs(5))
                .await;
        }
        self.set_status(ServerStatus::ShutDown);
    }
}

/// rmcp's HTTP client is rustls without a built-in provider: ring (what the rest of
/// genkit-rs uses) becomes the process default unless the program chose one.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
