//! Genkit's `GenerateRequest` → a Chat Completions request.
//!
//! - Messages: system → `system` (its text parts joined); user → `user` (a string when
//!   it is one text part, else parts); model → `assistant` (text joined, tool requests
//!   → `tool_calls`; reasoning is not sent back: the API does not take it); tool →
//!   one `tool` message per tool response.
//! - Parts: text → `text`; media `image/*` → `image_url` (any URL); `audio/wav` /
//!   `audio/mpeg` `data:` URLs → `input_audio`; `application/pdf` `data:` URLs → `file`;
//!   data → its JSON as text. Anything else is INVALID_ARGUMENT naming the part.
//! - A tool request's `ref` is the call id (a request without one gets its tool's name).
//!   A tool response's output is sent as text: strings as they are, other JSON compact.
//! - Tools → `tools` (the input schema as it is, serialized in place; no schema: an empty
//!   object schema); `toolChoice` → `tool_choice` `auto` / `required` / `none`.
//! - JSON output (format `json` or content type `application/json`) → `response_format`
//!   `json_schema` with the output schema (named `output`), or `json_object` without one.
//! - Config: `maxOutputTokens` → `max_completion_tokens` (`max_tokens` for compatible
//!   servers, which mostly know only that one), `stopSequences` → `stop`, `topK` → `top_k`
//!   for compatible servers (OpenAI has none: dropped), `version` → the model to call;
//!   other camelCase keys become snake_case (`topP` → `top_p`, `reasoningEffort` →
//!   `reasoning_effort`, `frequencyPenalty`, `presencePenalty`, `seed`, `user`, …) and
//!   snake_case keys pass as they are. An `apiKey` is refused: a request's config is
//!   recorded in traces.

use std::borrow::Cow;
use std::sync::LazyLock;

use genkit_core::{
    Error, GenerateRequest, Media, Message, Part, Result, Role, ToolChoice, ToolRequest,
    ToolResponse,
};
use serde_json::{Map, Value, json};

use crate::wire::{
    ChatMessage, ChatRequest, ContentPart, FileData, FunctionCall, FunctionDef, ImageUrl,
    InputAudio, JsonSchemaFormat, ResponseFormat, StreamOptions, ToolCall, ToolDef, UserContent,
};

/// Which flavour of the API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// OpenAI's own API.
    OpenAi,
    /// An OpenAI-compatible server (Ollama, vLLM, DeepSeek, …).
    Compatible,
}

static EMPTY_OBJECT: LazyLock<Value> =
    LazyLock::new(|| json!({"type": "object", "properties": {}}));

/// Translates a Genkit request for `model`.
pub fn to_openai<'a>(
    req: &'a GenerateRequest,
    model: &'a str,
    dialect: Dialect,
    stream: bool,
) -> Result<ChatRequest<'a>> {
    let mut messages = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        push_message(m, &mut messages).map_err(|e| at(e, &format!("messages[{i}]")))?;
    }
    let tools = req
        .tools
        .iter()
        .flatten()
        .map(|t| ToolDef {
            kind: "function",
            function: FunctionDef {
                name: &t.name,
                description: &t.description,
                parameters: t.input_schema.as_ref().unwrap_or(&EMPTY_OBJECT),
            },
        })
        .collect();
    let tool_choice = req.tool_choice.map(|c| {
        Value::from(match c {
            ToolChoice::Auto => "auto",
            ToolChoice::Required => "required",
            ToolChoice::None => "none",
        })
    });
    let (config, version) = config(req.config.as_ref(), dialect)?;
    Ok(ChatRequest {
        model: version.map_or(Cow::Borrowed(model), Cow::Owned),
        messages,
        tools,
        tool_choice,
        response_format: response_format(req),
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
        config,
    })
}

fn at(e: Error, path: &str) -> Error {
    Error::invalid_argument(format!("{path}: {}", e.message()))
}

fn push_message<'a>(m: &'a Message, out: &mut Vec<ChatMessage<'a>>) -> Result<()> {
    match m.role {
        Role::System => out.push(ChatMessage::System {
            content: joined_text(&m.content, "a system message")?,
        }),
        Role::User => out.push(ChatMessage::User {
            content: user_content(&m.content)?,
        }),
        Role::Model => out.push(assistant(&m.content)?),
        Role::Tool => {
            for (j, p) in m.content.iter().enumerate() {
                let r = p.tool_response.as_ref().ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "content[{j}]: a tool message holds only tool responses"
                    ))
                })?;
                out.push(tool_result(r));
            }
        }
    }
    Ok(())
}

/// The text parts of a message, joined (no other kind allowed).
fn joined_text<'a>(parts: &'a [Part], what: &str) -> Result<Cow<'a, str>> {
    if let [p] = parts
        && let Some(t) = &p.text
    {
        return Ok(Cow::Borrowed(t));
    }
    let mut s = String::new();
    for (j, p) in parts.iter().enumerate() {
        match &p.text {
            Some(t) => s.push_str(t),
            None => {
                return Err(Error::invalid_argument(format!(
                    "content[{j}]: {what} holds only text"
                )));
            }
        }
    }
    Ok(Cow::Owned(s))
}

fn user_content(parts: &[Part]) -> Result<UserContent<'_>> {
    if let [p] = parts
        && let Some(t) = &p.text
    {
        return Ok(UserContent::Text(Cow::Borrowed(t)));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        out.push(user_part(p).map_err(|e| at(e, &format!("content[{j}]")))?);
    }
    Ok(UserContent::Parts(out))
}

fn user_part(p: &Part) -> Result<ContentPart<'_>> {
    if let Some(t) = &p.text {
        return Ok(ContentPart::Text {
            text: Cow::Borrowed(t),
        });
    }
    if let Some(m) = &p.media {
        return media_part(m);
    }
    if let Some(d) = &p.data {
        return Ok(ContentPart::Text {
            text: Cow::Owned(d.to_string()),
        });
    }
    Err(Error::invalid_argument(format!(
        "a user message part of kind {} is not supported by the Chat Completions API",
        kind_of(p)
    )))
}

fn kind_of(p: &Part) -> &'static str {
    if p.tool_request.is_some() {
        "toolRequest"
    } else if p.tool_response.is_some() {
        "toolResponse"
    } else if p.reasoning.is_some() {
        "reasoning"
    } else if p.resource.is_some() {
        "resource"
    } else if p.custom.is_some() {
        "custom"
    } else {
        "empty"
    }
}

/// The MIME type of a media part: its `contentType`, else a `data:` URL's.
fn media_type(m: &Media) -> Option<&str> {
    m.content_type.as_deref().or_else(|| {
        let rest = m.url.strip_prefix("data:")?;
        rest.split([';', ',']).next().filter(|t| !t.is_empty())
    })
}

fn data_payload(url: &str) -> Option<&str> {
    let (head, data) = url.strip_prefix("data:")?.split_once(',')?;
    head.ends_with(";base64").then_some(data)
}

fn media_part(m: &Media) -> Result<ContentPart<'_>> {
    let ty = media_type(m).unwrap_or("image/*");
    if ty.starts_with("image/") {
        return Ok(ContentPart::ImageUrl {
            image_url: ImageUrl { url: &m.url },
        });
    }
    let format = match ty {
        "audio/wav" | "audio/x-wav" | "audio/wave" => Some("wav"),
        "audio/mpeg" | "audio/mp3" => Some("mp3"),
        _ => None,
    };
    if let (Some(format), Some(data)) = (format, data_payload(&m.url)) {
        return Ok(ContentPart::InputAudio {
            input_audio: InputAudio { data, format },
        });
    }
    if ty == "application/pdf" && data_payload(&m.url).is_some() {
        return Ok(ContentPart::File {
            file: FileData {
                file_data: &m.url,
                filename: "document.pdf",
            },
        });
    }
    Err(Error::invalid_argument(format!(
        "media of type {ty} is not supported by the Chat Completions API (images by URL; wav/mp3 audio and PDF as base64 data: URLs)"
    )))
}

fn assistant(parts: &[Part]) -> Result<ChatMessage<'_>> {
    let mut text: Option<Cow<'_, str>> = None;
    let mut tool_calls = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        if let Some(t) = &p.text {
            text = Some(match text {
                None => Cow::Borrowed(t.as_str()),
                Some(prev) => Cow::Owned(prev.into_owned() + t),
            });
        } else if let Some(r) = &p.tool_request {
            tool_calls.push(tool_call(r));
        } else if p.reasoning.is_none() && p.custom.is_none() {
            return Err(Error::invalid_argument(format!(
                "content[{j}]: a model message part of kind {} cannot be sent to the Chat Completions API",
                if p.media.is_some() {
                    "media"
                } else {
                    kind_of(p)
                }
            )));
        }
    }
    Ok(ChatMessage::Assistant {
        content: text,
        tool_calls,
    })
}

fn tool_call(r: &ToolRequest) -> ToolCall<'_> {
    let arguments = match &r.input {
        None | Some(Value::Null) => "{}".to_string(),
        Some(v) => v.to_string(),
    };
    ToolCall {
        id: Cow::Borrowed(r.r#ref.as_deref().unwrap_or(&r.name)),
        kind: "function",
        function: FunctionCall {
            name: &r.name,
            arguments,
        },
    }
}

fn tool_result(r: &ToolResponse) -> ChatMessage<'_> {
    let content = match &r.output {
        Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
        None => Cow::Borrowed(""),
        Some(v) => Cow::Owned(v.to_string()),
    };
    ChatMessage::Tool {
        tool_call_id: Cow::Borrowed(r.r#ref.as_deref().unwrap_or(&r.name)),
        content,
    }
}

fn response_format(req: &GenerateRequest) -> Option<ResponseFormat<'_>> {
    let out = req.output.as_ref()?;
    let json = out.format.as_deref() == Some("json")
        || out.content_type.as_deref() == Some("application/json");
    if !json {
        return None;
    }
    match (&out.schema, out.constrained) {
        (Some(schema), Some(true) | None) => Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: "output",
                schema,
            },
        }),
        _ => Some(ResponseFormat::JsonObject),
    }
}

fn snake_case(key: &str) -> String {
    let mut s = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// The request's config as Chat Completions parameters, and `version`.
fn config(
    config: Option<&Value>,
    dialect: Dialect,
) -> Result<(Map<String, Value>, Option<String>)> {
    let given = match config {
        None | Some(Value::Null) => return Ok((Map::new(), None)),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(Error::invalid_argument("config: expected a JSON object")),
    };
    let mut out = Map::new();
    let mut version = None;
    for (key, value) in given {
        if value.is_null() {
            continue;
        }
        let name = match key.as_str() {
            "apiKey" | "api_key" => {
                return Err(Error::invalid_argument(
                    "config.apiKey is not supported: give the key to the plugin (a request's config is recorded in traces)",
                ));
            }
            "version" => {
                let v = value
                    .as_str()
                    .ok_or_else(|| Error::invalid_argument("config.version: expected a string"))?;
                version = Some(v.to_string());
                continue;
            }
            "maxOutputTokens" => match dialect {
                Dialect::OpenAi => "max_completion_tokens".to_string(),
                Dialect::Compatible => "max_tokens".to_string(),
            },
            "stopSequences" => "stop".to_string(),
            "topK" if dialect == Dialect::OpenAi => continue,
            other => snake_case(other),
        };
        out.insert(name, value.clone());
    }
    Ok((out, version))
}

#[cfg(test)]
#[allow(
    clippy::field_reassign_with_default,
    reason = "requests are built up field by field, as a caller would"
)]
mod tests {
    use super::*;
    use genkit_core::{OutputConfig, ToolDefinition};
    use std::sync::Arc;

    fn body(req: &GenerateRequest, dialect: Dialect) -> Value {
        serde_json::to_value(to_openai(req, "gpt-4o-mini", dialect, false).unwrap()).unwrap()
    }

    #[test]
    fn roles_parts_and_tools() {
        let mut req = GenerateRequest::default();
        req.messages = vec![
            Message::system("Be brief."),
            Message::new(
                Role::User,
                vec![Part::text("Look:"), Part::media("https://x/cat.png", None)],
            ),
            Message::new(
                Role::Model,
                vec![
                    Part::text("Calling."),
                    Part::tool_request("web_search", Some("call_1".into()), json!({"q": "a"})),
                ],
            ),
            Message::new(
                Role::Tool,
                vec![Part::tool_response(
                    "web_search",
                    Some("call_1".into()),
                    json!("found"),
                )],
            ),
        ]
        .into_iter()
        .map(std::sync::Arc::new)
        .collect::<Vec<_>>();
        req.tools = Some(vec![Arc::new(ToolDefinition {
            name: "web_search".into(),
            description: "Search".into(),
            input_schema: Some(json!({"type": "object", "properties": {"q": {"type": "string"}}})),
            output_schema: None,
            metadata: None,
        })]);
        req.tool_choice = Some(ToolChoice::Required);
        let b = body(&req, Dialect::OpenAi);
        assert_eq!(
            b["messages"][0],
            json!({"role": "system", "content": "Be brief."})
        );
        assert_eq!(
            b["messages"][1]["content"][1],
            json!({"type": "image_url", "image_url": {"url": "https://x/cat.png"}})
        );
        assert_eq!(
            b["messages"][2],
            json!({"role": "assistant", "content": "Calling.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "web_search", "arguments": "{\"q\":\"a\"}"}}]})
        );
        assert_eq!(
            b["messages"][3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "found"})
        );
        assert_eq!(
            b["tools"][0]["function"]["parameters"]["properties"]["q"]["type"],
            json!("string")
        );
        assert_eq!(b["tool_choice"], json!("required"));
        assert!(b.get("stream").is_none());
    }

    #[test]
    fn config_and_output() {
        let mut req = GenerateRequest::default();
        req.messages = vec![Message::user("hi")]
            .into_iter()
            .map(std::sync::Arc::new)
            .collect::<Vec<_>>();
        req.config = Some(
            json!({"maxOutputTokens": 10, "stopSequences": ["x"], "topP": 0.5, "topK": 3,
            "reasoningEffort": "low", "seed": 7, "version": "gpt-4.1"}),
        );
        let mut out = OutputConfig::default();
        out.format = Some("json".into());
        out.schema = Some(json!({"type": "object"}));
        req.output = Some(out);
        let b = body(&req, Dialect::OpenAi);
        assert_eq!(b["model"], json!("gpt-4.1"));
        assert_eq!(b["max_completion_tokens"], json!(10));
        assert_eq!(b["stop"], json!(["x"]));
        assert_eq!(b["top_p"], json!(0.5));
        assert_eq!(b["reasoning_effort"], json!("low"));
        assert!(b.get("top_k").is_none() && b.get("version").is_none());
        assert_eq!(
            b["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "output", "schema": {"type": "object"}}})
        );
        let b = body(&req, Dialect::Compatible);
        assert_eq!(b["max_tokens"], json!(10));
        assert_eq!(b["top_k"], json!(3));
        req.config = Some(json!({"apiKey": "sk-secret"}));
        let e = to_openai(&req, "m", Dialect::OpenAi, true).unwrap_err();
        assert!(!e.message().contains("sk-secret"));
    }

    #[test]
    fn unsupported_parts_are_refused_with_their_place() {
        let mut req = GenerateRequest::default();
        req.messages = vec![Message::new(
            Role::User,
            vec![
                Part::text("a"),
                Part::media("https://x/a.mp4", Some("video/mp4".into())),
            ],
        )]
        .into_iter()
        .map(std::sync::Arc::new)
        .collect::<Vec<_>>();
        let e = to_openai(&req, "m", Dialect::OpenAi, false).unwrap_err();
        assert!(
            e.message()
                .starts_with("messages[0]: content[1]: media of type video/mp4"),
            "{e}"
        );
    }
}
