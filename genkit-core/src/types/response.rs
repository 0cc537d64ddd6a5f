//! `GenerateResponse`, `GenerateResponseChunk`, `FinishReason`, `GenerationUsage`.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::message::{Message, Role};
use super::part::{Part, ToolRequest, reasoning_of, text_of};
use super::request::GenerateRequest;
use crate::error::{Error, Result};

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// Natural end.
    Stop,
    /// Token limit.
    Length,
    /// Blocked by safety filters.
    Blocked,
    /// A tool interrupted the generation.
    Interrupted,
    /// Something else.
    Other,
    /// Unknown.
    Unknown,
}

/// Token and media counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct GenerationUsage {
    /// Input tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub output_tokens: Option<u64>,
    /// Total tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub total_tokens: Option<u64>,
    /// Input characters.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub input_characters: Option<u64>,
    /// Output characters.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub output_characters: Option<u64>,
    /// Input images.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub input_images: Option<u64>,
    /// Output images.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub output_images: Option<u64>,
    /// Input videos.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub input_videos: Option<u64>,
    /// Output videos.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub output_videos: Option<u64>,
    /// Input audio files.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub input_audio_files: Option<u64>,
    /// Output audio files.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub output_audio_files: Option<u64>,
    /// Reasoning tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub thoughts_tokens: Option<u64>,
    /// Cached content tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub cached_content_tokens: Option<u64>,
    /// Provider-specific counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Map<String, Value>>,
}

impl GenerationUsage {
    /// True when nothing is counted.
    pub fn is_empty(&self) -> bool {
        *self == GenerationUsage::default()
    }
}

/// A model's answer; from `generate`, the final answer of the whole loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateResponse {
    /// The generated message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Why the model stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Details on the finish reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_message: Option<String>,
    /// Latency of the model call.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "whole_ms")]
    pub latency_ms: Option<f64>,
    /// Token usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<GenerationUsage>,
    /// Provider-specific data.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub custom: Option<Value>,
    /// The provider's raw response.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub raw: Option<Value>,
    /// The request of the last turn (set by `generate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Arc<GenerateRequest>>,
    /// A long-running operation.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub operation: Option<Value>,
    /// Deprecated candidates list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<Value>>,
}

fn some_value<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Writes whole milliseconds without a fraction (`812`, as JavaScript prints them), so
/// Genkit's documents round-trip unchanged.
fn whole_ms<S: serde::Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match *v {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => s.serialize_i64(f as i64),
        Some(f) => s.serialize_f64(f),
        None => s.serialize_none(),
    }
}

impl GenerateResponse {
    /// A response holding one model message that finished with `stop`.
    pub fn from_message(message: Message) -> Self {
        GenerateResponse {
            message: Some(message),
            finish_reason: Some(FinishReason::Stop),
            ..Default::default()
        }
    }

    /// A response with one text part.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self::from_message(Message::model(text))
    }

    /// The text of the message (all text parts, concatenated).
    pub fn text(&self) -> String {
        self.message.as_ref().map(Message::text).unwrap_or_default()
    }

    /// The reasoning of the message.
    pub fn reasoning(&self) -> String {
        self.message
            .as_ref()
            .map(Message::reasoning)
            .unwrap_or_default()
    }

    /// Tool requests in the message (pending ones when the response was interrupted).
    pub fn tool_requests(&self) -> Vec<&ToolRequest> {
        self.message
            .iter()
            .flat_map(|m| m.tool_requests())
            .collect()
    }

    /// Tool-request parts marked as interrupts, with their `metadata.interrupt`.
    pub fn interrupts(&self) -> Vec<&Part> {
        self.message.iter().flat_map(|m| m.interrupts()).collect()
    }

    /// The structured output as JSON: the first data part, else JSON extracted from the text.
    pub fn output_json(&self) -> Option<Value> {
        let msg = self.message.as_ref()?;
        if let Some(d) = msg.content.iter().find_map(|p| p.data.as_deref()) {
            return Some(d.clone());
        }
        crate::generate::extract::extract_json(&msg.text())
    }

    /// The structured output, deserialized into `T`.
    pub fn output<T: DeserializeOwned>(&self) -> Result<T> {
        let value = self
            .output_json()
            .ok_or_else(|| Error::invalid_argument("the response holds no JSON output"))?;
        crate::types::from_value(value)
    }

    /// The whole conversation: the last request's messages and the final message, to
    /// continue the conversation in a later call.
    pub fn messages(&self) -> Vec<Message> {
        let mut out: Vec<Message> = self
            .request
            .as_ref()
            .map(|r| r.messages.iter().map(|m| Message::clone(m)).collect())
            .unwrap_or_default();
        if let Some(m) = &self.message {
            out.push(m.clone());
        }
        out
    }

    /// Token usage (empty when the model reported none).
    pub fn usage(&self) -> GenerationUsage {
        self.usage.clone().unwrap_or_default()
    }
}

/// A streamed piece of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateResponseChunk {
    /// Role of the message this chunk belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Index of the message this chunk belongs to, counted across the whole loop.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub index: Option<u32>,
    /// The new parts.
    pub content: Vec<Part>,
    /// Provider-specific data.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub custom: Option<Value>,
    /// True when the chunk holds all content so far rather than a delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated: Option<bool>,
    /// With JSON output (`output_format("json")` or an output schema), the output
    /// parsed from the text of the message so far, leniently (an unfinished object
    /// holds what was written), as Genkit's chunk `output`. Set on model chunks of a
    /// [`GenerateStream`](crate::GenerateStream); never serialized.
    #[serde(skip)]
    pub output: Option<Value>,
}

impl GenerateResponseChunk {
    /// A chunk with parts.
    pub fn new(content: Vec<Part>) -> Self {
        GenerateResponseChunk {
            content,
            ..Default::default()
        }
    }

    /// A chunk with one text part.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self::new(vec![Part::text(text)])
    }

    /// The chunk's text.
    pub fn text(&self) -> String {
        text_of(&self.content)
    }

    /// The chunk's reasoning.
    pub fn reasoning(&self) -> String {
        reasoning_of(&self.content)
    }

    /// Tool requests in this chunk.
    pub fn tool_requests(&self) -> impl Iterator<Item = &ToolRequest> {
        self.content
            .iter()
            .filter_map(|p| p.tool_request.as_deref())
    }

    /// The partial output so far (see [`output`](Self::output)), deserialized into
    /// `T` — a type whose fields are optional reads an unfinished object.
    pub fn output_as<T: DeserializeOwned>(&self) -> Result<T> {
        let value = self
            .output
            .clone()
            .ok_or_else(|| Error::invalid_argument("the chunk holds no JSON output"))?;
        crate::types::from_value(value)
    }
}
