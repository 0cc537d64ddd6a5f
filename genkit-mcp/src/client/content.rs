//! MCP resources and prompt messages as Genkit parts and messages (the shapes Genkit
//! JS gives them).

use genkit_core::{Error, Message, Part, Result, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A resource a server lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct McpResource {
    /// The server it comes from.
    pub server: String,
    /// Its URI (for [`McpHost::read_resource`](crate::McpHost::read_resource)).
    pub uri: String,
    /// Its name.
    pub name: String,
    /// What it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// A prompt a server lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct McpPrompt {
    /// The server it comes from.
    pub server: String,
    /// Its name (for [`McpHost::get_prompt`](crate::McpHost::get_prompt)).
    pub name: String,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its arguments (all strings, as MCP prompts take them).
    pub arguments: Vec<McpPromptArgument>,
}

/// One argument of an [`McpPrompt`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpPromptArgument {
    /// Its name.
    pub name: String,
    /// What it means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it must be given.
    pub required: bool,
}

/// A listed resource (`resources/list` item) of `server`.
pub(crate) fn resource(server: &str, v: &Value) -> McpResource {
    McpResource {
        server: server.to_string(),
        uri: str_field(v, "uri"),
        name: str_field(v, "name"),
        description: opt_str_field(v, "description"),
        mime_type: opt_str_field(v, "mimeType"),
    }
}

/// A listed prompt (`prompts/list` item) of `server`.
pub(crate) fn prompt(server: &str, v: &Value) -> McpPrompt {
    let arguments = v
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| McpPromptArgument {
            name: str_field(a, "name"),
            description: opt_str_field(a, "description"),
            required: a.get("required").and_then(Value::as_bool) == Some(true),
        })
        .collect();
    McpPrompt {
        server: server.to_string(),
        name: str_field(v, "name"),
        description: opt_str_field(v, "description"),
        arguments,
    }
}

fn str_field(v: &Value, key: &str) -> String {
    opt_str_field(v, key).unwrap_or_default()
}

fn opt_str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// One item of `resources/read`'s `contents`: text as a text part, a blob as a media
/// part with a `data:` URL; the item's `_meta` becomes the part's metadata.
pub(crate) fn resource_part(item: &Value) -> Result<Part> {
    let mime = item.get("mimeType").and_then(Value::as_str);
    let mut part = if let Some(text) = item.get("text").and_then(Value::as_str) {
        json!({ "text": text })
    } else if let Some(blob) = item.get("blob").and_then(Value::as_str) {
        media(mime.unwrap_or("application/octet-stream"), blob)
    } else {
        return Err(Error::new(
            genkit_core::Status::Unimplemented,
            "an MCP resource content that is neither text nor blob is not supported",
        ));
    };
    if let Some(meta @ Value::Object(_)) = item.get("_meta") {
        part["metadata"] = meta.clone();
    }
    Ok(serde_json::from_value(part)?)
}

/// One MCP prompt message as a Genkit message (`assistant` → `model`).
pub(crate) fn prompt_message(message: &Value) -> Result<Message> {
    let role = match message.get("role").and_then(Value::as_str) {
        Some("assistant") => Role::Model,
        _ => Role::User,
    };
    let content = message.get("content").unwrap_or(&Value::Null);
    Ok(Message::new(role, vec![content_part(content)?]))
}

/// One MCP content block as a Genkit part: text, an image or audio (media with a
/// `data:` URL), an embedded resource (its text or blob) or a resource link
/// (`{"resource": {"uri"}}`).
fn content_part(block: &Value) -> Result<Part> {
    let part = match block.get("type").and_then(Value::as_str) {
        Some("text") => {
            json!({ "text": block.get("text").and_then(Value::as_str).unwrap_or_default() })
        }
        Some("image" | "audio") => {
            let mime = block
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream");
            media(
                mime,
                block
                    .get("data")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
        }
        Some("resource") => {
            return resource_part(block.get("resource").unwrap_or(&Value::Null));
        }
        Some("resource_link") => {
            json!({ "resource": { "uri": block.get("uri").cloned().unwrap_or_default() } })
        }
        other => {
            return Err(Error::new(
                genkit_core::Status::Unimplemented,
                format!("MCP content of type {other:?} is not supported"),
            ));
        }
    };
    Ok(serde_json::from_value(part)?)
}

fn media(mime: &str, base64: &str) -> Value {
    json!({ "media": { "contentType": mime, "url": format!("data:{mime};base64,{base64}") } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_contents_become_parts() {
        let p = resource_part(&json!({"uri": "x://a", "text": "hi", "_meta": {"k": 1}})).unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"text": "hi", "metadata": {"k": 1}})
        );
        let p = resource_part(&json!({"uri": "x://a", "blob": "AAAA", "mimeType": "image/png"}))
            .unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"media": {"contentType": "image/png", "url": "data:image/png;base64,AAAA"}})
        );
        let e = resource_part(&json!({"uri": "x://a"})).unwrap_err();
        assert_eq!(e.status(), genkit_core::Status::Unimplemented);
    }

    #[test]
    fn prompt_messages_map_roles() {
        let m = prompt_message(
            &json!({"role": "assistant", "content": {"type": "text", "text": "ok"}}),
        )
        .unwrap();
        assert_eq!(m.role, Role::Model);
        assert_eq!(m.text(), "ok");
    }
}
