//! Genkit's `GenerateRequest` → Gemini's `GenerateContentRequest`.
//!
//! - System messages → `systemInstruction` (their parts, in order); user → `user`;
//!   model → `model`; tool → `user` (Gemini's roles are `user` and `model`).
//! - Parts: text → `text`; media with a `data:` URL → `inlineData`, other URLs →
//!   `fileData`; toolRequest → `functionCall`; toolResponse → `functionResponse` with
//!   `response: {name, content: output}` (Gemini wants an object, Genkit's plugins send
//!   this shape); reasoning → a `thought` part; data → its JSON as text; custom
//!   `executableCode` / `codeExecutionResult` pass through. `metadata.thoughtSignature`
//!   goes back as `thoughtSignature` on the same part.
//! - A tool-request `ref` travels as the call `id` (an empty one is not sent); a
//!   tool-response `ref` as the response `id`. Calls Gemini made without an id have
//!   no `ref`, so none is sent back.
//! - Tools → `tools[0].functionDeclarations` (schemas converted by
//!   [`to_gemini_schema`](super::schema::to_gemini_schema)); `toolChoice` →
//!   `toolConfig.functionCallingConfig.mode` (`AUTO`/`ANY`/`NONE`).
//! - JSON output (format `json` or content type `application/json`) without tools →
//!   `responseMimeType: application/json`, plus `responseSchema` when constrained.
//! - Config: `safetySettings`, `functionCallingConfig`, `toolConfig`,
//!   `codeExecution`, `googleSearch`, `googleSearchRetrieval`, `urlContext`, `tools`,
//!   `retrievalConfig` and `version` are placed where Gemini wants them; everything else
//!   (`temperature`, `topP`, `topK`, `maxOutputTokens`, `stopSequences`,
//!   `thinkingConfig`, …) goes into `generationConfig` unchanged. An `apiKey` in the
//!   config is refused: the request config is recorded in traces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use genkit_core::{
    Error, GenerateRequest, Message, Part, Result, Role, ToolChoice, ToolDefinition,
};
use serde_json::{Map, Value, json};

use super::schema::to_gemini_schema;
use crate::wire;

/// A translated request, and the model version the config asked for, if any.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Translated {
    /// The body to send.
    pub body: wire::GenerateContentRequest,
    /// `config.version`: the Gemini model to call instead of the action's own.
    pub version: Option<String>,
}

/// Translates a Genkit request.
pub fn to_gemini(req: &GenerateRequest) -> Result<Translated> {
    let mut system: Vec<wire::Part> = Vec::new();
    let mut contents = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        let parts = to_parts(m).map_err(|e| at(e, &format!("messages[{i}]")))?;
        match m.role {
            Role::System => system.extend(parts),
            Role::User | Role::Tool => contents.push(wire::Content {
                role: Some("user".into()),
                parts,
            }),
            Role::Model => contents.push(wire::Content {
                role: Some("model".into()),
                parts,
            }),
        }
    }

    let mut tools: Vec<wire::Tool> = Vec::new();
    let declarations: Vec<wire::FunctionDeclaration> = req
        .tools
        .iter()
        .flatten()
        .map(|t| wire::FunctionDeclaration {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: parameters_of(t),
        })
        .collect();
    if !declarations.is_empty() {
        tools.push(wire::Tool {
            function_declarations: Some(declarations),
            ..Default::default()
        });
    }

    let mut tool_config: Option<wire::ToolConfig> = req.tool_choice.map(|c| wire::ToolConfig {
        function_calling_config: Some(wire::FunctionCallingConfig {
            mode: Some(
                match c {
                    ToolChoice::Auto => "AUTO",
                    ToolChoice::Required => "ANY",
                    ToolChoice::None => "NONE",
                }
                .into(),
            ),
            allowed_function_names: None,
        }),
        retrieval_config: None,
    });

    let mut config = match &req.config {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(Error::invalid_argument("config: expected a JSON object")),
    };
    if config.contains_key("apiKey") {
        return Err(Error::invalid_argument(
            "config.apiKey is not supported: give the key to GoogleAi (a request's config is recorded in traces)",
        ));
    }
    let version = match config.remove("version") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.strip_prefix("models/").unwrap_or(&s).to_string()),
        Some(_) => return Err(Error::invalid_argument("config.version: expected a string")),
    };
    let safety_settings = match config.remove("safetySettings") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let all: Vec<wire::SafetySetting> = field("safetySettings", v)?;
            Some(
                all.into_iter()
                    .filter(|s| s.category != "HARM_CATEGORY_UNSPECIFIED")
                    .collect(),
            )
        }
    };
    if let Some(v) = config.remove("toolConfig").filter(|v| !v.is_null()) {
        let tc: wire::ToolConfig = field("toolConfig", v)?;
        let merged = tool_config.get_or_insert_with(Default::default);
        if tc.function_calling_config.is_some() {
            merged.function_calling_config = tc.function_calling_config;
        }
        if tc.retrieval_config.is_some() {
            merged.retrieval_config = tc.retrieval_config;
        }
    }
    if let Some(v) = config
        .remove("functionCallingConfig")
        .filter(|v| !v.is_null())
    {
        let mut fc: wire::FunctionCallingConfig = field("functionCallingConfig", v)?;
        fc.mode = fc.mode.map(|m| match m.as_str() {
            "auto" => "AUTO".into(),
            "required" | "any" => "ANY".into(),
            "none" => "NONE".into(),
            _ => m,
        });
        tool_config
            .get_or_insert_with(Default::default)
            .function_calling_config = Some(fc);
    }
    if let Some(v) = config.remove("retrievalConfig").filter(|v| !v.is_null()) {
        tool_config
            .get_or_insert_with(Default::default)
            .retrieval_config = Some(v);
    }
    for (key, make) in [
        (
            "codeExecution",
            (|v| wire::Tool {
                code_execution: Some(v),
                ..Default::default()
            }) as fn(Value) -> wire::Tool,
        ),
        ("googleSearch", |v| wire::Tool {
            google_search: Some(v),
            ..Default::default()
        }),
        ("googleSearchRetrieval", |v| wire::Tool {
            google_search: Some(v),
            ..Default::default()
        }),
        ("urlContext", |v| wire::Tool {
            url_context: Some(v),
            ..Default::default()
        }),
    ] {
        match config.remove(key) {
            Some(Value::Bool(true)) => tools.push(make(json!({}))),
            Some(v @ Value::Object(_)) => tools.push(make(v)),
            _ => {}
        }
    }
    if let Some(v) = config.remove("tools").filter(|v| !v.is_null()) {
        let extra: Vec<wire::Tool> = field("tools", v)?;
        tools.extend(extra);
    }

    let mut generation: wire::GenerationConfig = field("config", Value::Object(config))?;
    if generation.candidate_count.is_none() {
        generation.candidate_count = req.candidates.filter(|c| *c > 1);
    }
    if let Some(out) = &req.output {
        let json_mode = out.format.as_deref() == Some("json")
            || out.content_type.as_deref() == Some("application/json");
        if json_mode && tools.is_empty() {
            generation
                .response_mime_type
                .get_or_insert_with(|| "application/json".into());
            if out.constrained == Some(true)
                && generation.response_schema.is_none()
                && generation.response_json_schema.is_none()
                && let Some(s) = out.schema.as_ref().and_then(to_gemini_schema)
            {
                generation.response_schema = Some(s);
            }
        }
    }

    let body = wire::GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(wire::Content {
            role: None,
            parts: system,
        }),
        tools: (!tools.is_empty()).then_some(tools),
        tool_config,
        safety_settings,
        generation_config: (!generation.is_empty()).then_some(generation),
        cached_content: None,
    };
    Ok(Translated { body, version })
}

/// Translates the parts of one message.
pub fn to_parts(m: &Message) -> Result<Vec<wire::Part>> {
    m.content
        .iter()
        .enumerate()
        .map(|(i, p)| to_part(p).map_err(|e| at(e, &format!("content[{i}]"))))
        .collect()
}

/// Translates the content of an embedding document.
pub fn doc_parts(content: &[Part]) -> Result<Vec<wire::Part>> {
    content.iter().map(to_part).collect()
}

fn to_part(p: &Part) -> Result<wire::Part> {
    let mut out = wire::Part::default();
    if let Some(t) = &p.text {
        out.text = Some(t.clone());
    } else if let Some(m) = &p.media {
        if let Some(rest) = m.url.strip_prefix("data:") {
            let (head, data) = rest.split_once(',').ok_or_else(|| {
                Error::invalid_argument("media: a data: URL needs a ',' before its data")
            })?;
            let mime = m
                .content_type
                .clone()
                .or_else(|| {
                    head.split(';')
                        .next()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                })
                .ok_or_else(|| {
                    Error::invalid_argument("media: a data: URL needs a content type")
                })?;
            out.inline_data = Some(wire::Blob {
                mime_type: mime,
                data: data.to_string(),
            });
        } else {
            out.file_data = Some(wire::FileData {
                mime_type: m.content_type.clone(),
                file_uri: m.url.clone(),
            });
        }
        if let Some(v) = p.metadata_value("videoMetadata") {
            out.video_metadata = Some(v.clone());
        }
    } else if let Some(r) = &p.tool_request {
        let args = match &r.input {
            None | Some(Value::Null) => json!({}),
            Some(v) => v.clone(),
        };
        out.function_call = Some(wire::FunctionCall {
            id: r.r#ref.clone().filter(|id| !id.is_empty()),
            name: r.name.clone(),
            args: Some(args),
        });
    } else if let Some(r) = &p.tool_response {
        let output = r.output.clone().unwrap_or(Value::Null);
        out.function_response = Some(wire::FunctionResponse {
            id: r.r#ref.clone(),
            name: r.name.clone(),
            response: json!({ "name": r.name, "content": output }),
        });
    } else if let Some(r) = &p.reasoning {
        out.thought = Some(true);
        if !r.is_empty() {
            out.text = Some(r.clone());
        }
    } else if let Some(d) = &p.data {
        out.text = Some(serde_json::to_string(d)?);
    } else if let Some(c) = &p.custom {
        if let Some(v) = c.get("executableCode") {
            out.executable_code = Some(v.clone());
        } else if let Some(v) = c.get("codeExecutionResult") {
            out.code_execution_result = Some(v.clone());
        } else {
            return Err(Error::invalid_argument(
                "custom part: Gemini accepts executableCode or codeExecutionResult",
            ));
        }
    } else if p.resource.is_some() {
        return Err(Error::invalid_argument(
            "resource parts must be resolved before they reach Gemini",
        ));
    } else {
        out.text = Some(String::new());
    }
    if let Some(Value::String(sig)) = p.metadata_value("thoughtSignature") {
        out.thought_signature = Some(sig.clone());
    }
    Ok(out)
}

/// The Gemini parameters of a tool, converted once per tool definition (definitions
/// are shared `Arc`s, built when the tool is defined) and shared by every request.
fn parameters_of(def: &Arc<ToolDefinition>) -> Option<Arc<Value>> {
    type Cache = HashMap<usize, (Weak<ToolDefinition>, Option<Arc<Value>>)>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let key = Arc::as_ptr(def) as usize;
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((weak, params)) = cache.get(&key)
        && weak.upgrade().is_some_and(|d| Arc::ptr_eq(&d, def))
    {
        return params.clone();
    }
    let params = def
        .input_schema
        .as_ref()
        .and_then(to_gemini_schema)
        .filter(has_properties)
        .map(Arc::new);
    if cache.len() >= 4096 {
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
    }
    cache.insert(key, (Arc::downgrade(def), params.clone()));
    params
}

fn has_properties(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) != Some("OBJECT") || s.get("properties").is_some()
}

fn field<T: serde::de::DeserializeOwned>(name: &str, v: Value) -> Result<T> {
    genkit_core::from_value(v).map_err(|e| at(e, name))
}

fn at(e: Error, place: &str) -> Error {
    Error::new(e.status(), format!("{place}: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use genkit_core::OutputConfig;

    #[test]
    fn system_tool_choice_and_config() {
        let mut req = GenerateRequest {
            messages: vec![Message::system("be brief"), Message::user("hi")]
                .into_iter()
                .map(std::sync::Arc::new)
                .collect::<Vec<_>>(),
            config: Some(
                json!({"temperature": 0.5, "version": "gemini-2.5-pro", "safetySettings": [
                {"category": "HARM_CATEGORY_UNSPECIFIED", "threshold": "BLOCK_NONE"},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]}),
            ),
            tool_choice: Some(ToolChoice::Required),
            ..Default::default()
        };
        req.output = Some(OutputConfig {
            format: Some("json".into()),
            ..Default::default()
        });
        let t = to_gemini(&req).unwrap();
        assert_eq!(t.version.as_deref(), Some("gemini-2.5-pro"));
        let v = serde_json::to_value(&t.body).unwrap();
        assert_eq!(
            v["systemInstruction"],
            json!({"parts": [{"text": "be brief"}]})
        );
        assert_eq!(
            v["contents"],
            json!([{"role": "user", "parts": [{"text": "hi"}]}])
        );
        assert_eq!(
            v["toolConfig"]["functionCallingConfig"]["mode"],
            json!("ANY")
        );
        assert_eq!(
            v["generationConfig"],
            json!({"temperature": 0.5, "responseMimeType": "application/json"})
        );
        assert_eq!(v["safetySettings"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn api_key_in_config_is_refused_and_bad_config_names_the_field() {
        let req = GenerateRequest {
            config: Some(json!({"apiKey": "x"})),
            ..Default::default()
        };
        assert_eq!(
            to_gemini(&req).unwrap_err().status(),
            genkit_core::Status::InvalidArgument
        );
        let req = GenerateRequest {
            config: Some(json!({"temperature": "hot"})),
            ..Default::default()
        };
        let e = to_gemini(&req).unwrap_err();
        assert!(e.message().contains("temperature"), "{e}");
    }
}
