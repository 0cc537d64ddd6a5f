//! Genkit's data model, wire-compatible with its JSON (camelCase).

mod message;
mod options;
mod part;
mod request;
mod response;

pub use message::{Message, Role};
pub(crate) use message::is_falsy;
pub use options::{GenerateActionOptions, GenerateActionOutputConfig, MiddlewareRef, Resume};
pub use part::{Media, Metadata, Part, Resource, ToolRequest, ToolResponse, reasoning_of, text_of};
pub use request::{DocumentData, GenerateRequest, OutputConfig, ToolChoice, ToolDefinition};
pub use response::{
    FinishReason, GenerateResponse, GenerateResponseChunk, GenerationUsage,
};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// Deserializes JSON into `T`; the error is INVALID_ARGUMENT and names the field's path
/// (`messages[0].role: unknown variant ...`).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// Parses JSON text into `T`, naming the failing field as [`from_value`] does.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(path_error)
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = if path == "." || path.is_empty() {
        inner.to_string()
    } else {
        format!("{path}: {inner}")
    };
    Error::invalid_argument(message).with_source(inner)
}
