//! `GenerateActionOptions`: the JSON input of `/util/generate`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::message::Message;
use super::part::{Metadata, Part, some_value};
use super::request::{DocumentData, ToolChoice};

/// Output options of `/util/generate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateActionOutputConfig {
    /// Format name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `true`/`false` or the instruction text itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<Value>,
    /// JSON schema of the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<Value>,
    /// Constrained generation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constrained: Option<bool>,
}

/// How to continue an interrupted generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resume {
    /// Tool-response parts answering interrupted requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respond: Option<Vec<Part>>,
    /// Tool-request parts to run again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<Vec<Part>>,
    /// Metadata stored on the resumed tool message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A middleware named in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiddlewareRef {
    /// Registered middleware name.
    pub name: String,
    /// Its configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

/// The input of `/util/generate`: the whole generate call as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct GenerateActionOptions {
    /// Model name (`googleai/gemini-2.0-flash`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Context documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<Vec<DocumentData>>,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Tool names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    /// Resource names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    /// Tool choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Provider configuration (any JSON; `null` is kept).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub config: Option<Value>,
    /// Output options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<GenerateActionOutputConfig>,
    /// Resume an interrupted generation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    /// Stop and hand back tool requests instead of running them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_tool_requests: Option<bool>,
    /// Maximum tool-call turns (default 5).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::count"
    )]
    pub max_turns: Option<u32>,
    /// Name of the generate span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_name: Option<String>,
    /// Middleware by name.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub r#use: Option<Vec<MiddlewareRef>>,
}
