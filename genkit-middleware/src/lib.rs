//! Middleware for genkit-rs `generate` calls, as Genkit has them: [`Retry`],
//! [`Fallback`], [`ToolApproval`], [`Filesystem`] and [`Skills`].
//!
//! The seed's `use=[Retry(max_retries=3)]` reads, in Rust:
//!
//! ```no_run
//! # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
//! use genkit_middleware::Retry;
//!
//! let response = ai
//!     .generate()
//!     .prompt("What's the latest on Gemini 2.5 Pro?")
//!     .use_(Retry::new().max_retries(3))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! A `use_` list runs outermost first: `.use_(a).use_(b)` means `a` wraps `b` wraps
//! the model (and each tool call). Middleware set on the instance
//! (`Genkit::builder().use_(…)`) wrap those of the call. Model hooks wrap each model
//! call of the loop, not the whole loop.
//!
//! # Named middleware
//! With the [`Middlewares`] plugin (or [`register_all`]), the middleware are also
//! registered under Genkit's names with Genkit's camelCase JSON configs, so a request
//! from the Dev UI or `/util/generate` can name them:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> genkit_core::Result<()> {
//! let ai = genkit_core::Genkit::builder()
//!     .without_submitted_actions()
//!     .plugin(genkit_middleware::Middlewares)
//!     .build()
//!     .await?;
//! let names: Vec<String> = ai.registry().list_middleware().iter().map(|m| m.name.clone()).collect();
//! assert_eq!(names, ["artifacts", "fallback", "filesystem", "retry", "skills", "tool_approval"]);
//! // `/util/generate` input: {"messages": […], "use": [{"name": "retry", "config": {"maxRetries": 2}}]}
//! # Ok(()) }
//! ```
//!
//! | name | config (JSON) |
//! |---|---|
//! | `retry` | `maxRetries`, `statuses`, `initialDelayMs`, `maxDelayMs`, `backoffFactor`, `noJitter` |
//! | `fallback` | `models` (names or `{name, config}`), `statuses`, `isolateConfig` |
//! | `tool_approval` | `allowedTools` (alias `approved`) |
//! | `filesystem` | `rootDirectory`, `allowWriteAccess`, `toolNamePrefix` |
//! | `skills` | `skillPaths` |
//! | `artifacts` | `readonly` |
//!
//! # Your own
//! Implement [`Middleware`] (every hook has a pass-through default), or wrap a closure
//! over the model hook with [`middleware_fn`]:
//!
//! ```
//! use genkit_middleware::middleware_fn;
//!
//! let log = middleware_fn("log", |request, cx, next| {
//!     Box::pin(async move {
//!         let turn = request.messages.len();
//!         let response = next.run(request, cx).await;
//!         eprintln!("model call with {turn} messages: ok={}", response.is_ok());
//!         response
//!     })
//! });
//! # let _ = log;
//! ```
//!
//! # Tracing
//! Each middleware decision (a retry with its attempt number, delay and error, a
//! fallback, an approval interrupt, a refused file operation) is a `tracing` event
//! with target `genkit::middleware` and field `middleware = "<name>"`, recorded on the
//! current `generate` span; every model attempt and tool run keeps its own span.
//!
//! # Artifacts
//! [`Artifacts`] reads and writes the artifacts of the agent session a generate runs
//! in (`read_artifact`, `write_artifact`), listing them to the model on every call.

#![warn(missing_docs)]

mod artifacts;
mod config;
mod fallback;
mod filesystem;
mod registry;
mod retry;
mod skills;
mod tool_approval;

pub use artifacts::{ARTIFACTS_MARKER, Artifacts, ArtifactsConfig};
pub use config::{FALLBACK_STATUSES, RETRY_STATUSES};
pub use fallback::{Fallback, FallbackConfig, FallbackModel, FallbackModelConfig};
pub use filesystem::{
    FILE_MAX_BYTES, Filesystem, FilesystemConfig, LIST_MAX_ENTRIES, READ_MAX_BYTES,
};
/// The contract, for writing your own (also at the crate root of `genkit`).
pub use genkit_core::middleware::{
    Middleware, MiddlewareFn, ModelNext, ToolCall, ToolNext, middleware_fn,
};
pub use registry::{Middlewares, factories, register_all};
pub use retry::{Retry, RetryConfig, SleepFn, retry_after};
pub use skills::{SKILLS_MARKER, Skills, SkillsConfig};
pub use tool_approval::{ToolApproval, ToolApprovalConfig};
