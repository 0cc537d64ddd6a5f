//! Request validation, with the API's messages (400 `invalid_request_error`): unknown
//! and missing fields, roles, empty content, tool_use / tool_result pairing, image
//! types, tool names and schemas, sampling ranges, thinking budgets, thinking blocks
//! that must come back signed, strict structured-output schemas.

use std::collections::HashSet;

use serde_json::Value;

use super::behaviour::sign;
use crate::translate::request::IMAGE_TYPES;
use crate::wire::{ContentBlock, MessagesRequest, Source, Thinking};

/// A 400 with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// Top-level members the API takes that this server accepts without modelling them.
const OTHER_MEMBERS: [&str; 10] = [
    "service_tier",
    "container",
    "inference_geo",
    "cache_control",
    "speed",
    "diagnostics",
    "context_management",
    "mcp_servers",
    "user_profile_id",
    "workspace_id",
];

/// `messages[0].content` → `messages.0.content`, as the API names places.
fn dotted(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// Parses a body, reporting problems as the API does.
pub fn parse(body: &[u8]) -> Result<MessagesRequest<'static>, Invalid> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Invalid(format!(
            "There was an error parsing the body of your request: {e}"
        ))
    })?;
    let req: MessagesRequest<'static> = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = dotted(&e.path().to_string());
        let inner = e.into_inner().to_string();
        let place = |field: &str| {
            if path == "." || path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        };
        if let Some(rest) = inner.strip_prefix("missing field `") {
            Invalid(format!(
                "{}: Field required",
                place(rest.split('`').next().unwrap_or_default())
            ))
        } else if let Some(rest) = inner.strip_prefix("unknown field `") {
            Invalid(format!(
                "{}: Extra inputs are not permitted",
                place(rest.split('`').next().unwrap_or_default())
            ))
        } else if let Some(rest) = inner.strip_prefix("unknown variant `") {
            Invalid(format!(
                "{}: Input tag '{}' found using 'type' does not match any of the expected tags",
                place("type"),
                rest.split('`').next().unwrap_or_default()
            ))
        } else {
            Invalid(format!(
                "{}: {inner}",
                if path == "." { "body" } else { &path }
            ))
        }
    })?;
    if let Some(k) = req
        .extra
        .keys()
        .find(|k| !OTHER_MEMBERS.contains(&k.as_str()))
    {
        return Err(Invalid(format!("{k}: Extra inputs are not permitted")));
    }
    Ok(req)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_tool_name(name: &str) -> bool {
    valid_id(name) && name.len() <= 128
}

/// Checks a parsed request; the first problem, as the API reports it.
pub fn request(req: &MessagesRequest<'_>) -> Result<(), Invalid> {
    let fail = |m: String| Err(Invalid(m));
    if req.max_tokens < 1 {
        return fail("max_tokens: Input should be greater than or equal to 1".into());
    }
    if req.messages.is_empty() {
        return fail("messages: at least one message is required".into());
    }
    if let Some(system) = &req.system {
        for (j, b) in system.iter().enumerate() {
            if !matches!(b, ContentBlock::Text { .. }) {
                return fail(format!("system.{j}.type: Input should be 'text'"));
            }
        }
    }
    tools(req)?;
    messages(req)?;
    thinking(req)?;
    if let Some(f) = req.output_config.as_ref().and_then(|o| o.format.as_ref()) {
        if f.kind != "json_schema" {
            return fail("output_config.format.type: Input should be 'json_schema'".into());
        }
        strict(&f.schema, "output_config.format.schema")?;
    }
    Ok(())
}

fn tools(req: &MessagesRequest<'_>) -> Result<(), Invalid> {
    let mut names = HashSet::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        if !valid_tool_name(&t.name) {
            return Err(Invalid(format!(
                "tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
            )));
        }
        if t.input_schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(Invalid(format!(
                "tools.{i}.custom.input_schema.type: Input should be 'object'"
            )));
        }
        if !names.insert(t.name.as_ref()) {
            return Err(Invalid("tools: Tool names must be unique.".into()));
        }
    }
    Ok(())
}

fn messages(req: &MessagesRequest<'_>) -> Result<(), Invalid> {
    let last = req.messages.len() - 1;
    let mut open_calls: Vec<String> = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        let assistant = match m.role.as_ref() {
            "user" => false,
            "assistant" => true,
            _ => {
                return Err(Invalid(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                )));
            }
        };
        if m.content.is_empty() && !(assistant && i == last) {
            return Err(Invalid(format!(
                "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
            )));
        }
        let mut answered = Vec::new();
        for (j, b) in m.content.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            block(b, assistant, &at)?;
            if let ContentBlock::ToolResult { tool_use_id, .. } = b {
                if !open_calls.iter().any(|c| c == tool_use_id) {
                    return Err(Invalid(format!(
                        "{at}: unexpected `tool_use_id` found in `tool_result` blocks: {tool_use_id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    )));
                }
                answered.push(tool_use_id.to_string());
            }
        }
        if !open_calls.is_empty() {
            let missing: Vec<&str> = open_calls
                .iter()
                .filter(|c| !answered.contains(c))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(Invalid(format!(
                    "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                    missing.join(", ")
                )));
            }
        }
        open_calls = m
            .content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::ToolUse { id, .. } if assistant => Some(id.to_string()),
                _ => None,
            })
            .collect();
        if !open_calls.is_empty() && i == last {
            return Err(Invalid(format!(
                "messages.{i}: `tool_use` blocks must be followed by a user message with `tool_result` blocks"
            )));
        }
    }
    Ok(())
}

fn block(b: &ContentBlock<'_>, assistant: bool, at: &str) -> Result<(), Invalid> {
    let fail = |m: String| Err(Invalid(m));
    match b {
        ContentBlock::Text { text, .. } if text.is_empty() => {
            fail(format!("{at}.text: text content blocks must be non-empty"))
        }
        ContentBlock::Image { source, .. } => image(source, at),
        ContentBlock::Document {
            source: Source::Base64 { media_type, .. },
            ..
        } if media_type != "application/pdf" => fail(format!(
            "{at}.source.base64.media_type: Input should be 'application/pdf'"
        )),
        ContentBlock::ToolUse { id, input, .. } => {
            if !assistant {
                fail(format!(
                    "{at}: `tool_use` blocks can only be in `assistant` messages"
                ))
            } else if !valid_id(id) {
                fail(format!(
                    "{at}.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                ))
            } else if !input.is_object() {
                fail(format!("{at}.input: Input should be a valid dictionary"))
            } else {
                Ok(())
            }
        }
        ContentBlock::ToolResult { content, .. } => {
            if assistant {
                return fail(format!(
                    "{at}: `tool_result` blocks can only be in `user` messages"
                ));
            }
            for (k, c) in content.iter().flatten().enumerate() {
                match c {
                    ContentBlock::Text { .. }
                    | ContentBlock::Image { .. }
                    | ContentBlock::Document { .. } => {
                        block(c, false, &format!("{at}.content.{k}"))?
                    }
                    other => {
                        return fail(format!(
                            "{at}.content.{k}.type: Input tag '{}' found using 'type' does not match any of the expected tags: 'text', 'image', 'document'",
                            other.kind()
                        ));
                    }
                }
            }
            Ok(())
        }
        ContentBlock::Thinking {
            thinking,
            signature,
        } => {
            if !assistant {
                fail(format!(
                    "{at}: `thinking` blocks can only be in `assistant` messages"
                ))
            } else if *signature != sign(thinking) {
                fail(format!("{at}: Invalid `signature` in `thinking` block"))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn image(source: &Source<'_>, at: &str) -> Result<(), Invalid> {
    match source {
        Source::Base64 { media_type, data } => {
            if !IMAGE_TYPES.contains(&media_type.as_ref()) {
                return Err(Invalid(format!(
                    "{at}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
                )));
            }
            let base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
            if data.is_empty() || !data.bytes().all(base64) {
                return Err(Invalid(format!(
                    "{at}.source.base64.data: invalid base64 data"
                )));
            }
            Ok(())
        }
        Source::Url { url } if !(url.starts_with("https://") || url.starts_with("http://")) => Err(
            Invalid(format!("{at}.source.url.url: Input should be a valid URL")),
        ),
        Source::Text { .. } => Err(Invalid(format!(
            "{at}.source: Input tag 'text' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'"
        ))),
        _ => Ok(()),
    }
}

fn thinking(req: &MessagesRequest<'_>) -> Result<(), Invalid> {
    let enabled = match &req.thinking {
        Some(Thinking::Enabled { budget_tokens, .. }) => {
            if *budget_tokens < 1024 {
                return Err(Invalid(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                        .into(),
                ));
            }
            if *budget_tokens >= req.max_tokens {
                return Err(Invalid(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size".into(),
                ));
            }
            true
        }
        Some(Thinking::Adaptive { .. }) => true,
        _ => false,
    };
    if !enabled {
        return Ok(());
    }
    // The assistant turn being continued with tool results must start with thinking.
    let Some(i) = req.messages.iter().rposition(|m| m.role == "assistant") else {
        return Ok(());
    };
    let m = &req.messages[i];
    let calls = m
        .content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolUse { .. }));
    let first = m.content.first().map_or("nothing", ContentBlock::kind);
    if calls && first != "thinking" && first != "redacted_thinking" {
        return Err(Invalid(format!(
            "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        )));
    }
    Ok(())
}

/// Structured outputs need `additionalProperties: false` on every object.
fn strict(schema: &Value, at: &str) -> Result<(), Invalid> {
    match schema {
        Value::Object(o) => {
            let object = o.get("type").and_then(Value::as_str) == Some("object");
            if object && o.get("additionalProperties") != Some(&Value::Bool(false)) {
                return Err(Invalid(format!(
                    "{at}: For 'object' type, 'additionalProperties' must be explicitly set to false"
                )));
            }
            for (k, v) in o {
                strict(v, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| strict(v, &format!("{at}.{i}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: Value) -> Result<(), Invalid> {
        let req = parse(body.to_string().as_bytes())?;
        request(&req)
    }

    #[test]
    fn messages_read_like_the_api() {
        let e = check(serde_json::json!({"model": "claude-x", "messages": []})).unwrap_err();
        assert_eq!(e.0, "max_tokens: Field required");
        let e = check(
            serde_json::json!({"model": "claude-x", "max_tokens": 5, "foo": 1,
            "messages": [{"role": "user", "content": "hi"}]}),
        )
        .unwrap_err();
        assert_eq!(e.0, "foo: Extra inputs are not permitted");
        let e = check(serde_json::json!({"model": "claude-x", "max_tokens": 5,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "x": 1}]}]}))
        .unwrap_err();
        assert_eq!(
            e.0,
            "messages.0.content.0.x: Extra inputs are not permitted"
        );
        let e = check(serde_json::json!({"model": "claude-x", "max_tokens": 5, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {"role": "user", "content": "no result"}]}))
        .unwrap_err();
        assert!(
            e.0.contains("`tool_use` ids were found without `tool_result`"),
            "{}",
            e.0
        );
    }
}
