//! Request validation with OpenAI's messages: a refused request is `(status, body)`.

use std::collections::HashSet;

use serde_json::Value;

use super::ServerOptions;
use super::script::error_body;

/// A refusal: the HTTP status and OpenAI's error body.
pub type Refusal = (u16, Value);

/// The top-level parameters of `POST /chat/completions`.
const CHAT_PARAMS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "reasoning_effort",
    "frequency_penalty",
    "presence_penalty",
    "logprobs",
    "top_logprobs",
    "n",
    "user",
    "logit_bias",
    "metadata",
    "store",
    "service_tier",
    "modalities",
    "audio",
    "prediction",
    "verbosity",
    "web_search_options",
    "safety_identifier",
    "prompt_cache_key",
    "functions",
    "function_call",
];

/// Extra parameters compatible servers take.
const COMPATIBLE_PARAMS: &[&str] = &[
    "top_k",
    "min_p",
    "repeat_penalty",
    "num_ctx",
    "keep_alive",
    "options",
];

fn bad(message: impl AsRef<str>, param: Option<&str>, code: Option<&str>) -> Refusal {
    (400, error_body(400, message.as_ref(), param, code))
}

fn missing(param: &str) -> Refusal {
    bad(
        format!("Missing required parameter: '{param}'."),
        Some(param),
        Some("missing_required_parameter"),
    )
}

fn invalid_type(param: &str, expected: &str, got: &Value) -> Refusal {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    bad(
        format!("Invalid type for '{param}': expected {expected}, but got {got} instead."),
        Some(param),
        Some("invalid_type"),
    )
}

/// Checks a chat request as OpenAI does.
pub fn validate_chat(body: &Value, options: &ServerOptions) -> Result<(), Refusal> {
    let Some(obj) = body.as_object() else {
        return Err(invalid_type("body", "an object", body));
    };
    let compatible = options.model_prefixes.is_empty();
    for key in obj.keys() {
        if !CHAT_PARAMS.contains(&key.as_str())
            && !(compatible && COMPATIBLE_PARAMS.contains(&key.as_str()))
        {
            return Err(bad(
                format!("Unrecognized request argument supplied: {key}"),
                None,
                None,
            ));
        }
    }
    let model = match obj.get("model") {
        None => return Err(bad("you must provide a model parameter", None, None)),
        Some(Value::String(m)) => m,
        Some(other) => return Err(invalid_type("model", "a string", other)),
    };
    let messages = match obj.get("messages") {
        None => return Err(missing("messages")),
        Some(Value::Array(m)) => m,
        Some(other) => return Err(invalid_type("messages", "an array", other)),
    };
    if messages.is_empty() {
        return Err(bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    // Optional parameters may be null: the same as absent.
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    let tools = tool_names(get("tools"))?;
    validate_messages(messages)?;
    validate_tool_choice(get("tool_choice"), &tools)?;
    validate_response_format(get("response_format"), messages)?;
    range(get("temperature"), "temperature", 2.0)?;
    range(get("top_p"), "top_p", 1.0)?;
    if get("stream_options").is_some() && get("stream") != Some(&Value::Bool(true)) {
        return Err(bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options"),
            None,
        ));
    }
    if !options.model_prefixes.is_empty()
        && !options
            .model_prefixes
            .iter()
            .any(|p| model.starts_with(p.as_str()))
    {
        return Err(model_not_found(model));
    }
    Ok(())
}

/// 404 `model_not_found`.
pub fn model_not_found(model: &str) -> Refusal {
    (
        404,
        error_body(
            404,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            None,
            Some("model_not_found"),
        ),
    )
}

fn range(v: Option<&Value>, param: &str, max: f64) -> Result<(), Refusal> {
    let Some(v) = v else { return Ok(()) };
    let Some(n) = v.as_f64() else {
        return Err(invalid_type(param, "a decimal", v));
    };
    if n > max {
        return Err(bad(
            format!(
                "Invalid '{param}': decimal above maximum value. Expected a value <= {max}, but got {n} instead."
            ),
            Some(param),
            Some("decimal_above_max_value"),
        ));
    }
    if n < 0.0 {
        return Err(bad(
            format!(
                "Invalid '{param}': decimal below minimum value. Expected a value >= 0, but got {n} instead."
            ),
            Some(param),
            Some("decimal_below_min_value"),
        ));
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn tool_names(tools: Option<&Value>) -> Result<Vec<String>, Refusal> {
    let Some(tools) = tools else {
        return Ok(Vec::new());
    };
    let Some(list) = tools.as_array() else {
        return Err(invalid_type("tools", "an array", tools));
    };
    let mut names = Vec::new();
    for (i, t) in list.iter().enumerate() {
        if t.get("type").and_then(Value::as_str) != Some("function") {
            return Err(missing(&format!("tools[{i}].type")));
        }
        let Some(name) = t.pointer("/function/name").and_then(Value::as_str) else {
            return Err(missing(&format!("tools[{i}].function.name")));
        };
        if !valid_name(name) {
            return Err(bad(
                format!(
                    "Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
                ),
                Some(&format!("tools[{i}].function.name")),
                Some("invalid_value"),
            ));
        }
        if let Some(p) = t.pointer("/function/parameters")
            && !p.is_object()
        {
            return Err(invalid_type(
                &format!("tools[{i}].function.parameters"),
                "an object",
                p,
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

fn validate_tool_choice(choice: Option<&Value>, tools: &[String]) -> Result<(), Refusal> {
    let Some(choice) = choice else { return Ok(()) };
    // `auto` and `none` without tools change nothing; rig 0.21 always sends `auto` with
    // `tools: []`. (Whether OpenAI refuses them too is not checked here.)
    let no_op = matches!(choice.as_str(), Some("auto" | "none"));
    if tools.is_empty() && !no_op {
        return Err(bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            Some("tool_choice"),
            None,
        ));
    }
    match choice {
        Value::String(s) if ["auto", "none", "required"].contains(&s.as_str()) => Ok(()),
        Value::String(s) => Err(bad(
            format!("Invalid value: '{s}'. Supported values are: 'none', 'auto', and 'required'."),
            Some("tool_choice"),
            Some("invalid_value"),
        )),
        Value::Object(_) => match choice.pointer("/function/name").and_then(Value::as_str) {
            Some(n) if tools.iter().any(|t| t == n) => Ok(()),
            Some(n) => Err(bad(
                format!(
                    "Invalid value for 'tool_choice': function '{n}' is not among the declared tools."
                ),
                Some("tool_choice"),
                None,
            )),
            None => Err(missing("tool_choice.function.name")),
        },
        other => Err(invalid_type("tool_choice", "a string or an object", other)),
    }
}

const ROLES: &str = "'system', 'assistant', 'user', 'function', 'tool', and 'developer'";

fn part_types(role: &str) -> &'static [&'static str] {
    match role {
        "user" => &["text", "image_url", "input_audio", "file"],
        "assistant" => &["text", "refusal"],
        _ => &["text"],
    }
}

fn validate_content(i: usize, role: &str, content: Option<&Value>) -> Result<(), Refusal> {
    let param = format!("messages[{i}].content");
    match content {
        None | Some(Value::Null) if role == "assistant" => Ok(()),
        None | Some(Value::Null) => Err(missing(&param)),
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                let ty = p.get("type").and_then(Value::as_str).unwrap_or_default();
                if !part_types(role).contains(&ty) {
                    let allowed: Vec<String> =
                        part_types(role).iter().map(|t| format!("'{t}'")).collect();
                    return Err(bad(
                        format!(
                            "Invalid value: '{ty}'. Supported values are: {}.",
                            allowed.join(", ")
                        ),
                        Some(&format!("{param}[{j}].type")),
                        Some("invalid_value"),
                    ));
                }
                let field = match ty {
                    "image_url" => "/image_url/url",
                    "input_audio" => "/input_audio/data",
                    "file" => "/file",
                    "refusal" => "/refusal",
                    _ => "/text",
                };
                if p.pointer(field).is_none() {
                    return Err(missing(&format!(
                        "{param}[{j}].{}",
                        field[1..].replace('/', ".")
                    )));
                }
            }
            Ok(())
        }
        Some(other) => Err(invalid_type(
            &param,
            "one of a string or array of objects",
            other,
        )),
    }
}

fn validate_messages(messages: &[Value]) -> Result<(), Refusal> {
    // Ids of tool calls not answered yet, and the message that made them.
    let mut open: Vec<String> = Vec::new();
    let mut opened_at = 0;
    for (i, m) in messages.iter().enumerate() {
        let Some(role) = m.get("role").and_then(Value::as_str) else {
            return Err(missing(&format!("messages[{i}].role")));
        };
        if role != "tool" && !open.is_empty() {
            return Err(unanswered(opened_at, &open));
        }
        match role {
            "system" | "developer" | "user" => validate_content(i, role, m.get("content"))?,
            "assistant" => {
                validate_content(i, role, m.get("content"))?;
                let mut seen = HashSet::new();
                for (j, c) in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(id) = c.get("id").and_then(Value::as_str) else {
                        return Err(missing(&format!("messages[{i}].tool_calls[{j}].id")));
                    };
                    if c.pointer("/function/arguments")
                        .and_then(Value::as_str)
                        .is_none()
                    {
                        return Err(missing(&format!(
                            "messages[{i}].tool_calls[{j}].function.arguments"
                        )));
                    }
                    if c.pointer("/function/name")
                        .and_then(Value::as_str)
                        .is_none()
                    {
                        return Err(missing(&format!(
                            "messages[{i}].tool_calls[{j}].function.name"
                        )));
                    }
                    if seen.insert(id.to_string()) {
                        open.push(id.to_string());
                    }
                }
                opened_at = i;
                if m.get("content").is_none_or(Value::is_null) && open.is_empty() {
                    return Err(missing(&format!("messages[{i}].content")));
                }
            }
            "tool" => {
                validate_content(i, role, m.get("content"))?;
                let Some(id) = m.get("tool_call_id").and_then(Value::as_str) else {
                    return Err(missing(&format!("messages[{i}].tool_call_id")));
                };
                match open.iter().position(|o| o == id) {
                    Some(k) => {
                        open.remove(k);
                    }
                    None => {
                        return Err(bad(
                            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                            Some(&format!("messages.[{i}].role")),
                            None,
                        ));
                    }
                }
            }
            other => {
                return Err(bad(
                    format!("Invalid value: '{other}'. Supported values are: {ROLES}."),
                    Some(&format!("messages[{i}].role")),
                    Some("invalid_value"),
                ));
            }
        }
    }
    if !open.is_empty() {
        return Err(unanswered(opened_at, &open));
    }
    Ok(())
}

fn unanswered(at: usize, ids: &[String]) -> Refusal {
    bad(
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            ids.join(", ")
        ),
        Some(&format!("messages.[{at}].role")),
        None,
    )
}

fn mentions_json(messages: &[Value]) -> bool {
    messages.iter().any(|m| match m.get("content") {
        Some(Value::String(s)) => s.to_lowercase().contains("json"),
        Some(Value::Array(parts)) => parts.iter().any(|p| {
            p.get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| t.to_lowercase().contains("json"))
        }),
        _ => false,
    })
}

fn validate_response_format(format: Option<&Value>, messages: &[Value]) -> Result<(), Refusal> {
    let Some(format) = format else { return Ok(()) };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(()),
        Some("json_object") if mentions_json(messages) => Ok(()),
        Some("json_object") => Err(bad(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            Some("messages"),
            None,
        )),
        Some("json_schema") => {
            if format
                .pointer("/json_schema/name")
                .and_then(Value::as_str)
                .is_none()
            {
                return Err(missing("response_format.json_schema.name"));
            }
            match format.pointer("/json_schema/schema") {
                None | Some(Value::Object(_)) => Ok(()),
                Some(other) => Err(invalid_type(
                    "response_format.json_schema.schema",
                    "an object",
                    other,
                )),
            }
        }
        Some(other) => Err(bad(
            format!(
                "Invalid value: '{other}'. Supported values are: 'text', 'json_object', and 'json_schema'."
            ),
            Some("response_format.type"),
            Some("invalid_value"),
        )),
        None => Err(missing("response_format.type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: Value) -> Result<(), Refusal> {
        validate_chat(&body, &ServerOptions::default())
    }

    #[test]
    fn openai_refusals() {
        let ok = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
        assert!(check(ok).is_ok());
        let (s, b) = check(json!({"model": "gpt-4o", "messages": [], "foo": 1})).unwrap_err();
        assert_eq!(
            (s, b["error"]["message"].as_str().unwrap()),
            (400, "Unrecognized request argument supplied: foo")
        );
        let (_, b) = check(json!({"model": "gpt-4o", "messages": []})).unwrap_err();
        assert_eq!(b["error"]["code"], json!("empty_array"));
        let (_, b) =
            check(json!({"model": "gpt-4o", "messages": [{"role": "bot", "content": "x"}]}))
                .unwrap_err();
        assert_eq!(b["error"]["param"], json!("messages[0].role"));
        let (_, b) = check(
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"},
            {"role": "tool", "tool_call_id": "c", "content": "r"}]}),
        )
        .unwrap_err();
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("must be a response to a preceeding message")
        );
        let (_, b) = check(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "user", "content": "y"}]})).unwrap_err();
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .ends_with("did not have response messages: c1")
        );
        let (_, b) = check(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})).unwrap_err();
        assert_eq!(b["error"]["param"], json!("messages"));
        let (_, b) = check(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "temperature": 3})).unwrap_err();
        assert_eq!(b["error"]["code"], json!("decimal_above_max_value"));
        let (s, b) =
            check(json!({"model": "llama3", "messages": [{"role": "user", "content": "x"}]}))
                .unwrap_err();
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (404, "model_not_found")
        );
        let (_, b) = check(
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "bad name"}}]}),
        )
        .unwrap_err();
        assert_eq!(b["error"]["param"], json!("tools[0].function.name"));
        assert!(check(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "tools": [], "tool_choice": "auto"})).is_ok());
        let (_, b) = check(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "tool_choice": "required"})).unwrap_err();
        assert_eq!(b["error"]["param"], json!("tool_choice"));
        let (_, b) = check(json!({"model": "gpt-4o", "messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})).unwrap_err();
        assert_eq!(b["error"]["param"], json!("messages[0].content[0].type"));
    }
}
