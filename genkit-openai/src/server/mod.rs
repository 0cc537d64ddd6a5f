//! A local OpenAI-compatible server (axum), for tests, benchmarks, key-less runs, and
//! as an Ollama stand-in.
//!
//! It serves `POST /v1/chat/completions` (JSON or `stream: true` server-sent events),
//! `POST /v1/embeddings` and `GET /v1/models`, with OpenAI's request and response JSON.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use genkit_openai::server::{LocalOpenAi, Reply};
//! let server = LocalOpenAi::start().await?;
//! server.push(Reply::error(429, "Rate limit reached. Please try again in 1.5s."));
//! let plugin = genkit_openai::OpenAi::new("any-key").with_base_url(server.base_url());
//! # Ok(()) }
//! ```
//!
//! # Scripting
//! [`LocalOpenAi::push`] queues [`Reply`]s (an exact JSON body, an error status with
//! OpenAI's error body and retry headers, raw bytes, raw SSE events that may stop before
//! `[DONE]`). Each request takes the oldest queued reply; with an empty queue the
//! server answers by the default rule below. Every request is recorded
//! ([`LocalOpenAi::requests`]).
//!
//! # The default rule
//! 1. **Key.** Without an `Authorization: Bearer …` header the answer is 401 with
//!    OpenAI's message (unless [`ServerOptions::require_key`] is off, as for Ollama);
//!    with [`ServerOptions::api_key`] set, another key is 401 `invalid_api_key`.
//! 2. **Validation** as OpenAI does it, with its messages and error body (400,
//!    `invalid_request_error`, `param`, `code`): invalid JSON; unknown parameters;
//!    a missing model or messages; empty messages; an unknown role; content parts of
//!    the wrong type for their role; a `tool` message not answering a preceding
//!    `tool_calls`; `tool_calls` left unanswered; invalid function names; `tool_choice`
//!    `required` or a named function without tools, or naming no declared tool (`auto`
//!    and `none` without tools are accepted: rig 0.21 sends them); `response_format` `json_object`
//!    without the word "json" in the messages, or `json_schema` without a name or
//!    schema; `temperature` outside 0–2, `top_p` outside 0–1; `stream_options`
//!    without `stream`. Model names must match [`ServerOptions::model_prefixes`]
//!    (OpenAI's families by default; any name when empty): others are 404
//!    `model_not_found`.
//! 3. **The prompt** is the text of the last `user` message; the turn is what follows it.
//! 4. **Tool calls.** With tools declared, `tool_choice` not `none`, and no `tool`
//!    message in the turn yet, the answer calls the first declared tool (or the one
//!    `tool_choice` names). The text after the prompt's first `:` (or the whole prompt),
//!    split on `;`, makes one call per piece (so `"Compare: rust; go"` makes two
//!    parallel calls), with arguments filled as the local Gemini server fills them
//!    ([`genkit_googleai::server::arguments`]); ids are `call_{turn}_{i}`;
//!    `finish_reason` is `tool_calls`.
//! 5. **Answers from results.** With `tool` messages in the turn, the answer is one line
//!    per result, in order: `Based on {name}: {content}`.
//! 6. **JSON.** With `response_format` `json_schema`, the content is a JSON value fitting
//!    the schema ([`genkit_googleai::server::example`]); with `json_object`,
//!    `{"text": prompt}`.
//! 7. **Otherwise** `This is the local OpenAI server ({model}) answering: {prompt}`.
//! 8. **Reasoning.** Models named `*reasoner*` or `*r1*` (DeepSeek's) put
//!    `Thinking about: {prompt}` in `reasoning_content`; `o*` models and requests with a
//!    `reasoning_effort` count reasoning tokens.
//! 9. **Usage**: prompt tokens = words of the request's texts, completion tokens = words
//!    of the answer.
//! 10. **Streaming** sends the same answer: a first chunk with the role, text in pieces of
//!     [`ServerOptions::words_per_chunk`] words, each tool call in two pieces (id and name
//!     with half the arguments, then the rest), the finish reason in the last choice
//!     chunk, then a usage chunk when `stream_options.include_usage`, then `[DONE]`.
//! 11. **Embeddings** are the local Gemini server's hashed bags of words: 1536 dimensions
//!     (`text-embedding-3-large`: 3072, or `dimensions`).

mod behaviour;
mod routes;
mod script;
mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

pub use behaviour::answer;
pub use script::{Reply, error_body};
pub use validate::validate_chat;

/// OpenAI's model families: the model names the server knows by default.
pub const OPENAI_MODEL_PREFIXES: [&str; 8] = [
    "gpt-",
    "o1",
    "o3",
    "o4",
    "chatgpt-",
    "ft:",
    "text-embedding-",
    "codex-",
];

/// Settings of a [`LocalOpenAi`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Added before every answer.
    pub latency: Duration,
    /// Between two streamed events.
    pub stream_pace: Duration,
    /// Words per streamed text piece (at least 1).
    pub words_per_chunk: usize,
    /// When set, the only key accepted.
    pub api_key: Option<String>,
    /// Whether a request without a key is refused (OpenAI: yes; Ollama: no).
    pub require_key: bool,
    /// Model names must start with one of these; empty: any name.
    pub model_prefixes: Vec<String>,
    /// The model ids `GET /v1/models` lists, in order. Default: the plugin's known
    /// models and embedders.
    pub models: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            latency: Duration::ZERO,
            stream_pace: Duration::ZERO,
            words_per_chunk: 3,
            api_key: None,
            require_key: true,
            model_prefixes: OPENAI_MODEL_PREFIXES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            models: crate::KNOWN_MODELS
                .iter()
                .chain(crate::KNOWN_EMBEDDERS.iter())
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl ServerOptions {
    /// Also lists the model `id` in `GET /v1/models`.
    pub fn listed_model(mut self, id: impl Into<String>) -> Self {
        self.models.push(id.into());
        self
    }

    /// As Ollama: no key needed, any model name.
    pub fn ollama() -> Self {
        ServerOptions {
            require_key: false,
            model_prefixes: Vec::new(),
            ..Default::default()
        }
    }

    /// Sets the latency.
    pub fn latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }

    /// Sets the pause between streamed events.
    pub fn stream_pace(mut self, d: Duration) -> Self {
        self.stream_pace = d;
        self
    }

    /// Sets the words per streamed text piece.
    pub fn words_per_chunk(mut self, n: usize) -> Self {
        self.words_per_chunk = n.max(1);
        self
    }

    /// Whether a request without a key is refused.
    pub fn require_key(mut self, yes: bool) -> Self {
        self.require_key = yes;
        self
    }

    /// Accepts any model name.
    pub fn any_model(mut self) -> Self {
        self.model_prefixes.clear();
        self
    }

    /// Accepts only this key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `POST` or `GET`.
    pub method: String,
    /// The path (`/v1/chat/completions`).
    pub path: String,
    /// The bearer token, if sent.
    pub api_key: Option<String>,
    /// The body as JSON (`null` when it was not JSON).
    pub body: Value,
}

pub(crate) struct Shared {
    options: RwLock<ServerOptions>,
    script: Mutex<VecDeque<Reply>>,
    log: Mutex<Vec<RecordedRequest>>,
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
}

/// A running local OpenAI-compatible server. Dropping it stops accepting connections.
pub struct LocalOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for LocalOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalOpenAi")
            .field("addr", &self.addr)
            .finish()
    }
}

impl LocalOpenAi {
    /// Starts a server on `127.0.0.1` at a free port, with default options.
    pub async fn start() -> std::io::Result<LocalOpenAi> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Starts a server on `127.0.0.1` at a free port.
    pub async fn start_with(options: ServerOptions) -> std::io::Result<LocalOpenAi> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Starts a server on `addr`.
    pub async fn bind(addr: SocketAddr, options: ServerOptions) -> std::io::Result<LocalOpenAi> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options: RwLock::new(options),
            script: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
        });
        let app = routes::router(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(target: "genkit_openai::server", "local OpenAI server stopped: {e}");
            }
        });
        Ok(LocalOpenAi { addr, shared, task })
    }

    /// `http://127.0.0.1:{port}/v1`: give it to `OpenAi::with_base_url` (or an SDK's
    /// `base_url`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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

impl Drop for LocalOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}
