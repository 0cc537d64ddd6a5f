//! An MCP server's tools as Genkit tools, and their results as Genkit tool outputs.

use std::sync::Arc;

use genkit_core::{Error, Result, ToolAction, ToolRef};
use rmcp::model::{CallToolRequestParams, Tool};
use serde_json::{Map, Value, json};

use super::connection::Server;

/// The Genkit tool for `tool` of `server`, named `{server}/{tool}` as Genkit JS names
/// it (models see the part after the last `/`), with the server's input schema and
/// description. Calling it calls the server (starting it again if it had exited).
pub(crate) fn tool_action(server: &Arc<Server>, tool: &Tool, raw: bool) -> ToolRef {
    let name = format!("{}/{}", server.name, tool.name);
    let description = tool.description.as_deref().unwrap_or_default().to_string();
    let input_schema = Value::Object((*tool.input_schema).clone());
    let server = Arc::clone(server);
    let tool_name: Arc<str> = Arc::from(tool.name.as_ref());
    Arc::new(ToolAction::from_json_fn(
        name,
        description,
        Some(input_schema),
        None,
        move |input, _ctx| {
            let server = Arc::clone(&server);
            let tool_name = Arc::clone(&tool_name);
            async move { call(&server, &tool_name, input, raw).await }
        },
    ))
}

/// Calls `tool` with `input` (a JSON object, or null for none).
async fn call(server: &Server, tool: &str, input: Value, raw: bool) -> Result<Value> {
    let arguments = match input {
        Value::Object(m) => Some(m),
        Value::Null => None,
        other => {
            return Err(Error::invalid_argument(format!(
                "the input of MCP tool '{}/{tool}' must be a JSON object, got {}",
                server.name,
                kind_of(&other)
            )));
        }
    };
    let mut params = CallToolRequestParams::new(tool.to_string());
    params.arguments = arguments;
    let result = server
        .request(|peer| async move { peer.call_tool(params).await })
        .await?;
    let result = serde_json::to_value(result)?;
    Ok(if raw { result } else { output_of(result) })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the model gets from a `tools/call` result, as Genkit JS (1.42) shapes it:
/// - `isError`: `{"error": <the text of its content>}` (a result the model reads, not a
///   failed call);
/// - `structuredContent`, when present;
/// - text only: the text, parsed as JSON when it looks like an object or array;
/// - one non-text content block: that block;
/// - anything else: the whole result.
pub(crate) fn output_of(result: Value) -> Value {
    let Value::Object(mut result) = result else {
        return result;
    };
    let content = match result.remove("content") {
        Some(Value::Array(c)) => c,
        _ => Vec::new(),
    };
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return json!({ "error": text_of(&content) });
    }
    if let Some(structured) = result.remove("structuredContent") {
        return structured;
    }
    let all_text = content.iter().all(|c| {
        c.get("type").and_then(Value::as_str) == Some("text")
            && c.get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty())
    });
    if all_text {
        let text = text_of(&content);
        let trimmed = text.trim_start();
        if (trimmed.starts_with('{') || trimmed.starts_with('['))
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            return v;
        }
        return Value::String(text);
    }
    if content.len() == 1 {
        return content.into_iter().next().unwrap_or(Value::Null);
    }
    let mut whole = Map::with_capacity(result.len() + 1);
    whole.insert("content".into(), Value::Array(content));
    whole.extend(result);
    Value::Object(whole)
}

/// The text blocks of a content list, joined.
fn text_of(content: &[Value]) -> String {
    content
        .iter()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_error_becomes_an_error_object() {
        let out =
            output_of(json!({"content": [{"type": "text", "text": "boom"}], "isError": true}));
        assert_eq!(out, json!({"error": "boom"}));
    }

    #[test]
    fn text_that_is_json_is_parsed() {
        let out = output_of(json!({"content": [{"type": "text", "text": " {\"a\": 1}"}]}));
        assert_eq!(out, json!({"a": 1}));
        let out = output_of(json!({"content": [{"type": "text", "text": "{not json"}]}));
        assert_eq!(out, json!("{not json"));
    }

    #[test]
    fn texts_are_joined() {
        let out = output_of(
            json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}),
        );
        assert_eq!(out, json!("ab"));
    }

    #[test]
    fn one_image_is_that_block_and_mixed_content_is_the_result() {
        let img = json!({"type": "image", "data": "AAAA", "mimeType": "image/png"});
        assert_eq!(output_of(json!({"content": [img.clone()]})), img);
        let mixed = json!({"content": [{"type": "text", "text": "a"}, img], "_meta": {"x": 1}});
        assert_eq!(output_of(mixed.clone()), mixed);
    }

    #[test]
    fn structured_content_wins_over_text() {
        let out = output_of(
            json!({"content": [{"type": "text", "text": "3"}], "structuredContent": {"sum": 3}}),
        );
        assert_eq!(out, json!({"sum": 3}));
    }
}
