//! A local Gemini-compatible server (axum), for tests, benchmarks and running the
//! examples without a key.
//!
//! It serves, under `/{version}/models/{model}:{method}`:
//! `generateContent`, `streamGenerateContent?alt=sse`, `embedContent` and
//! `batchEmbedContents`, with the Gemini API's request and response JSON; and
//! `GET /{version}/models`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use genkit_googleai::server::{LocalGemini, Reply};
//! let server = LocalGemini::start().await?;
//! server.push(Reply::error(503, "The model is overloaded. Please try again later."));
//! let plugin = genkit_googleai::GoogleAi::new("any-key").with_base_url(server.base_url());
//! # Ok(()) }
//! ```
//!
//! # Scripting
//! [`LocalGemini::push`] queues [`Reply`]s: exact JSON bodies, error statuses with
//! Google's error body (and `Retry-After` or a `RetryInfo` delay), raw bytes
//! (malformed JSON), SSE answers written piece by piece that may break the connection
//! part-way, and delays. Each request takes the oldest queued reply; with an empty
//! queue the server answers by the default rule below. Every request is recorded
//! ([`LocalGemini::requests`]). [`ServerOptions`] sets a latency added to every request
//! and the pace and size of streamed pieces.
//!
//! # The default rule
//! 1. **Key.** A request without an `x-goog-api-key` header (or `key` query
//!    parameter) is 403 PERMISSION_DENIED; with [`ServerOptions::api_key`] set, a
//!    different key is 400 "API key not valid".
//! 2. **Validation**, with Google's messages and error body (400): invalid JSON;
//!    unknown field names (`Unknown name "x" at '…': Cannot find field.`); a role other
//!    than `user`/`model`; no contents; a content without parts; a part without data;
//!    an invalid function name; an OBJECT parameter schema without properties; a JSON
//!    response type together with function declarations. Models must be named
//!    `gemini-*`, `gemma-*` or `learnlm-*` (embedding: `text-embedding-*`,
//!    `embedding-*`, `gemini-embedding-*`); others are 404 NOT_FOUND.
//! 3. **The prompt** is the first text part of the last non-`model` content that has
//!    text; the turn is that content and everything after it.
//! 4. **Function calls.** When functions are declared, the mode is not `NONE`, and
//!    the turn holds no `functionResponse` yet, the answer calls the declared function
//!    whose name and description share the most words (of 3+ letters, ignoring case
//!    and a few common words such as "the", "for", "what") with the prompt; ties,
//!    including no shared word, go to the first declared
//!    (mode `ANY` with `allowedFunctionNames` restricts the choice). Its argument text
//!    is what follows the prompt's first `:` (or the whole prompt); split on `;`, each
//!    piece is one call, so `"Compare: rust; go"` makes two parallel calls. The first
//!    string parameter (required ones first) gets the piece; other required
//!    parameters get the first number in it, `false`, `[piece]`/`[]` or `{}`, and an
//!    enum the value the piece names, else its first value. Calls carry no `id`.
//! 5. **Answers from results.** When the turn holds function responses, the answer is
//!    one line per response, in order: `Based on {name}: {result}`, where the result
//!    is `response.content` (Genkit's shape) or the whole response, strings as they are
//!    and other JSON compact.
//! 6. **JSON mode.** With `responseMimeType: application/json`, the answer is a JSON
//!    value fitting `responseSchema` (or `responseJsonSchema`): every object property
//!    present, strings = the argument text (or an enum's first value), integers 42,
//!    numbers 4.2, booleans true, arrays of one item; `{"text": prompt}` without schema.
//! 7. **Otherwise** the answer is `This is the local Gemini server ({model}) answering:
//!    {prompt}`.
//! 8. **Thinking.** With `thinkingConfig.includeThoughts`, a thought part
//!    `Thinking about: {prompt}` comes first. Models named `*2.5*` or `gemini-3*` (or
//!    any request with a `thinkingConfig`) put a `thoughtSignature` on their first
//!    function call, or on their text part.
//! 9. **Usage**: prompt tokens = words of all request text parts (other parts count
//!    1), output and thought tokens likewise; finish reason `STOP`.
//! 10. **Streaming** sends the same answer: thoughts first, text in pieces of
//!     [`ServerOptions::words_per_chunk`] words, all function calls in one event; the
//!     last event carries `finishReason` and `usageMetadata`; events are `data: …\r\n\r\n`,
//!     [`ServerOptions::stream_pace`] apart.
//! 11. **Embeddings** are hashed bags of words, L2-normalised: 768 dimensions
//!     (`gemini-embedding-*`: 3072), or `outputDimensionality`; equal texts get equal
//!     vectors, and texts sharing words point the same way.

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

pub use behaviour::{
    argument_text, arguments, best_match, best_match_index, embedding, example, result_text,
};
pub use script::{Reply, error_body, status_name};

/// Settings of a [`LocalGemini`].
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
    /// What `GET /v1beta/models` lists, in order: Model resources as Gemini gives them
    /// (`name` `models/{id}`, `displayName`, `supportedGenerationMethods`,
    /// `inputTokenLimit`, `outputTokenLimit`). Default: [`default_listed_models`].
    pub models: Vec<Value>,
    /// When set, `GET /v1beta/models` answers this HTTP status with a Google error.
    pub list_error: Option<u16>,
}

/// The models the server lists by default: the plugin's default models and embedders.
pub fn default_listed_models() -> Vec<Value> {
    let mut out: Vec<Value> = ["gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro"]
        .iter()
        .map(|id| listed_model(id, 1_048_576, 65_536))
        .collect();
    for id in ["text-embedding-004", "gemini-embedding-001"] {
        out.push(serde_json::json!({
            "name": format!("models/{id}"),
            "displayName": id,
            "supportedGenerationMethods": ["embedContent", "batchEmbedContents"],
            "inputTokenLimit": 2048,
            "outputTokenLimit": 1,
        }));
    }
    out
}

/// A Model resource of a generative model `id`, as `models.list` gives it.
pub fn listed_model(id: &str, input_token_limit: u64, output_token_limit: u64) -> Value {
    serde_json::json!({
        "name": format!("models/{id}"),
        "displayName": id,
        "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"],
        "inputTokenLimit": input_token_limit,
        "outputTokenLimit": output_token_limit,
    })
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            latency: Duration::ZERO,
            stream_pace: Duration::ZERO,
            words_per_chunk: 3,
            api_key: None,
            models: default_listed_models(),
            list_error: None,
        }
    }
}

impl ServerOptions {
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

    /// Accepts only this key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Also lists this Model resource in `GET /v1beta/models` (see [`listed_model`]).
    pub fn listed_model(mut self, model: Value) -> Self {
        self.models.push(model);
        self
    }

    /// `GET /v1beta/models` answers this HTTP status.
    pub fn list_error(mut self, status: u16) -> Self {
        self.list_error = Some(status);
        self
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `POST` or `GET`.
    pub method: String,
    /// The path (`/v1beta/models/gemini-2.0-flash:generateContent`).
    pub path: String,
    /// The query string, if any (`alt=sse`).
    pub query: Option<String>,
    /// The `x-goog-api-key` header, if sent.
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

/// A running local Gemini-compatible server. Dropping it stops accepting connections.
pub struct LocalGemini {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for LocalGemini {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalGemini")
            .field("addr", &self.addr)
            .finish()
    }
}

impl LocalGemini {
    /// Starts a server on `127.0.0.1` at a free port, with default options.
    pub async fn start() -> std::io::Result<LocalGemini> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Starts a server on `127.0.0.1` at a free port.
    pub async fn start_with(options: ServerOptions) -> std::io::Result<LocalGemini> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Starts a server on `addr`.
    pub async fn bind(addr: SocketAddr, options: ServerOptions) -> std::io::Result<LocalGemini> {
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
                tracing::warn!(target: "genkit_googleai::server", "local Gemini server stopped: {e}");
            }
        });
        Ok(LocalGemini { addr, shared, task })
    }

    /// `http://127.0.0.1:{port}`: give it to `GoogleAi::with_base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
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

    /// Queued replies not yet served.
    pub fn pending(&self) -> usize {
        self.shared
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
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

    /// Changes the pause between streamed events.
    pub fn set_stream_pace(&self, d: Duration) {
        self.shared
            .options
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .stream_pace = d;
    }
}

impl Drop for LocalGemini {
    fn drop(&mut self) {
        self.task.abort();
    }
}
