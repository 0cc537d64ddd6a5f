//! `Role` and `Message`.

use serde::{Deserialize, Serialize};

use super::part::{Metadata, Part, ToolRequest, reasoning_of, text_of};

/// Who a message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System instructions.
    System,
    /// The user.
    User,
    /// The model.
    Model,
    /// Tool results.
    Tool,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Message {
    /// Who it is from.
    pub role: Role,
    /// Its parts.
    pub content: Vec<Part>,
    /// Metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Message {
    /// A message with parts.
    pub fn new(role: Role, content: Vec<Part>) -> Self {
        Message {
            role,
            content,
            metadata: None,
        }
    }

    /// A user message with one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Message::new(Role::User, vec![Part::text(text)])
    }

    /// A system message with one text part.
    pub fn system(text: impl Into<String>) -> Self {
        Message::new(Role::System, vec![Part::text(text)])
    }

    /// A model message with one text part.
    pub fn model(text: impl Into<String>) -> Self {
        Message::new(Role::Model, vec![Part::text(text)])
    }

    /// The concatenated text of all parts.
    pub fn text(&self) -> String {
        text_of(&self.content)
    }

    /// The concatenated reasoning of all parts.
    pub fn reasoning(&self) -> String {
        reasoning_of(&self.content)
    }

    /// The tool requests in this message.
    pub fn tool_requests(&self) -> impl Iterator<Item = &ToolRequest> {
        self.content
            .iter()
            .filter_map(|p| p.tool_request.as_deref())
    }

    /// The tool-request parts marked as interrupted (`metadata.interrupt`).
    pub fn interrupts(&self) -> impl Iterator<Item = &Part> {
        self.content.iter().filter(|p| {
            p.tool_request.is_some() && p.metadata_value("interrupt").is_some_and(|v| !is_falsy(v))
        })
    }
}

/// JavaScript truthiness of a JSON value, as Genkit's loop tests metadata.
pub(crate) fn is_falsy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        _ => false,
    }
}
