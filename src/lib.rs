//! # genkit
//!
//! Genkit for Rust: one primitive, [`Genkit::generate`], that calls a model, runs the
//! tools it asks for, feeds the results back and repeats until it answers — plus
//! streaming, flows, middleware and Genkit-compatible tracing.
//!
//! Depend on `genkit` alone: it re-exports the runtime ([`genkit_core`]) and the
//! `#[genkit::tool]` / `#[genkit::flow]` macros.

#![warn(missing_docs)]

#[doc(inline)]
pub use genkit_core::*;

#[doc(inline)]
pub use genkit_macros::{flow, schema, tool};

/// What most programs need: `use genkit::prelude::*;`.
pub mod prelude {
    pub use futures::StreamExt;
    pub use genkit_core::{
        Error, FinishReason, FlowContext, GenerateResponse, GenerateResponseChunk, Genkit, Message,
        ModelContext, ModelInfo, ModelSupports, Part, Result, Role, Status, ToolContext,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
}

/// The Gemini provider: `genkit::googleai::GoogleAi`.
#[cfg(feature = "googleai")]
pub use genkit_googleai as googleai;
/// OpenAI and OpenAI-compatible servers: `genkit::openai::OpenAi`.
#[cfg(feature = "openai")]
pub use genkit_openai as openai;

/// The Anthropic provider: `genkit::anthropic::Anthropic`.
#[cfg(feature = "anthropic")]
pub use genkit_anthropic as anthropic;

/// Middleware for `use_`: `genkit::middleware::Retry`, …
#[cfg(feature = "middleware")]
pub use genkit_middleware as middleware;

/// Serving flows and agents on axum: `genkit::axum::flow(research_flow)`.
#[cfg(feature = "axum")]
pub use genkit_axum as axum;

/// Durable session stores for agents.
#[cfg(feature = "store")]
pub use genkit_store as store;

#[doc(hidden)]
pub mod __private {
    pub use genkit_core::__private::*;
}

pub use futures;
/// Re-exported so derives in user code resolve without extra dependencies:
/// `#[derive(genkit::Deserialize, genkit::JsonSchema)]` works too.
pub use schemars::{self, JsonSchema};
pub use serde::{self, Deserialize, Serialize};
pub use serde_json;
