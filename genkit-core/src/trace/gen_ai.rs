//! OpenTelemetry GenAI semantic-convention attributes (`gen_ai.*`) on model and tool
//! spans, beside Genkit's own: what backends that understand LLM calls (Langfuse,
//! Phoenix, Grafana, Datadog, …) read.
//!
//! A model span's are read from the request's config and the response's usage, finish
//! reason and `custom` fields (never from the history, which is not serialized for
//! them), and only when a layer has enabled the span. A tool span names the operation
//! (`execute_tool`), the tool and its type.

use serde_json::{Map, Value};
use tracing::Span;

use crate::error::Error;
use crate::types::{FinishReason, GenerateRequest, GenerateResponse};

/// `gen_ai.operation.name` of a model call: Genkit's model interface is a chat (a list of
/// messages in, a message out).
const CHAT: &str = "chat";
/// `gen_ai.operation.name` of a tool call.
pub(crate) const EXECUTE_TOOL: &str = "execute_tool";
/// `gen_ai.tool.type` of a Genkit tool: a function the application runs.
pub(crate) const TOOL_TYPE: &str = "function";

/// What a model action reports about itself, derived once from its name.
#[derive(Debug, Clone)]
pub(crate) struct ModelIdentity {
    /// `gen_ai.provider.name`: the semantic conventions' name for the plugin prefix
    /// (`googleai/…` → `gcp.gemini`), the prefix itself when it has none; absent for a
    /// model named without a prefix.
    provider: Option<Box<str>>,
    /// `gen_ai.request.model`: the name without its plugin prefix.
    model: Box<str>,
}

impl ModelIdentity {
    /// The identity of the model registered as `name` (`plugin/model`).
    pub(crate) fn from_name(name: &str) -> Self {
        match name.split_once('/') {
            Some((prefix, model)) if !prefix.is_empty() && !model.is_empty() => ModelIdentity {
                provider: Some(provider_name(prefix).into()),
                model: model.into(),
            },
            _ => ModelIdentity {
                provider: None,
                model: name.into(),
            },
        }
    }
}

/// The semantic conventions' `gen_ai.provider.name` for a Genkit plugin prefix.
fn provider_name(prefix: &str) -> &str {
    match prefix {
        "googleai" | "google-genai" => "gcp.gemini",
        "vertexai" | "vertex-ai" => "gcp.vertex_ai",
        "openai" => "openai",
        "anthropic" => "anthropic",
        "azure-openai" | "azureopenai" => "azure.ai.openai",
        "bedrock" | "aws-bedrock" | "awsbedrock" => "aws.bedrock",
        "mistral" | "mistralai" => "mistral_ai",
        "xai" | "grok" => "x_ai",
        "deepseek" => "deepseek",
        "groq" => "groq",
        "cohere" => "cohere",
        "perplexity" => "perplexity",
        "watsonx" => "ibm.watsonx.ai",
        other => other,
    }
}

/// Records what is known before the call: the operation, provider and model, and the
/// request parameters present in its config (`temperature`, `maxOutputTokens`, `topP`,
/// `topK`, `stopSequences`, `seed`; a config `version` names the model).
pub(crate) fn record_request(span: &Span, id: &ModelIdentity, request: &GenerateRequest) {
    if span.is_disabled() {
        return;
    }
    span.record("gen_ai.operation.name", CHAT);
    if let Some(p) = &id.provider {
        span.record("gen_ai.provider.name", &**p);
    }
    let config = request.config.as_ref().and_then(Value::as_object);
    let version = config
        .and_then(|c| c.get("version"))
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty());
    span.record("gen_ai.request.model", version.unwrap_or(&id.model));
    if let Some(c) = config {
        record_config(span, c);
    }
}

/// Numeric request parameters: Genkit's config key, the attribute. (A span holds at
/// most 32 fields: the penalties, rarely set, are left out.)
const FLOAT_PARAMS: [(&str, &str); 3] = [
    ("temperature", "gen_ai.request.temperature"),
    ("topP", "gen_ai.request.top_p"),
    ("topK", "gen_ai.request.top_k"),
];
const INT_PARAMS: [(&str, &str); 2] = [
    ("maxOutputTokens", "gen_ai.request.max_tokens"),
    ("seed", "gen_ai.request.seed"),
];

fn record_config(span: &Span, config: &Map<String, Value>) {
    for (key, field) in FLOAT_PARAMS {
        if let Some(v) = config.get(key).and_then(Value::as_f64) {
            span.record(field, v);
        }
    }
    for (key, field) in INT_PARAMS {
        if let Some(v) = config.get(key).and_then(Value::as_i64) {
            span.record(field, v);
        }
    }
    if let Some(stops) = config.get("stopSequences").and_then(Value::as_array) {
        let stops: Vec<&str> = stops.iter().filter_map(Value::as_str).collect();
        if !stops.is_empty() {
            span.record(
                "gen_ai.request.stop_sequences",
                string_array(&stops).as_str(),
            );
        }
    }
}

/// Records what the response tells: finish reason, token usage, and the model version
/// and response id a provider put in `custom` (`modelVersion` / `model`, `responseId`
/// / `id`).
pub(crate) fn record_response(span: &Span, response: &GenerateResponse) {
    if span.is_disabled() {
        return;
    }
    if let Some(reason) = response.finish_reason {
        span.record(
            "gen_ai.response.finish_reasons",
            string_array(&[finish_reason(reason)]).as_str(),
        );
    }
    if let Some(usage) = &response.usage {
        let tokens = [
            ("gen_ai.usage.input_tokens", usage.input_tokens),
            ("gen_ai.usage.output_tokens", usage.output_tokens),
            (
                "gen_ai.usage.cache_read.input_tokens",
                usage.cached_content_tokens,
            ),
        ];
        for (field, n) in tokens {
            if let Some(n) = n.and_then(|n| i64::try_from(n).ok()) {
                span.record(field, n);
            }
        }
    }
    if let Some(custom) = response.custom.as_ref().and_then(Value::as_object) {
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| custom.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
        };
        if let Some(m) = text(&["modelVersion", "model"]) {
            span.record("gen_ai.response.model", m);
        }
        if let Some(id) = text(&["responseId", "id"]) {
            span.record("gen_ai.response.id", id);
        }
    }
}

/// Records `error.type`: the failure's Genkit status (`UNAVAILABLE`, …).
pub(crate) fn record_error(span: &Span, error: &Error) {
    if !span.is_disabled() && !matches!(error, Error::Interrupt { .. }) {
        span.record("error.type", error.status().name());
    }
}

/// Genkit's finish reason as it is spelled on the wire (`stop`, `length`, `blocked`, …).
fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::Blocked => "blocked",
        FinishReason::Interrupted => "interrupted",
        FinishReason::Other => "other",
        FinishReason::Unknown => "unknown",
    }
}

/// A string array attribute as JSON text (`tracing` fields are scalars); the OTLP
/// exporter sends it as an array value.
fn string_array(items: &[&str]) -> String {
    Value::Array(items.iter().map(|s| Value::from(*s)).collect()).to_string()
}

/// Span fields whose value is a string array written as JSON text.
#[cfg(feature = "otlp")]
pub(crate) const ARRAY_FIELDS: [&str; 2] = [
    "gen_ai.response.finish_reasons",
    "gen_ai.request.stop_sequences",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_and_model_come_from_the_plugin_prefix() {
        let id = ModelIdentity::from_name("googleai/gemini-2.5-flash");
        assert_eq!(id.provider.as_deref(), Some("gcp.gemini"));
        assert_eq!(&*id.model, "gemini-2.5-flash");
        let id = ModelIdentity::from_name("ollama/llama3.2");
        assert_eq!(id.provider.as_deref(), Some("ollama"));
        let id = ModelIdentity::from_name("scripted");
        assert_eq!(id.provider, None);
        assert_eq!(&*id.model, "scripted");
    }

    #[test]
    fn finish_reasons_are_spelled_as_on_the_wire() {
        for name in [
            "stop",
            "length",
            "blocked",
            "interrupted",
            "other",
            "unknown",
        ] {
            let reason: FinishReason = serde_json::from_value(Value::from(name)).unwrap();
            assert_eq!(finish_reason(reason), name);
        }
    }
}
