//! OpenAI and every OpenAI-compatible server for genkit-rs: the `openai` plugin over
//! the Chat Completions and Embeddings APIs (`api.openai.com/v1`) exactly as OpenAI
//! serves them; the same plugin under another name and base URL for Ollama, vLLM,
//! DeepSeek, xAI, Groq, OpenRouter (Genkit's `openAICompatible({name, baseURL})`); and a
//! local OpenAI-compatible server for tests, benchmarks and key-less runs.
//!
//! ```no_run
//! use genkit_openai::OpenAi;
//!
//! # async fn demo() -> genkit_core::Result<()> {
//! // The key from OPENAI_API_KEY, or else a local server started in this process.
//! let (plugin, backend) = OpenAi::from_env_or_local().await?;
//! eprintln!("using {backend}");
//! let ai = genkit_core::Genkit::builder()
//!     .plugin(plugin)
//!     .plugin(OpenAi::ollama()) // ollama/{model} at OLLAMA_HOST, no key
//!     .model("openai/gpt-4o-mini")
//!     .build()
//!     .await?;
//! let response = ai.generate().prompt("Why is the sky blue?").await?;
//! println!("{}", response.text());
//! # Ok(()) }
//! ```
//!
//! - Models: any `openai/{name}` (resolved on first use; the usual ones are listed for
//!   the Dev UI); `{name}/{model}` for a compatible server.
//! - Embedders: `openai/text-embedding-3-small`, `-3-large`, `text-embedding-ada-002`, and
//!   any other name.
//! - The key travels only in the `Authorization` header; it is never in an error, a
//!   log line or a trace. `OPENAI_BASE_URL` (or [`OpenAi::with_base_url`]) points the
//!   plugin at another endpoint.
//! - Translation rules: [`translate::request`], [`translate::response`]. Streaming reads
//!   server-sent events ([`sse`]); tool-call deltas are assembled by index. Errors carry
//!   Genkit's status for the HTTP status and the server's message, with `retryAfterMs`
//!   when the server says when to retry ([`error`]).
//! - [`server::LocalOpenAi`]: the local server, scriptable for tests; its default
//!   behaviour is documented in [`server`]. The `genkit-openai-server` binary runs it
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
pub use model::{info as model_info, supports as model_supports};
pub use plugin::{
    BASE_URL_VAR, Backend, DEEPSEEK, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, GROQ, KEY_VAR,
    KNOWN_EMBEDDERS, KNOWN_MODELS, OLLAMA_DEFAULT_HOST, OLLAMA_HOST_VAR, OPENROUTER, OpenAi,
    Preset, XAI, ollama_base_url,
};
pub use server::LocalOpenAi;
pub use translate::Dialect;
