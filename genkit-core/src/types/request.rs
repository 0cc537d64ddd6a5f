//! `GenerateRequest`, the request a model action receives, and what it is made of.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::message::Message;
use super::part::{Metadata, Part, some_value};

/// A tool as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolDefinition {
    /// Tool name (the text after the last `/` of the action name).
    pub name: String,
    /// What the tool does (Genkit requires the field; empty when unknown).
    pub description: String,
    /// JSON schema of the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// JSON schema of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Metadata (`originalName` when the action name contains `/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// How the model may use tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call a tool.
    Required,
    /// The model must not call tools.
    None,
}

/// The output a model is asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputConfig {
    /// Format name (`json`, `text`, `array`, `enum`, `jsonl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// JSON schema of the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Whether the model should constrain its output to the schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constrained: Option<bool>,
    /// MIME type of the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl OutputConfig {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.format.is_none()
            && self.schema.is_none()
            && self.constrained.is_none()
            && self.content_type.is_none()
    }
}

/// A document given to the model as context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentData {
    /// Document content.
    pub content: Vec<Part>,
    /// Metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl DocumentData {
    /// The document's text: its text parts joined (as Genkit's `Document.text`).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|p| p.text.as_deref())
            .collect()
    }

    /// Sets one metadata entry (`id` and `ref` name the document when it is rendered
    /// for a model).
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata
            .get_or_insert_with(Default::default)
            .insert(key.into(), value.into());
        self
    }
}

/// What a model action receives.
///
/// Messages and tool definitions are shared (`Arc`), so building a request never copies
/// a message or a schema: an agent's turn sends the session's history as it is held,
/// and each round of the tool loop adds two pointers. Read messages through the `Arc`
/// as before (`for m in &req.messages { m.role … }`); change one in place with
/// `Arc::make_mut(&mut req.messages[i])` (which copies that message only if it is
/// shared), add one with `req.messages.push(message.into())`. The JSON is unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    /// The conversation (shared messages).
    pub messages: Vec<Arc<Message>>,
    /// Provider configuration (any JSON; `null` is kept).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub config: Option<Value>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Arc<ToolDefinition>>>,
    /// How the model may use tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Output format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputConfig>,
    /// Context documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<Vec<DocumentData>>,
    /// Number of candidates (deprecated in Genkit).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub candidates: Option<u32>,
}
