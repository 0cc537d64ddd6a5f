//! Genkit's data model, wire-compatible with its JSON (camelCase).

mod interruption;
mod message;
mod options;
mod part;
mod request;
mod response;

pub use interruption::Interruption;
pub(crate) use message::is_falsy;
pub use message::{Message, Role};
pub use options::{GenerateActionOptions, GenerateActionOutputConfig, MiddlewareRef, Resume};
pub use part::{Media, Metadata, Part, Resource, ToolRequest, ToolResponse, reasoning_of, text_of};
pub use request::{DocumentData, GenerateRequest, OutputConfig, ToolChoice, ToolDefinition};
pub use response::{FinishReason, GenerateResponse, GenerateResponseChunk, GenerationUsage};

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

/// Deserializes a count (`inputTokens`, `index`, `maxTurns`, …). Genkit's schema types
/// counts as JSON numbers and Genkit Python writes them as floats (`12.0`), so any
/// non-negative whole number is accepted.
fn count<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize;
    use serde::de::{Error as _, Unexpected};
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f as u64)
    });
    match whole.and_then(|u| T::try_from(u).ok()) {
        Some(v) => Ok(Some(v)),
        None => Err(D::Error::invalid_value(
            Unexpected::Other(&n.to_string()),
            &"a non-negative integer",
        )),
    }
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
