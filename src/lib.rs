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
    pub use crate::{Deserialize, JsonSchema, Serialize};
    pub use futures::StreamExt;
    pub use genkit_core::{
        Error, FinishReason, FlowContext, GenerateResponse, GenerateResponseChunk, Genkit, Message,
        ModelContext, ModelInfo, ModelSupports, Part, Result, Role, Status, ToolContext,
    };
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

/// Model Context Protocol client and server: `genkit::mcp::McpHost`, `genkit::mcp::McpServer`.
#[cfg(feature = "mcp")]
pub use genkit_mcp as mcp;

#[doc(hidden)]
pub mod __private {
    pub use genkit_core::__private::*;
}

pub use futures;
pub use schemars;
pub use serde;
pub use serde_json;

// `Serialize`, `Deserialize` and `JsonSchema` name serde's and schemars' traits and, as
// derives, genkit's (serde's and schemars' own derives routed through `genkit`, so
// `#[derive(Deserialize, JsonSchema)]` works in a crate that depends on `genkit` alone).
#[doc(inline)]
pub use genkit_macros::{Deserialize, JsonSchema, Serialize};
#[doc(no_inline)]
pub use serde::{de::Deserialize, ser::Serialize};
#[doc(no_inline)]
pub use traits::*;
mod traits {
    // A glob, so the explicit derive import above takes the macro namespace.
    pub use schemars::JsonSchema;
}
