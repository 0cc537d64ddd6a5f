//! Output formats: what `output` asks of the model, and extracting JSON from a reply.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::OutputOptions;
use crate::error::{Error, Result};
use crate::model::ModelAction;
use crate::schema::Validator;
use crate::types::{Message, OutputConfig, Part, Role, is_falsy};

/// The output of one generate call, resolved.
#[derive(Default)]
pub(crate) struct ResolvedOutput {
    /// What goes into `request.output`.
    pub(crate) config: OutputConfig,
    /// Validates the final reply.
    pub(crate) validator: Option<Arc<Validator>>,
    /// Instructions to add to the conversation.
    pub(crate) instructions: Option<String>,
}

fn json_instructions(schema: &Value) -> String {
    format!(
        "Output should be in JSON format and conform to the following schema:\n\n```\n{}\n```\n",
        serde_json::to_string(schema).unwrap_or_default()
    )
}

/// Resolves the output options as Genkit's `resolveFormat` + `applyFormat` do.
pub(crate) fn resolve(
    out: Option<OutputOptions>,
    model: &ModelAction,
    has_tools: bool,
) -> Result<ResolvedOutput> {
    let Some(out) = out else {
        return Ok(ResolvedOutput::default());
    };
    let format = out
        .format
        .clone()
        .or_else(|| out.schema.as_ref().map(|_| "json".to_string()));
    let schema = out.schema.as_deref();
    // (contentType, constrained, default instructions)
    let (content_type, constrained, default_instructions): (
        Option<&str>,
        Option<bool>,
        Option<String>,
    ) = match format.as_deref() {
        Some("json") => (Some("application/json"), Some(true), None),
        Some("text") => (Some("text/plain"), None, None),
        Some("array") => {
            if schema.is_some_and(|s| s.get("type") != Some(&Value::from("array"))) {
                return Err(Error::invalid_argument(
                    "Must supply an 'array' schema type when using the 'items' parser format.",
                ));
            }
            let inst = schema.map(|s| {
                    format!(
                        "Output should be a JSON array conforming to the following schema:\n\n```\n{}\n```\n",
                        serde_json::to_string(s).unwrap_or_default()
                    )
                });
            (Some("application/json"), Some(true), inst)
        }
        Some("jsonl") => {
            let ok = schema.is_none_or(|s| {
                s.get("type") == Some(&Value::from("array"))
                    && s.pointer("/items/type") == Some(&Value::from("object"))
            });
            if !ok {
                return Err(Error::invalid_argument(
                    "Must supply an 'array' schema type containing 'object' items when using the 'jsonl' parser format.",
                ));
            }
            let inst = schema.and_then(|s| s.get("items")).map(|items| {
                    format!(
                        "Output should be JSONL format, a sequence of JSON objects (one per line) separated by a newline '\\n' character. Each line should be a JSON object conforming to the following schema:\n\n```\n{}\n```\n",
                        serde_json::to_string(items).unwrap_or_default()
                    )
                });
            (Some("application/jsonl"), None, inst)
        }
        Some("enum") => {
            let values: Option<Vec<String>> = schema.map(|s| {
                s.get("enum")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            if schema.is_some_and(|s| {
                s.get("type") != Some(&Value::from("string")) && s.get("enum").is_none()
            }) {
                return Err(Error::invalid_argument(
                    "Must supply a 'string' or 'enum' schema type when using the enum parser format.",
                ));
            }
            let inst = values.filter(|v| !v.is_empty()).map(|v| {
                    format!("Output should be ONLY one of the following enum values. Do not output any additional information or add quotes.\n\n{}", v.join("\n"))
                });
            (Some("text/enum"), Some(true), inst)
        }
        _ => (None, None, None),
    };

    let instructions = match &out.instructions {
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) if is_falsy(v) => None,
        Some(_) => default_instructions.or_else(|| schema.map(json_instructions)),
        None => default_instructions,
    };

    let config = OutputConfig {
        format,
        schema: out.schema.as_deref().cloned(),
        constrained: out.constrained.or(constrained),
        content_type: out
            .content_type
            .clone()
            .or(content_type.map(str::to_string)),
    };

    // Models without native constrained output get the JSON instructions instead.
    let native = match model
        .info()
        .supports
        .as_ref()
        .and_then(|s| s.constrained.as_deref())
    {
        Some("all") => true,
        Some("no-tools") => !has_tools,
        _ => false,
    };
    let instructions = match (&instructions, config.constrained, &config.schema) {
        (None, Some(true), Some(s)) if !native => Some(json_instructions(s)),
        _ => instructions,
    };
    Ok(ResolvedOutput {
        config,
        validator: out.validator,
        instructions,
    })
}

/// Adds the output instructions to the first system message, else the last user
/// message, as Genkit's `injectInstructions` does (idempotent).
pub(crate) fn inject_instructions(messages: &mut [Arc<Message>], text: String) {
    let is_output = |p: &Part| p.metadata_value("purpose") == Some(&Value::from("output"));
    let is_pending = |p: &Part| p.metadata_value("pending").is_some_and(|v| !is_falsy(v));
    if messages
        .iter()
        .any(|m| m.content.iter().any(|p| is_output(p) && !is_pending(p)))
    {
        return;
    }
    let target = messages
        .iter()
        .position(|m| m.role == Role::System)
        .or_else(|| messages.iter().rposition(|m| m.role == Role::User));
    let Some(i) = target else { return };
    let mut meta = Map::new();
    meta.insert("purpose".into(), Value::from("output"));
    let mut part = Part::text(text);
    part.metadata = Some(Box::new(meta));
    let msg = Arc::make_mut(&mut messages[i]);
    match msg
        .content
        .iter()
        .position(|p| is_output(p) && is_pending(p))
    {
        Some(j) if j > 0 => msg.content[j] = part,
        _ => msg.content.push(part),
    }
}
