//! A local Anthropic-compatible server (axum), for tests, benchmarks and running the
//! examples without a key.
//!
//! It serves `POST /v1/messages` (whole and `"stream": true` answers) and
//! `GET /v1/models`, with the Messages API's JSON, headers and errors.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use genkit_anthropic::server::{LocalAnthropic, Reply};
//! let server = LocalAnthropic::start().await?;
//! server.push(Reply::overloaded());
//! let plugin = genkit_anthropic::Anthropic::new("any-key").with_base_url(server.base_url());
//! # Ok(()) }
//! ```
//!
//! # Scripting
//! [`LocalAnthropic::push`] queues [`Reply`]s: exact JSON bodies, error statuses with
//! Anthropic's error body (and `retry-after`), raw bytes, SSE answers written piece by
//! piece that may break the connection part-way, and delays. Each request takes the
//! oldest queued reply; with an empty queue the server answers by the default rule
//! below. Every request is recorded ([`LocalAnthropic::requests`]).
//!
//! # The default rule
//! 1. **Headers.** No key (`x-api-key`, or `Authorization: Bearer` as the SDKs send
//!    it) is 401 `authentication_error`; with
//!    [`ServerOptions::api_key`] set, another key is 401 "invalid x-api-key". No
//!    `anthropic-version` is 400.
//! 2. **Validation**, with the API's messages and error body
//!    (`{"type":"error","error":{"type":"invalid_request_error","message":…}}`, 400):
//!    unknown members ("Extra inputs are not permitted"), missing ones ("Field
//!    required"), roles, empty content or text, `tool_use` / `tool_result` pairing,
//!    image media types, tool names and `input_schema.type`, a thinking budget
//!    under 1024 or not under `max_tokens`, a continued tool
//!    turn that does not start with its thinking block while thinking is on, thinking
//!    blocks whose signature is not the one this server gave, structured-output
//!    schemas with an object lacking `additionalProperties: false`. Models must be
//!    named `claude-*`; others are 404 `not_found_error`.
//! 3. **The prompt** is the first text of the last `user` message that has text; the
//!    turn is that message and everything after it.
//! 4. **Tool calls.** When tools are declared, `tool_choice` is not `none`, and the
//!    turn holds no `tool_result` yet, the answer calls the tool `tool_choice` names,
//!    else the tool whose name and description share the most words with the prompt
//!    (the first declared on ties), with genkit-googleai's argument rule: the text
//!    after the prompt's first `:`, split on `;`, one parallel call per piece (one only
//!    with `disable_parallel_tool_use`). Ids are `toolu_local_{messages}_{i}`; the
//!    stop reason is `tool_use`.
//! 5. **Answers from results**: one line per `tool_result`, in order:
//!    `Based on {tool name}: {result text}`.
//! 6. **Structured output** (`output_config.format`): a JSON value fitting the schema
//!    (strings = the argument text, integers 42, numbers 4.2, booleans true).
//! 7. **Otherwise**: `This is the local Anthropic server ({model}) answering: {prompt}`.
//! 8. **Thinking** (`thinking.type` enabled or adaptive): a thinking block
//!    `Thinking about: {prompt}` comes first, signed ([`behaviour::sign`]).
//! 9. **Stops**: a stop sequence in the text cuts it there (`stop_sequence`); more
//!    words than `max_tokens` (thinking included) cut it (`max_tokens`). Usage counts
//!    words: input = every text block of the request (other blocks 1), output = the
//!    answer's.
//! 10. **Streaming** sends the same answer as the API's events: `message_start`, per
//!     block `content_block_start`, deltas (`text_delta` in pieces of
//!     [`ServerOptions::words_per_chunk`] words, `thinking_delta` then
//!     `signature_delta`, `input_json_delta` in two pieces), `content_block_stop`; a
//!     `ping` after the first block starts; `message_delta` with the stop reason and
//!     output tokens; `message_stop`. Events are [`ServerOptions::stream_pace`] apart.

pub mod behaviour;
mod routes;
mod script;
pub mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

pub use script::{Reply, error_body, error_type, sse_frame};

/// Settings of a [`LocalAnthropic`]: latency, stream pace, words per streamed text
/// piece, the only key accepted. The same settings as genkit-googleai's local server.
pub use genkit_googleai::server::ServerOptions;

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The path (`/v1/messages`).
    pub path: String,
    /// The key (`x-api-key`, or the `Authorization: Bearer` token), if sent.
    pub api_key: Option<String>,
    /// The `anthropic-version` header, if sent.
    pub version: Option<String>,
    /// The body as JSON (`null` when it was not JSON).
    pub body: Value,
}

pub(crate) struct Shared {
    options: RwLock<ServerOptions>,
    script: Mutex<VecDeque<Reply>>,
    log: Mutex<Vec<RecordedRequest>>,
    ids: AtomicU64,
    /// What `GET /v1/models` lists: (id, display name), in order.
    models: RwLock<Vec<(String, String)>>,
}

impl Shared {
    fn options(&self) -> ServerOptions {
        self.options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn next_reply(&self) -> Option<Reply> {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    fn record(&self, r: RecordedRequest) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }

    fn next_id(&self) -> String {
        format!(
            "msg_local_{:08}",
            self.ids.fetch_add(1, Ordering::Relaxed) + 1
        )
    }
}

/// A running local Anthropic-compatible server. Dropping it stops accepting
/// connections.
pub struct LocalAnthropic {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for LocalAnthropic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAnthropic")
            .field("addr", &self.addr)
            .finish()
    }
}

impl LocalAnthropic {
    /// Starts a server on `127.0.0.1` at a free port, with default options.
    pub async fn start() -> std::io::Result<LocalAnthropic> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Starts a server on `127.0.0.1` at a free port.
    pub async fn start_with(options: ServerOptions) -> std::io::Result<LocalAnthropic> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Starts a server on `addr`.
    pub async fn bind(addr: SocketAddr, options: ServerOptions) -> std::io::Result<LocalAnthropic> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options: RwLock::new(options),
            script: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
            ids: AtomicU64::new(0),
            models: RwLock::new(
                crate::KNOWN_MODELS
                    .iter()
                    .map(|m| (m.to_string(), m.to_string()))
                    .collect(),
            ),
        });
        let app = routes::router(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(target: "genkit_anthropic::server", "local Anthropic server stopped: {e}");
            }
        });
        Ok(LocalAnthropic { addr, shared, task })
    }

    /// `http://127.0.0.1:{port}`: give it to `Anthropic::with_base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Also lists the model `id`, shown as `display_name`, in `GET /v1/models` (which
    /// lists the plugin's known models by default). A failing list:
    /// [`ServerOptions::list_error`].
    pub fn list_model(&self, id: impl Into<String>, display_name: impl Into<String>) {
        self.shared
            .models
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((id.into(), display_name.into()));
    }

    /// Queues a reply for a coming request.
    pub fn push(&self, reply: Reply) {
        self.shared
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(reply);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the latency added to every answer.
    pub fn set_latency(&self, d: Duration) {
        self.shared
            .options
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .latency = d;
    }
}

impl Drop for LocalAnthropic {
    fn drop(&mut self) {
        self.task.abort();
    }
}
