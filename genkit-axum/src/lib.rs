//! Serve genkit-rs flows (and agents) on the axum Router you already have, speaking
//! Genkit's flow HTTP protocol, so the real Genkit clients (`runFlow` / `streamFlow` /
//! `remoteAgent` from `genkit/beta/client`) and any curl user can call them.
//!
//! ```no_run
//! use genkit_axum::{ServeOptions, Shutdown};
//! # async fn demo(ai: genkit_core::Genkit, research_flow: genkit_core::FlowRef) -> std::io::Result<()> {
//! let shutdown = Shutdown::new();
//! let app = axum::Router::new()
//!     // One flow at a path of your choosing (the seed's `@app.post('/research')`)…
//!     .route("/research", axum::routing::post(genkit_axum::flow(research_flow)))
//!     // …and every registered flow at `/<flowName>`.
//!     .merge(genkit_axum::flows_with(&ai, ServeOptions::new().shutdown(&shutdown)))
//!     .with_state(ai);
//! // `bind`: TCP_NODELAY (streams need it), a connection cap, a write-stall timeout;
//! // `serve`: axum's loop with a header-read / keep-alive idle timeout.
//! let listener = genkit_axum::bind("127.0.0.1:3400").await?;
//! genkit_axum::serve(listener, app).with_graceful_shutdown(shutdown.signal()).await
//! # }
//! ```
//!
//! # The protocol (Genkit's "callable" protocol)
//! - `POST` a JSON body `{"data": <input>}` → 200 `{"result": <output>}`.
//! - Streaming when the request has `Accept: text/event-stream` or `?stream=true`:
//!   `Content-Type: text/event-stream`, one frame per chunk
//!   `data: {"message": <chunk>}\n\n`, then exactly one final frame,
//!   `data: {"result": <output>}\n\n` or `data: {"error": {"status", "message",
//!   "details"?}}\n\n`. Every frame is a single line of JSON.
//! - Errors: the HTTP status Genkit maps the error's status to (INVALID_ARGUMENT 400,
//!   UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, DEADLINE_EXCEEDED 504,
//!   …) with `{"status", "message", "details"?}`. Input that does not fit the flow's
//!   input type is 400 naming the field. Errors mapped to 500 (what plain Rust errors
//!   become) are answered `{"status": "INTERNAL", "message": "Internal Error"}`; the
//!   real error is logged with `tracing`.
//! - Limits ([`ServeOptions`]): JSON bodies only (415 for `text/plain`, forms or no
//!   `Content-Type`, unless [`ServeOptions::accept_any_content_type`]), body size
//!   (413), JSON nesting depth (400, checked before parsing), time to send the body
//!   (408), run timeout (504), shutdown (503).
//! - Connections ([`bind`], [`serve`]): at most 1024 open (more wait), 30 s to send
//!   the headers or between kept-alive requests, 30 s for a stalled write.
//!
//! # Agents
//! [`agent`] serves an agent as genkit-fastapi's `serve_agent` does: `POST /<name>`
//! with `{"data": <AgentInput>, "init"?: <AgentInit>}` runs a turn (streamed as
//! `AgentStreamChunk` frames on request), and with a store `POST /<name>/getSnapshot`
//! (`{"data": {"snapshotId"} | {"sessionId"}}`, a bare 404 when there is none) and
//! `POST /<name>/abort` (`{"data": {"snapshotId"}}` → the status before the abort).
//! The JS `remoteAgent` client chats with it, server- or client-managed state.
//!
//! # Auth and context
//! A [`ContextProvider`] reads the request (method, headers, input) and returns the
//! context the flow reads with
//! [`FlowContext::context`](genkit_core::FlowContext::context) — or rejects the request
//! (401/403) before the flow runs. Built in: [`api_key`] (Genkit's `apiKey`) and
//! [`bearer`] (your closure verifies the token). Set one per handler
//! ([`ServeOptions::context`]) or for a whole Router with [`ContextLayer`].
//!
//! # Cancellation and shutdown
//! A run is polled by its response, never spawned: when the client goes away the run
//! is dropped, and its model calls and tools with it. [`Shutdown`] stops new requests
//! (503) and gives runs in flight a grace period, after which streams end with an
//! UNAVAILABLE error frame.

#![warn(missing_docs)]
// Early answers are `Err(Response)`, the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

mod agent;
mod body;
mod context;
mod error;
mod flow;
mod listen;
mod options;
mod run;
mod serve;
mod shutdown;

pub use agent::{agent, agent_with};
pub use context::{
    ApiKey, Bearer, ContextLayer, ContextProvider, ContextService, RequestContext, RequestData,
    api_key, bearer, bearer_token,
};
pub use error::{error_response, http_status, public_error_json};
pub use flow::{FlowHandler, FromState, IntoFlow, flow, flow_with, flows, flows_with};
pub use listen::{
    Connection, DEFAULT_MAX_CONNECTIONS, DEFAULT_WRITE_TIMEOUT, LimitedListener, NoDelayListener,
    bind,
};
pub use options::{
    DEFAULT_BODY_LIMIT, DEFAULT_MAX_DEPTH, DEFAULT_READ_TIMEOUT, DEFAULT_SHUTDOWN_GRACE,
    ServeOptions,
};
pub use serve::{DEFAULT_HEADER_READ_TIMEOUT, Serve, serve};
pub use shutdown::Shutdown;

/// The axum this crate is built on, so `genkit::axum::axum::Router` works without a
/// separate dependency.
pub use axum;
