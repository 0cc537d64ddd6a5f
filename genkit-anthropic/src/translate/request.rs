//! Genkit's `GenerateRequest` → the Messages API body. The body borrows the request's
//! text, tool inputs and tool schemas: nothing of the history is copied.
//!
//! - Messages: `system` messages (text only) → `system` blocks; `user` and `tool` →
//!   `user`; `model` → `assistant`. One block per part: text → `text` (empty text is
//!   left out: the API refuses it); media → `image` (jpeg, png, gif, webp; a base64
//!   `data:` URL or an `https` URL) or `document` (PDF); toolRequest → `tool_use`
//!   (its `ref` is the id); toolResponse → `tool_result` (text output as it is, other
//!   JSON compact, multipart `content` as text and image blocks); reasoning with a
//!   `metadata.thoughtSignature` → `thinking` with that signature (reasoning without a
//!   signature, e.g. another provider's, is left out: the API accepts only its own
//!   signed thinking); `custom.redactedThinking` → `redacted_thinking`;
//!   `custom.anthropicBlock` → that block as it came; data → its JSON as text.
//!   `metadata.cache_control` goes on the block. A message left empty is left out.
//! - Tools: name, description, the input schema as it is (`{"type": "object"}` when the
//!   tool has none). `toolChoice`: auto → `auto`, required → `any`, none → `none`.
//! - Structured output: with `output.constrained` and a schema, on a model that
//!   supports it, `output_config.format = {type: json_schema, schema}`, the schema made
//!   strict as the API wants it (see [`strict_schema`]).
//! - Config: `maxOutputTokens`/`max_tokens` (default [`DEFAULT_MAX_TOKENS`], or the thinking
//!   budget plus that when thinking is on), `stopSequences`/`stop_sequences`,
//!   `thinking` (`{enabled, budgetTokens, adaptive, display}` as Genkit JS, or the API's
//!   own `{type, budget_tokens}`), `tool_choice`, `metadata`, `output_config`, `version`
//!   (the model to call instead); any other member goes into the body as given (the API
//!   answers 400 to names it does not know). `apiKey` is refused: a request's config is
//!   recorded in traces.
//! - Sampling: the Messages API has no `temperature`, `top_p` or `top_k` any more
//!   (Anthropic's SDKs dropped them in 1.0; the API refuses unknown members). Genkit's
//!   portable `temperature`, `topP`, `topK` (and `top_p`, `top_k`) are therefore not
//!   sent, so one config serves every provider; [`Translated::dropped`] names them
//!   and the response lists them in `custom.droppedConfig`.

use std::borrow::Cow;

use genkit_core::{
    Error, GenerateRequest, Message, Part, Result, Role, ToolChoice, ToolDefinition, ToolRequest,
    ToolResponse,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::wire::{self, ContentBlock, MessagesRequest, Source};

/// `max_tokens` when the request does not say (as Genkit JS).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The image types the API reads.
pub const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// What the request is translated for.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Target<'a> {
    /// The model name (without `anthropic/`).
    pub model: &'a str,
    /// Whether the model takes `output_config.format`.
    pub structured_output: bool,
}

impl<'a> Target<'a> {
    /// A target model.
    pub fn new(model: &'a str, structured_output: bool) -> Self {
        Target {
            model,
            structured_output,
        }
    }
}

/// Config members this crate reads; the rest goes into the body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    temperature: Option<Value>,
    #[serde(alias = "top_p")]
    top_p: Option<Value>,
    #[serde(alias = "top_k")]
    top_k: Option<Value>,
    #[serde(alias = "max_tokens")]
    max_output_tokens: Option<u64>,
    #[serde(alias = "stop_sequences")]
    stop_sequences: Option<Vec<String>>,
    thinking: Option<Value>,
    #[serde(rename = "tool_choice")]
    tool_choice: Option<wire::ToolChoice>,
    metadata: Option<Value>,
    #[serde(rename = "output_config")]
    output_config: Option<wire::OutputConfig<'static>>,
    version: Option<String>,
    api_key: Option<Value>,
    /// Genkit JS's choice between the stable and beta API: one API here.
    #[serde(rename = "apiVersion")]
    _api_version: Option<Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Genkit JS's thinking config.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsThinking {
    enabled: Option<bool>,
    budget_tokens: Option<u64>,
    adaptive: Option<bool>,
    display: Option<String>,
}

/// A translated request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Translated<'a> {
    /// The body to send.
    pub body: MessagesRequest<'a>,
    /// Config members given but not sent (sampling parameters the API no longer has).
    pub dropped: Vec<&'static str>,
}

/// Translates a Genkit request.
pub fn to_anthropic<'a>(req: &'a GenerateRequest, target: Target<'a>) -> Result<Translated<'a>> {
    let config = config_of(req)?;
    let dropped: Vec<&'static str> = [
        ("temperature", config.temperature.is_some()),
        ("topP", config.top_p.is_some()),
        ("topK", config.top_k.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, given)| given.then_some(k))
    .collect();
    if config.api_key.is_some() {
        return Err(Error::invalid_argument(
            "config.apiKey is not supported: give the key to Anthropic (a request's config is recorded in traces)",
        ));
    }
    let thinking = config
        .thinking
        .map(thinking_of)
        .transpose()
        .map_err(|e| at(e, "config.thinking"))?
        .flatten();
    let budget = match &thinking {
        Some(wire::Thinking::Enabled { budget_tokens, .. }) => *budget_tokens,
        _ => 0,
    };
    let mut body = MessagesRequest {
        model: match config.version {
            Some(v) => Cow::Owned(v),
            None => Cow::Borrowed(target.model),
        },
        max_tokens: config
            .max_output_tokens
            .unwrap_or(if budget >= DEFAULT_MAX_TOKENS {
                budget + DEFAULT_MAX_TOKENS
            } else {
                DEFAULT_MAX_TOKENS
            }),
        stop_sequences: config
            .stop_sequences
            .map(|v| v.into_iter().map(Cow::Owned).collect()),
        thinking,
        metadata: config.metadata,
        output_config: config.output_config,
        extra: config.extra,
        ..Default::default()
    };
    add_messages(&mut body, &req.messages)?;
    let tools = req
        .tools
        .iter()
        .flatten()
        .map(|t| tool(t))
        .collect::<Result<Vec<_>>>()?;
    if !tools.is_empty() {
        body.tool_choice = config.tool_choice.or(req.tool_choice.map(tool_choice));
        body.tools = Some(tools);
    }
    if target.structured_output
        && let Some(out) = &req.output
        && out.constrained == Some(true)
        && (out.format.as_deref() == Some("json")
            || out.content_type.as_deref() == Some("application/json"))
        && let Some(schema) = &out.schema
    {
        let oc = body.output_config.get_or_insert_with(Default::default);
        if oc.format.is_none() {
            oc.format = Some(wire::OutputFormat {
                kind: Cow::Borrowed("json_schema"),
                schema: Cow::Owned(strict_schema(schema)),
            });
        }
    }
    Ok(Translated { body, dropped })
}

fn config_of(req: &GenerateRequest) -> Result<Config> {
    match &req.config {
        None | Some(Value::Null) => Ok(Config::default()),
        Some(v @ Value::Object(_)) => {
            genkit_core::from_value(v.clone()).map_err(|e| at(e, "config"))
        }
        Some(_) => Err(Error::invalid_argument("config: expected a JSON object")),
    }
}

/// The API's thinking config from Genkit JS's shape or the API's own.
fn thinking_of(v: Value) -> Result<Option<wire::Thinking>> {
    if v.get("type").is_some() {
        return genkit_core::from_value(v).map(Some);
    }
    let t: JsThinking = genkit_core::from_value(v)?;
    Ok(match (t.adaptive, t.enabled, t.budget_tokens) {
        (Some(true), Some(true), _) => {
            return Err(Error::invalid_argument(
                "enabled and adaptive thinking cannot both be on",
            ));
        }
        (Some(true), _, _) => Some(wire::Thinking::Adaptive { display: t.display }),
        (_, Some(false), _) => Some(wire::Thinking::Disabled {}),
        (_, Some(true), None) => {
            return Err(Error::invalid_argument(
                "budgetTokens is required when thinking is enabled",
            ));
        }
        (_, _, Some(budget_tokens)) => Some(wire::Thinking::Enabled {
            budget_tokens,
            display: t.display,
        }),
        _ => None,
    })
}

fn tool_choice(c: ToolChoice) -> wire::ToolChoice {
    match c {
        ToolChoice::Auto => wire::ToolChoice::Auto {
            disable_parallel_tool_use: None,
        },
        ToolChoice::Required => wire::ToolChoice::Any {
            disable_parallel_tool_use: None,
        },
        ToolChoice::None => wire::ToolChoice::None {},
    }
}

/// A tool; its schema is borrowed unless it lacks `type` (then `object` is added).
fn tool(t: &ToolDefinition) -> Result<wire::Tool<'_>> {
    let input_schema = match &t.input_schema {
        // No schema, or `true` (any value): the API wants an object schema.
        None | Some(Value::Null | Value::Bool(true)) => {
            Cow::Owned(json!({"type": "object", "properties": {}}))
        }
        Some(s @ Value::Object(o)) => match o.get("type") {
            Some(Value::String(ty)) if ty == "object" => Cow::Borrowed(s),
            None => {
                let mut o = o.clone();
                o.insert("type".into(), json!("object"));
                Cow::Owned(Value::Object(o))
            }
            Some(other) => {
                return Err(Error::invalid_argument(format!(
                    "tool {}: Anthropic tools take a JSON object as input, the schema's type is {other}",
                    t.name
                )));
            }
        },
        Some(_) => {
            return Err(Error::invalid_argument(format!(
                "tool {}: the input schema is not a JSON object",
                t.name
            )));
        }
    };
    Ok(wire::Tool {
        name: Cow::Borrowed(&t.name),
        description: (!t.description.is_empty()).then_some(Cow::Borrowed(t.description.as_str())),
        input_schema,
        kind: None,
        strict: None,
        cache_control: None,
    })
}

fn add_messages<'a>(
    body: &mut MessagesRequest<'a>,
    messages: &'a [std::sync::Arc<Message>],
) -> Result<()> {
    for (i, m) in messages.iter().enumerate() {
        let place = || format!("messages[{i}]");
        if m.role == Role::System {
            let system = body.system.get_or_insert_with(Vec::new);
            for (j, p) in m.content.iter().enumerate() {
                if let Some(b) =
                    system_block(p).map_err(|e| at(e, &format!("{}.content[{j}]", place())))?
                {
                    system.push(b);
                }
            }
            continue;
        }
        let mut content = Vec::with_capacity(m.content.len());
        for (j, p) in m.content.iter().enumerate() {
            if let Some(b) = to_block(p).map_err(|e| at(e, &format!("{}.content[{j}]", place())))? {
                content.push(b);
            }
        }
        if content.is_empty() {
            continue;
        }
        let role = if m.role == Role::Model {
            "assistant"
        } else {
            "user"
        };
        body.messages.push(wire::MessageParam {
            role: Cow::Borrowed(role),
            content,
        });
    }
    if body.system.as_ref().is_some_and(Vec::is_empty) {
        body.system = None;
    }
    Ok(())
}

/// The block of one part; `None` for a part the API has no use for (empty text,
/// unsigned reasoning).
pub fn to_block(p: &Part) -> Result<Option<ContentBlock<'_>>> {
    let cache_control = p.metadata_value("cache_control").map(Cow::Borrowed);
    let block = if let Some(t) = &p.text {
        text_block(t, cache_control)
    } else if let Some(m) = &p.media {
        Some(media_block(
            &m.url,
            m.content_type.as_deref(),
            cache_control,
        )?)
    } else if let Some(r) = &p.tool_request {
        Some(tool_use_block(r, cache_control)?)
    } else if let Some(r) = &p.tool_response {
        Some(tool_result_block(r, cache_control)?)
    } else if let Some(r) = &p.reasoning {
        thinking_block(r, p)
    } else if let Some(c) = &p.custom {
        Some(custom_block(c)?)
    } else if let Some(d) = &p.data {
        Some(ContentBlock::text(serde_json::to_string(d)?))
    } else if p.resource.is_some() {
        return Err(Error::invalid_argument(
            "resource parts must be resolved before they reach Anthropic",
        ));
    } else {
        None
    };
    Ok(block)
}

fn system_block(p: &Part) -> Result<Option<ContentBlock<'_>>> {
    if let Some(t) = &p.text {
        Ok(text_block(
            t,
            p.metadata_value("cache_control").map(Cow::Borrowed),
        ))
    } else if let Some(d) = &p.data {
        Ok(Some(ContentBlock::text(serde_json::to_string(d)?)))
    } else {
        Err(Error::invalid_argument(
            "Anthropic system prompts hold text only",
        ))
    }
}

fn text_block<'a>(t: &'a str, cache_control: Option<Cow<'a, Value>>) -> Option<ContentBlock<'a>> {
    (!t.is_empty()).then_some(ContentBlock::Text {
        text: Cow::Borrowed(t),
        cache_control,
        citations: None,
    })
}

/// `data:{type};base64,{data}` → (type, data).
fn split_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (head, data) = rest.split_once(',')?;
    let mime = head.strip_suffix(";base64")?;
    Some((mime, data))
}

fn media_block<'a>(
    url: &'a str,
    content_type: Option<&'a str>,
    cache_control: Option<Cow<'a, Value>>,
) -> Result<ContentBlock<'a>> {
    let content_type = content_type.filter(|c| !c.is_empty());
    let (mime, source) = if url.starts_with("data:") {
        let (mime, data) = split_data_url(url).ok_or_else(|| {
            Error::invalid_argument(
                "media: Anthropic takes base64 data: URLs (data:{type};base64,{data})",
            )
        })?;
        let mime = content_type.unwrap_or(mime);
        (
            Some(mime),
            Source::Base64 {
                media_type: Cow::Borrowed(mime),
                data: Cow::Borrowed(data),
            },
        )
    } else {
        (
            content_type,
            Source::Url {
                url: Cow::Borrowed(url),
            },
        )
    };
    match mime {
        Some("application/pdf") => Ok(ContentBlock::Document {
            source,
            title: None,
            context: None,
            citations: None,
            cache_control,
        }),
        None if url.ends_with(".pdf") => Ok(ContentBlock::Document {
            source,
            title: None,
            context: None,
            citations: None,
            cache_control,
        }),
        Some(t) if !IMAGE_TYPES.contains(&t) => Err(Error::invalid_argument(format!(
            "media: Anthropic reads images ({}) and PDF documents, not {t}{}",
            IMAGE_TYPES.join(", "),
            if t.starts_with("text/") {
                " (send text as a text part)"
            } else {
                ""
            }
        ))),
        _ => Ok(ContentBlock::Image {
            source,
            cache_control,
        }),
    }
}

fn required_ref<'a>(r: Option<&'a str>, what: &str, name: &str) -> Result<&'a str> {
    r.filter(|r| !r.is_empty()).ok_or_else(|| {
        Error::invalid_argument(format!(
            "{what} {name} has no ref: Anthropic pairs calls and results by id"
        ))
    })
}

fn tool_use_block<'a>(
    r: &'a ToolRequest,
    cache_control: Option<Cow<'a, Value>>,
) -> Result<ContentBlock<'a>> {
    let id = required_ref(r.r#ref.as_deref(), "toolRequest", &r.name)?;
    let input = match &r.input {
        None | Some(Value::Null) => Cow::Owned(Value::Object(Map::new())),
        Some(v) => Cow::Borrowed(v),
    };
    Ok(ContentBlock::ToolUse {
        id: Cow::Borrowed(id),
        name: Cow::Borrowed(&r.name),
        input,
        cache_control,
    })
}

fn tool_result_block<'a>(
    r: &'a ToolResponse,
    cache_control: Option<Cow<'a, Value>>,
) -> Result<ContentBlock<'a>> {
    let id = required_ref(r.r#ref.as_deref(), "toolResponse", &r.name)?;
    let mut content = Vec::new();
    match &r.output {
        Some(Value::String(s)) => content.push(ContentBlock::text(s.as_str())),
        None | Some(Value::Null) if r.content.is_some() => {}
        Some(v) => content.push(ContentBlock::text(v.to_string())),
        None => content.push(ContentBlock::text("null")),
    }
    for v in r.content.iter().flatten() {
        content.extend(tool_content_block(v)?);
    }
    Ok(ContentBlock::ToolResult {
        tool_use_id: Cow::Borrowed(id),
        content: Some(content),
        is_error: None,
        cache_control,
    })
}

/// One part of a multipart tool response (text or media) as a block.
fn tool_content_block(v: &Value) -> Result<Option<ContentBlock<'_>>> {
    if let Some(t) = v.get("text").and_then(Value::as_str) {
        return Ok((!t.is_empty()).then(|| ContentBlock::text(t)));
    }
    if let Some(m) = v.get("media") {
        let url = m.get("url").and_then(Value::as_str).unwrap_or_default();
        let content_type = m.get("contentType").and_then(Value::as_str);
        return media_block(url, content_type, None).map(Some);
    }
    Ok(None)
}

fn thinking_block<'a>(reasoning: &'a str, p: &'a Part) -> Option<ContentBlock<'a>> {
    match p.metadata_value("thoughtSignature") {
        Some(Value::String(sig)) if !sig.is_empty() => Some(ContentBlock::Thinking {
            thinking: Cow::Borrowed(reasoning),
            signature: Cow::Borrowed(sig),
        }),
        _ => None,
    }
}

fn custom_block(c: &Map<String, Value>) -> Result<ContentBlock<'_>> {
    if let Some(Value::String(data)) = c.get("redactedThinking") {
        return Ok(ContentBlock::RedactedThinking {
            data: Cow::Borrowed(data),
        });
    }
    if let Some(b) = c.get("anthropicBlock") {
        return genkit_core::from_value(b.clone()).map_err(|e| at(e, "custom.anthropicBlock"));
    }
    Err(Error::invalid_argument(
        "custom part: Anthropic takes redactedThinking or anthropicBlock",
    ))
}

/// A JSON schema made strict as structured outputs want it (the rules of Anthropic's
/// SDKs): every object gets `additionalProperties: false`; `oneOf` becomes `anyOf`;
/// a list of types becomes `anyOf`; `$schema` goes; keywords the API does not support
/// (`minimum`, `maxLength`, formats other than date-time/time/date/duration/email/
/// hostname/uri/ipv4/ipv6/uuid, `minItems` above 1, …) move into the description
/// as `{key: value, …}` so the model may still follow them.
pub fn strict_schema(schema: &Value) -> Value {
    let Value::Object(o) = schema else {
        return schema.clone();
    };
    let mut o = o.clone();
    o.shift_remove("$schema");
    strict_object(o, 0)
}

const STRING_FORMATS: [&str; 10] = [
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

fn strict_object(mut s: Map<String, Value>, depth: usize) -> Value {
    if depth > 64 {
        return Value::Object(s);
    }
    let sub = |v: Value| match v {
        Value::Object(m) => strict_object(m, depth + 1),
        other => other,
    };
    let mut out = Map::new();
    for defs in ["$defs", "definitions"] {
        if let Some(Value::Object(d)) = s.shift_remove(defs) {
            out.insert(
                defs.into(),
                Value::Object(d.into_iter().map(|(k, v)| (k, sub(v))).collect()),
            );
        }
    }
    if let Some(r) = s.shift_remove("$ref") {
        out.insert("$ref".into(), r);
        return Value::Object(out);
    }
    let mut ty = s.shift_remove("type");
    if let Some(Value::Array(types)) = &ty {
        let variants = types.iter().map(|t| sub(json!({ "type": t }))).collect();
        s.insert("anyOf".into(), Value::Array(variants));
        ty = None;
    }
    let literal = ["enum", "const"].map(|k| {
        s.get(k).is_some_and(|v| match v {
            Value::Array(a) => !a.is_empty() && a.iter().all(primitive),
            v => k == "const" && primitive(v),
        })
    });
    for (k, keep) in ["enum", "const"].into_iter().zip(literal) {
        if keep && let Some(v) = s.shift_remove(k) {
            out.insert(k.into(), v);
        }
    }
    let has_literals = literal.contains(&true);
    let any_of = s.shift_remove("anyOf");
    let one_of = s.shift_remove("oneOf");
    let all_of = s.shift_remove("allOf");
    let map_all = |v: Value| match v {
        Value::Array(a) => Value::Array(a.into_iter().map(sub).collect()),
        other => other,
    };
    if let Some(v) = any_of.or(one_of) {
        out.insert("anyOf".into(), map_all(v));
    } else if let Some(v) = all_of {
        out.insert("allOf".into(), map_all(v));
    } else if !has_literals && let Some(t) = &ty {
        out.insert("type".into(), t.clone());
    }
    for k in ["description", "title"] {
        if let Some(v) = s.shift_remove(k) {
            out.insert(k.into(), v);
        }
    }
    match ty
        .as_ref()
        .and_then(Value::as_str)
        .filter(|_| !has_literals)
    {
        Some("object") => {
            let props = match s.shift_remove("properties") {
                Some(Value::Object(p)) => p.into_iter().map(|(k, v)| (k, sub(v))).collect(),
                _ => Map::new(),
            };
            out.insert("properties".into(), Value::Object(props));
            s.shift_remove("additionalProperties");
            out.insert("additionalProperties".into(), json!(false));
            if let Some(r) = s.shift_remove("required") {
                out.insert("required".into(), r);
            }
        }
        Some("string") => {
            if let Some(Value::String(f)) = s.get("format")
                && STRING_FORMATS.contains(&f.as_str())
                && let Some(f) = s.shift_remove("format")
            {
                out.insert("format".into(), f);
            }
        }
        Some("array") => {
            if let Some(items) = s.shift_remove("items") {
                out.insert("items".into(), sub(items));
            }
            if let Some(n) = s.get("minItems").and_then(Value::as_u64)
                && n <= 1
                && let Some(v) = s.shift_remove("minItems")
            {
                out.insert("minItems".into(), v);
            }
        }
        _ => {}
    }
    if !s.is_empty() {
        let rest: Vec<String> = s
            .iter()
            .map(|(k, v)| format!("{k}: {}", plain(v)))
            .collect();
        let extra = format!("{{{}}}", rest.join(", "));
        let description = match out.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d}\n\n{extra}"),
            None => extra,
        };
        out.insert("description".into(), Value::String(description));
    }
    Value::Object(out)
}

fn primitive(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// A value as the SDKs print it in descriptions (strings without quotes).
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn at(e: Error, place: &str) -> Error {
    Error::new(e.status(), format!("{place}: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use genkit_core::OutputConfig;

    fn translate(req: &GenerateRequest) -> Value {
        serde_json::to_value(
            to_anthropic(req, Target::new("claude-sonnet-4-5", true))
                .unwrap()
                .body,
        )
        .unwrap()
    }

    #[test]
    fn system_roles_and_defaults() {
        let req = GenerateRequest {
            messages: vec![
                Message::system("be brief"),
                Message::user("hi"),
                Message::model("hello"),
            ]
            .into_iter()
            .map(std::sync::Arc::new)
            .collect::<Vec<_>>(),
            config: Some(json!({"temperature": 0.5, "topK": 3, "stopSequences": ["x"]})),
            ..Default::default()
        };
        let v = translate(&req);
        assert_eq!(
            v,
            json!({"model": "claude-sonnet-4-5", "max_tokens": 4096,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
                             {"role": "assistant", "content": [{"type": "text", "text": "hello"}]}],
                "system": [{"type": "text", "text": "be brief"}],
                "stop_sequences": ["x"]})
        );
        let t = to_anthropic(&req, Target::new("m", true)).unwrap();
        assert_eq!(t.dropped, ["temperature", "topK"]);
    }

    #[test]
    fn thinking_budget_raises_the_default_max_tokens() {
        let req = GenerateRequest {
            messages: vec![Message::user("hi")]
                .into_iter()
                .map(std::sync::Arc::new)
                .collect::<Vec<_>>(),
            config: Some(json!({"thinking": {"enabled": true, "budgetTokens": 8000}})),
            ..Default::default()
        };
        let v = translate(&req);
        assert_eq!(
            v["thinking"],
            json!({"type": "enabled", "budget_tokens": 8000})
        );
        assert_eq!(v["max_tokens"], json!(8000 + DEFAULT_MAX_TOKENS));
        let bad = GenerateRequest {
            config: Some(json!({"thinking": {"enabled": true}})),
            ..Default::default()
        };
        let e = to_anthropic(&bad, Target::new("m", true)).unwrap_err();
        assert!(e.message().starts_with("config.thinking"), "{e}");
    }

    #[test]
    fn api_key_is_refused_and_unsigned_reasoning_is_left_out() {
        let req = GenerateRequest {
            config: Some(json!({"apiKey": "x"})),
            ..Default::default()
        };
        assert!(to_anthropic(&req, Target::new("m", true)).is_err());
        let req = GenerateRequest {
            messages: vec![Message::new(
                Role::Model,
                vec![
                    Part::reasoning("hmm"),
                    Part::reasoning("signed").with_metadata("thoughtSignature", json!("c2ln")),
                    Part::text("ok"),
                ],
            )]
            .into_iter()
            .map(std::sync::Arc::new)
            .collect::<Vec<_>>(),
            ..Default::default()
        };
        let v = translate(&req);
        assert_eq!(
            v["messages"][0]["content"],
            json!([{"type": "thinking", "thinking": "signed", "signature": "c2ln"},
                   {"type": "text", "text": "ok"}])
        );
    }

    #[test]
    fn strict_schemas_follow_the_sdk_rules() {
        let s = json!({"$schema": "x", "type": "object", "properties": {
            "age": {"type": "integer", "format": "uint32", "minimum": 0},
            "name": {"type": ["string", "null"]}}, "required": ["age"]});
        assert_eq!(
            strict_schema(&s),
            json!({"type": "object", "properties": {
                "age": {"type": "integer", "description": "{format: uint32, minimum: 0}"},
                "name": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
                "additionalProperties": false, "required": ["age"]})
        );
        let req = GenerateRequest {
            messages: vec![Message::user("x")]
                .into_iter()
                .map(std::sync::Arc::new)
                .collect::<Vec<_>>(),
            output: Some(OutputConfig {
                format: Some("json".into()),
                schema: Some(s),
                constrained: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            translate(&req)["output_config"]["format"]["type"],
            json!("json_schema")
        );
        let v = serde_json::to_value(
            to_anthropic(&req, Target::new("claude-3-haiku", false))
                .unwrap()
                .body,
        )
        .unwrap();
        assert!(v.get("output_config").is_none());
    }
}
