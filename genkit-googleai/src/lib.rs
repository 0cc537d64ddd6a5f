//! Gemini for genkit-rs: the `googleai` plugin, speaking the Gemini REST API
//! (`generativelanguage.googleapis.com/v1beta`) exactly as Google serves it, and a
//! local Gemini-compatible server for tests, benchmarks and key-less runs.
//!
//! ```no_run
//! use genkit_googleai::GoogleAi;
//!
//! # async fn demo() -> genkit_core::Result<()> {
//! // The key from GEMINI_API_KEY / GOOGLE_API_KEY / GOOGLE_GENAI_API_KEY, or else a
//! // local server started in this process; `backend` says which.
//! let (plugin, backend) = GoogleAi::from_env_or_local().await?;
//! eprintln!("using {backend}");
//! let ai = genkit_core::Genkit::builder()
//!     .plugin(plugin)
//!     .model("googleai/gemini-2.0-flash")
//!     .build()
//!     .await?;
//! let response = ai.generate().prompt("Why is the sky blue?").await?;
//! println!("{}", response.text());
//! # Ok(()) }
//! ```
//!
//! - Models: `googleai/gemini-2.0-flash`, `googleai/gemini-2.5-flash`,
//!   `googleai/gemini-2.5-pro`, and any other with [`GoogleAi::with_model`].
//! - Embedders: `googleai/text-embedding-004`, `googleai/gemini-embedding-001`
//!   (one document: `embedContent`; several: one `batchEmbedContents`).
//! - The key travels only in the `x-goog-api-key` header; it is never in a URL, an
//!   error, a log line or a trace. `GOOGLE_GEMINI_BASE_URL` (or
//!   [`GoogleAi::with_base_url`]) points the plugin at another endpoint.
//! - Translation rules: [`translate::request`], [`translate::response`],
//!   [`translate::schema`]. Streaming uses `streamGenerateContent?alt=sse`, parsed by
//!   [`sse::SseParser`]. Errors carry Genkit's status for the HTTP status and Google's
//!   message, with `retryAfterMs` in their details when Google says when to retry
//!   ([`error`]).
//! - [`server::LocalGemini`]: the local server, scriptable for tests; its default
//!   behaviour is documented in [`server`]. The `genkit-gemini-server` binary runs it
//!   on its own.

#![warn(missing_docs)]

mod client;
mod embedder;
pub mod error;
mod model;
mod plugin;
pub mod server;
pub mod sse;
pub mod translate;
pub mod wire;

pub use embedder::{EmbedOptions, dimensions as embedder_dimensions};
pub use model::{gemini_info, gemini_supports};
pub use plugin::{
    BASE_URL_VAR, Backend, DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_EMBEDDERS,
    DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_MODELS, DEFAULT_TIMEOUT, GoogleAi, KEY_VARS,
    KNOWN_MODELS,
};
pub use server::LocalGemini;
