//! Claude for genkit-rs: the `anthropic` plugin, speaking Anthropic's Messages API
//! (`POST /v1/messages`, `anthropic-version: 2023-06-01`) as Anthropic serves it, and a
//! local Anthropic-compatible server for tests, benchmarks and key-less runs.
//!
//! ```no_run
//! use genkit_anthropic::Anthropic;
//!
//! # async fn demo() -> genkit_core::Result<()> {
//! // The key from ANTHROPIC_API_KEY, or else a local server started in this process.
//! let (plugin, backend) = Anthropic::from_env_or_local().await?;
//! eprintln!("using {backend}");
//! let ai = genkit_core::Genkit::builder()
//!     .plugin(plugin)
//!     .model("anthropic/claude-sonnet-4-5")
//!     .build()
//!     .await?;
//! let response = ai.generate().prompt("Why is the sky blue?").await?;
//! println!("{}", response.text());
//! # Ok(()) }
//! ```
//!
//! - Models: any `anthropic/{name}` resolves on first use (the API's 404 is NOT_FOUND);
//!   [`KNOWN_MODELS`] are registered up front and listed for the Dev UI.
//! - The key travels only in the `x-api-key` header; it is never in a URL, an error, a
//!   log line or a trace. `ANTHROPIC_BASE_URL` (or [`Anthropic::with_base_url`]) points
//!   the plugin at another endpoint.
//! - Translation rules: [`translate::request`], [`translate::response`]. Extended
//!   thinking comes back as reasoning parts carrying their signature
//!   (`metadata.thoughtSignature`), which go back to the API on the next turn.
//!   Streaming (`"stream": true`) is read by [`sse::EventStream`].
//! - Errors carry Genkit's status for Anthropic's HTTP status (529 overloaded is
//!   UNAVAILABLE, 429 RESOURCE_EXHAUSTED) and Anthropic's message, with `retryAfterMs`
//!   in their details from `retry-after`, which `genkit::middleware::Retry` honours
//!   ([`error`]).
//! - [`server::LocalAnthropic`]: the local server, scriptable for tests; its default
//!   behaviour is documented in [`server`]. The `genkit-anthropic-server` binary runs
//!   it on its own.

#![warn(missing_docs)]

mod client;
pub mod error;
mod model;
mod plugin;
pub mod server;
pub mod sse;
pub mod translate;
pub mod wire;

pub use model::{claude_info, claude_supports, supports_structured_output};
pub use plugin::{
    Anthropic, BASE_URL_VAR, Backend, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, DEFAULT_VERSION, KEY_VAR,
    KNOWN_MODELS,
};
pub use server::LocalAnthropic;
