//! The default answer of the local server (see the rules in [`super`]).

use genkit_googleai::server::{argument_text, arguments, example};
use serde_json::{Value, json};

use crate::wire::{
    CompletionTokensDetails, ResponseFunction, ResponseMessage, ResponseToolCall, Usage,
};

/// The answer to a (valid) chat request: the message, its finish reason, the usage.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The assistant's message.
    pub message: ResponseMessage,
    /// `stop` or `tool_calls`.
    pub finish_reason: &'static str,
    /// Word counts.
    pub usage: Usage,
}

fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// The tool calls to make: the named or first declared tool, one call per `;` piece.
fn tool_calls(body: &Value, prompt: &str, turn: usize) -> Option<Vec<ResponseToolCall>> {
    let tools = body.get("tools")?.as_array().filter(|t| !t.is_empty())?;
    let tool = match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => return None,
        Some(c @ Value::Object(_)) => {
            let name = c.pointer("/function/name").and_then(Value::as_str);
            tools
                .iter()
                .find(|t| t.pointer("/function/name").and_then(Value::as_str) == name)?
        }
        _ => &tools[0],
    };
    let name = tool.pointer("/function/name")?.as_str()?;
    let params = tool.pointer("/function/parameters");
    let calls = argument_text(prompt)
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, piece)| ResponseToolCall {
            id: format!("call_{turn}_{i}"),
            kind: "function".into(),
            function: ResponseFunction {
                name: name.to_string(),
                arguments: arguments(params, piece).to_string(),
            },
        })
        .collect::<Vec<_>>();
    (!calls.is_empty()).then_some(calls)
}

/// `Based on {name}: {content}` for each tool result of the turn.
fn from_results(messages: &[Value]) -> Option<String> {
    let mut lines = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if m.get("role").and_then(Value::as_str) != Some("tool") {
            continue;
        }
        let id = m
            .get("tool_call_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = messages[..i]
            .iter()
            .rev()
            .flat_map(|a| {
                a.get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
            .and_then(|c| c.pointer("/function/name").and_then(Value::as_str))
            .unwrap_or("tool");
        lines.push(format!("Based on {name}: {}", text_of(m.get("content"))));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn json_content(format: &Value, prompt: &str) -> Option<String> {
    match format.get("type").and_then(Value::as_str)? {
        "json_schema" => {
            let schema = format
                .pointer("/json_schema/schema")
                .cloned()
                .unwrap_or(json!({}));
            Some(example(&schema, &argument_text(prompt), 0).to_string())
        }
        "json_object" => Some(json!({ "text": prompt }).to_string()),
        _ => None,
    }
}

/// Answers a valid request by the default rule.
pub fn answer(body: &Value) -> Answer {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let messages: &[Value] = body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let start = messages
        .iter()
        .rposition(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .unwrap_or(0);
    let prompt = messages
        .get(start)
        .map(|m| text_of(m.get("content")))
        .unwrap_or_default();
    let turn = &messages[start..];
    let prompt_tokens = messages
        .iter()
        .map(|m| words(&text_of(m.get("content"))))
        .sum::<u64>();

    let mut message = ResponseMessage {
        role: "assistant".into(),
        ..Default::default()
    };
    if model.contains("reasoner") || model.contains("r1") {
        message.reasoning_content = Some(format!("Thinking about: {prompt}"));
    }
    let answered = turn
        .iter()
        .any(|m| m.get("role").and_then(Value::as_str) == Some("tool"));
    let mut finish_reason = "stop";
    if let Some(calls) = (!answered)
        .then(|| tool_calls(body, &prompt, start))
        .flatten()
    {
        message.tool_calls = Some(calls);
        finish_reason = "tool_calls";
    } else if let Some(text) = from_results(turn) {
        message.content = Some(text);
    } else if let Some(text) = body
        .get("response_format")
        .and_then(|f| json_content(f, &prompt))
    {
        message.content = Some(text);
    } else {
        message.content = Some(format!(
            "This is the local OpenAI server ({model}) answering: {prompt}"
        ));
    }
    let completion_tokens = words(message.content.as_deref().unwrap_or_default())
        + message
            .tool_calls
            .iter()
            .flatten()
            .map(|c| words(&c.function.arguments))
            .sum::<u64>();
    let reasoning = model.starts_with('o') || body.get("reasoning_effort").is_some();
    let usage = Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens: prompt_tokens + completion_tokens,
        completion_tokens_details: reasoning.then(|| CompletionTokensDetails {
            reasoning_tokens: Some(words(&prompt)),
        }),
        prompt_tokens_details: None,
    };
    Answer {
        message,
        finish_reason,
        usage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_the_first_tool_then_answers_from_results() {
        let tools = json!([{"type": "function", "function": {"name": "web_search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}]);
        let a = answer(
            &json!({"model": "gpt-4o", "tools": tools, "messages": [{"role": "user", "content": "Compare: rust; go"}]}),
        );
        let calls = a.message.tool_calls.unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].function.arguments, r#"{"query":"go"}"#);
        assert_eq!(a.finish_reason, "tool_calls");
        let a = answer(&json!({"model": "gpt-4o", "tools": tools, "messages": [
            {"role": "user", "content": "Compare: rust"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "web_search", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "Results for: rust"}]}));
        assert_eq!(
            a.message.content.as_deref(),
            Some("Based on web_search: Results for: rust")
        );
        let a = answer(
            &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi there"}]}),
        );
        assert_eq!(
            a.message.content.as_deref(),
            Some("This is the local OpenAI server (gpt-4o) answering: hi there")
        );
        assert_eq!(a.usage.prompt_tokens, 2);
    }
}
