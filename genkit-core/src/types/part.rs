//! `Part`: one piece of message content (text, media, tool request/response, data, …).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object (`metadata`, `custom`, …).
pub type Metadata = Map<String, Value>;

/// One piece of content, as Genkit's `Part`: exactly one of `text`, `media`,
/// `toolRequest`, `toolResponse`, `data`, `custom`, `reasoning` or `resource` is set,
/// and any part may carry `metadata`.
///
/// It is a struct of optional fields, like Genkit's own JSON, so that every document
/// Genkit writes round-trips unchanged. The rare members are boxed (`text` and
/// `reasoning` are inline), so a text part is ~100 bytes rather than ~500; the JSON is
/// the same. Read them through the box as before (`if let Some(r) = &part.tool_request
/// { r.name … }`, `part.tool_request.as_deref()` for an `Option<&ToolRequest>`), and
/// build parts with the constructors (`Part::tool_request(..)`, `Part::data(..)`, …).
/// Every field is a different `Part` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Part {
    /// Plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Media by URL (including `data:` URLs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Box<Media>>,
    /// A request from the model to run a tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_request: Option<Box<ToolRequest>>,
    /// The result of a tool run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_response: Option<Box<ToolResponse>>,
    /// Arbitrary JSON data.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_boxed_value"
    )]
    pub data: Option<Box<Value>>,
    /// Model reasoning ("thoughts").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// A resource reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Box<Resource>>,
    /// Provider-specific content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Box<Metadata>>,
    /// Metadata on this part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Box<Metadata>>,
}

/// `data: null` is a data part whose data is null, not a missing field.
pub(super) fn some_value<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// [`some_value`], boxed.
fn some_boxed_value<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Box<Value>>, D::Error> {
    some_value(d).map(|v| v.map(Box::new))
}

/// Media content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Media {
    /// URL (http(s), gs, or `data:`).
    pub url: String,
    /// MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// A resource reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Resource URI.
    pub uri: String,
}

/// A model's request to run a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolRequest {
    /// Tool name.
    pub name: String,
    /// Call reference, echoed in the matching response.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// Tool input.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub input: Option<Value>,
    /// True while the request is still being streamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
}

/// The result of running a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolResponse {
    /// Tool name.
    pub name: String,
    /// The request's reference.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// Tool output.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_value"
    )]
    pub output: Option<Value>,
    /// Multipart tool content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<Value>>,
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Part {
            text: Some(text.into()),
            ..Default::default()
        }
    }

    /// A media part.
    pub fn media(url: impl Into<String>, content_type: Option<String>) -> Self {
        Part {
            media: Some(Box::new(Media {
                url: url.into(),
                content_type,
            })),
            ..Default::default()
        }
    }

    /// A data part.
    pub fn data(data: Value) -> Self {
        Part {
            data: Some(Box::new(data)),
            ..Default::default()
        }
    }

    /// A reasoning part.
    pub fn reasoning(text: impl Into<String>) -> Self {
        Part {
            reasoning: Some(text.into()),
            ..Default::default()
        }
    }

    /// A tool-request part.
    pub fn tool_request(name: impl Into<String>, r#ref: Option<String>, input: Value) -> Self {
        Part {
            tool_request: Some(Box::new(ToolRequest {
                name: name.into(),
                r#ref,
                input: Some(input),
                partial: None,
            })),
            ..Default::default()
        }
    }

    /// A tool-response part.
    pub fn tool_response(name: impl Into<String>, r#ref: Option<String>, output: Value) -> Self {
        Part {
            tool_response: Some(Box::new(ToolResponse {
                name: name.into(),
                r#ref,
                output: Some(output),
                content: None,
            })),
            ..Default::default()
        }
    }

    /// Adds (or replaces) one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: Value) -> Self {
        self.metadata
            .get_or_insert_with(Box::default)
            .insert(key.into(), value);
        self
    }

    /// The metadata value under `key`.
    pub fn metadata_value(&self, key: &str) -> Option<&Value> {
        self.metadata.as_ref()?.get(key)
    }
}

impl From<&str> for Part {
    fn from(s: &str) -> Self {
        Part::text(s)
    }
}

impl From<String> for Part {
    fn from(s: String) -> Self {
        Part::text(s)
    }
}

/// Concatenates the `text` of every part, with no separator (Genkit's `text`).
pub fn text_of(parts: &[Part]) -> String {
    let mut out = String::new();
    for p in parts {
        if let Some(t) = &p.text {
            out.push_str(t);
        }
    }
    out
}

/// Concatenates the `reasoning` of every part.
pub fn reasoning_of(parts: &[Part]) -> String {
    let mut out = String::new();
    for p in parts {
        if let Some(t) = &p.reasoning {
            out.push_str(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The rare members are boxed: a text part is a few words, not ~500 bytes.
    #[test]
    fn a_part_is_small_and_its_json_is_unchanged() {
        assert!(
            std::mem::size_of::<Part>() <= 112,
            "Part is {} bytes",
            std::mem::size_of::<Part>()
        );
        for doc in [
            json!({"text": "hi", "metadata": {"a": 1}}),
            json!({"data": null}),
            json!({"media": {"url": "data:x", "contentType": "image/png"}}),
            json!({"toolRequest": {"name": "t", "ref": "1", "input": {"q": 1}}}),
            json!({"toolResponse": {"name": "t", "output": null}}),
            json!({"resource": {"uri": "file:///a"}}),
            json!({"custom": {"k": [1, 2]}, "reasoning": "r"}),
        ] {
            let part: Part = serde_json::from_value(doc.clone()).expect("a Genkit part");
            assert_eq!(serde_json::to_value(&part).expect("serializes"), doc);
        }
        let part: Part = serde_json::from_value(json!({"data": null})).expect("a data part");
        assert_eq!(part.data.as_deref(), Some(&Value::Null));
    }
}
