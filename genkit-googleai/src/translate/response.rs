//! Gemini's `GenerateContentResponse` → Genkit's `GenerateResponse` (and chunks).
//!
//! - `candidates[0].content.parts` → parts: `thought: true` → reasoning; text → text;
//!   `inlineData` → media with a `data:` URL; `fileData` → media; `functionCall` →
//!   toolRequest; `functionResponse` → toolResponse; `executableCode` /
//!   `codeExecutionResult` → custom; a part holding only a `thoughtSignature` → empty
//!   reasoning. Empty or unknown parts are skipped. `thoughtSignature` is kept as
//!   `metadata.thoughtSignature` of its part.
//! - A toolRequest's `ref` is the call's `id`; a call without one has no `ref` (as in
//!   Genkit JS). The generate loop pairs calls and responses by position, so parallel
//!   calls of one tool need no ref.
//! - `finishReason`: STOP → stop; MAX_TOKENS → length; SAFETY, RECITATION, LANGUAGE,
//!   BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY → blocked;
//!   MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, OTHER, … → other; absent → unknown.
//!   Other than STOP/MAX_TOKENS, the reason is the finish message when Gemini gave none.
//! - `usageMetadata` → usage (input, output, total, thoughts, cached tokens).
//! - No candidates with `promptFeedback.blockReason` → a FAILED_PRECONDITION error
//!   "Generation blocked: …" with the feedback in its details.
//!
//! Streams go through [`Aggregator`]: each event gives the chunk's parts; the final
//! response holds the parts as they were streamed (as in Genkit JS: the same text,
//! not joined into one part).

use genkit_core::{
    Error, FinishReason, GenerateResponse, GenerationUsage, Message, Metadata, Part, Result, Role,
    Status,
};
use serde_json::{Map, Value};

use crate::wire;

/// Translates a whole (non-streamed) response.
pub fn from_gemini(resp: &wire::GenerateContentResponse) -> Result<GenerateResponse> {
    let mut agg = Aggregator::new();
    agg.push(resp)?;
    agg.finish()
}

/// Builds a response from the events of a stream (or from one whole response).
#[derive(Debug, Default)]
pub struct Aggregator {
    parts: Vec<Part>,
    saw_candidate: bool,
    finish_reason: Option<String>,
    finish_message: Option<String>,
    usage: Option<wire::UsageMetadata>,
    custom: Map<String, Value>,
    feedback: Option<wire::PromptFeedback>,
}

impl Aggregator {
    /// A new aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one event; returns the parts it carries (the chunk to stream).
    pub fn push(&mut self, resp: &wire::GenerateContentResponse) -> Result<Vec<Part>> {
        if let Some(u) = &resp.usage_metadata {
            self.usage = Some(u.clone());
        }
        if let Some(f) = &resp.prompt_feedback {
            self.feedback = Some(f.clone());
        }
        for (k, v) in [
            ("modelVersion", &resp.model_version),
            ("responseId", &resp.response_id),
        ] {
            if let Some(s) = v {
                self.custom.insert(k.into(), Value::from(s.as_str()));
            }
        }
        let Some(c) = resp
            .candidates
            .iter()
            .flatten()
            .find(|c| c.index.unwrap_or(0) == 0)
        else {
            return Ok(Vec::new());
        };
        self.saw_candidate = true;
        if let Some(r) = &c.finish_reason {
            self.finish_reason = Some(r.clone());
        }
        if let Some(m) = &c.finish_message {
            self.finish_message = Some(m.clone());
        }
        for (k, v) in [
            ("safetyRatings", &c.safety_ratings),
            ("citationMetadata", &c.citation_metadata),
            ("groundingMetadata", &c.grounding_metadata),
        ] {
            if let Some(v) = v {
                self.custom.insert(k.into(), v.clone());
            }
        }
        let mut out = Vec::new();
        for raw in c.content.iter().flat_map(|c| c.parts.iter()) {
            if let Some(p) = from_part(raw)? {
                out.push(p);
            }
        }
        self.parts.extend(out.iter().cloned());
        Ok(out)
    }

    /// True once a candidate has given its finish reason.
    pub fn finished(&self) -> bool {
        self.finish_reason.is_some()
    }

    /// True when the prompt was blocked.
    pub fn blocked(&self) -> bool {
        !self.saw_candidate
            && self
                .feedback
                .as_ref()
                .is_some_and(|f| f.block_reason.is_some())
    }

    /// The response so far.
    pub fn finish(self) -> Result<GenerateResponse> {
        if !self.saw_candidate {
            let mut details = Map::new();
            if let Some(f) = &self.feedback
                && let Ok(v) = serde_json::to_value(f)
            {
                details.insert("promptFeedback".into(), v);
            }
            let message = match &self.feedback {
                Some(wire::PromptFeedback {
                    block_reason: Some(r),
                    block_reason_message,
                    ..
                }) => {
                    let mut m =
                        format!("Generation blocked: Gemini blocked the prompt (blockReason {r})");
                    if let Some(x) = block_reason_message {
                        m.push_str(": ");
                        m.push_str(x);
                    }
                    m
                }
                _ => "Gemini returned no candidates".to_string(),
            };
            return Err(Error::new(Status::FailedPrecondition, message)
                .with_details(Value::Object(details)));
        }
        let finish_reason = self.finish_reason.as_deref().map(finish_reason);
        let finish_message = self.finish_message.or_else(|| {
            self.finish_reason
                .filter(|r| r != "STOP" && r != "MAX_TOKENS")
        });
        Ok(GenerateResponse {
            message: Some(Message::new(Role::Model, self.parts)),
            finish_reason: Some(finish_reason.unwrap_or(FinishReason::Unknown)),
            finish_message,
            usage: self.usage.as_ref().map(usage),
            custom: (!self.custom.is_empty()).then_some(Value::Object(self.custom)),
            ..Default::default()
        })
    }
}

/// Gemini's finish reason as Genkit's.
pub fn finish_reason(r: &str) -> FinishReason {
    match r {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT" => FinishReason::Blocked,
        "FINISH_REASON_UNSPECIFIED" => FinishReason::Unknown,
        _ => FinishReason::Other,
    }
}

/// Gemini's usage as Genkit's.
pub fn usage(u: &wire::UsageMetadata) -> GenerationUsage {
    let mut g = GenerationUsage::default();
    g.input_tokens = u.prompt_token_count;
    g.output_tokens = u.candidates_token_count;
    g.total_tokens = u.total_token_count;
    g.thoughts_tokens = u.thoughts_token_count;
    g.cached_content_tokens = u.cached_content_token_count;
    g
}

fn malformed(what: &str) -> Error {
    Error::new(
        Status::Internal,
        format!("malformed part from the Gemini API: {what}"),
    )
}

fn from_part(raw: &Value) -> Result<Option<Part>> {
    let Some(o) = raw.as_object() else {
        return Err(malformed("a part is not an object"));
    };
    let text = o.get("text").and_then(Value::as_str);
    let signature = o.get("thoughtSignature").and_then(Value::as_str);
    let mut part = if o.get("thought").and_then(Value::as_bool) == Some(true) {
        Part::reasoning(text.unwrap_or_default())
    } else if let Some(t) = text {
        Part::text(t)
    } else if let Some(b) = o.get("inlineData") {
        let mime = b
            .get("mimeType")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("inlineData.mimeType"))?;
        let data = b
            .get("data")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("inlineData.data"))?;
        Part::media(format!("data:{mime};base64,{data}"), Some(mime.to_string()))
    } else if let Some(f) = o.get("fileData") {
        let uri = f
            .get("fileUri")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("fileData.fileUri"))?;
        Part::media(
            uri,
            f.get("mimeType")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    } else if let Some(fc) = o.get("functionCall") {
        let name = fc
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("functionCall.name"))?;
        let r#ref = fc
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        let args = fc
            .get("args")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        Part::tool_request(name, r#ref, args)
    } else if let Some(fr) = o.get("functionResponse") {
        let name = fr
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("functionResponse.name"))?;
        let mut output = fr.get("response").cloned().unwrap_or(Value::Null);
        if let Some(c) = output
            .get("content")
            .filter(|_| output.get("name").is_some())
        {
            output = c.clone();
        }
        Part::tool_response(
            name,
            fr.get("id").and_then(Value::as_str).map(str::to_string),
            output,
        )
    } else if let Some(v) = o.get("executableCode") {
        custom("executableCode", v)
    } else if let Some(v) = o.get("codeExecutionResult") {
        custom("codeExecutionResult", v)
    } else if signature.is_some() {
        Part::reasoning("")
    } else {
        return Ok(None);
    };
    if let Some(s) = signature {
        part = part.with_metadata("thoughtSignature", Value::from(s));
    }
    Ok(Some(part))
}

fn custom(key: &str, v: &Value) -> Part {
    let mut m = Metadata::new();
    m.insert(key.into(), v.clone());
    let mut p = Part::default();
    p.custom = Some(Box::new(m));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(v: Value) -> wire::GenerateContentResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn parts_refs_and_signatures() {
        let r = resp(
            json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "thinking", "thought": true},
            {"functionCall": {"name": "a", "args": {"q": 1}}, "thoughtSignature": "c2ln"},
            {"functionCall": {"name": "b", "id": "x"}},
            {}
        ]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 5}}),
        );
        let g = from_gemini(&r).unwrap();
        let parts = &g.message.as_ref().unwrap().content;
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].reasoning.as_deref(), Some("thinking"));
        assert_eq!(
            parts[1].tool_request.as_ref().unwrap().r#ref.as_deref(),
            None
        );
        assert_eq!(
            parts[1].metadata_value("thoughtSignature"),
            Some(&json!("c2ln"))
        );
        assert_eq!(
            parts[2].tool_request.as_ref().unwrap().r#ref.as_deref(),
            Some("x")
        );
        assert_eq!(g.usage.unwrap().input_tokens, Some(3));
    }

    #[test]
    fn blocked_prompt_is_failed_precondition() {
        let r = resp(json!({"promptFeedback": {"blockReason": "SAFETY"}}));
        let e = from_gemini(&r).unwrap_err();
        assert_eq!(e.status(), Status::FailedPrecondition);
        assert!(e.message().contains("SAFETY"));
    }

    #[test]
    fn streamed_parts_are_kept_as_streamed() {
        let mut a = Aggregator::new();
        for t in ["Hel", "lo"] {
            a.push(&resp(
                json!({"candidates": [{"content": {"parts": [{"text": t}]}}]}),
            ))
            .unwrap();
        }
        a.push(&resp(json!({"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": "MAX_TOKENS"}]})))
            .unwrap();
        assert!(a.finished());
        let g = a.finish().unwrap();
        assert_eq!(g.text(), "Hello");
        let texts: Vec<_> = g
            .message
            .unwrap()
            .content
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(
            texts,
            [Some("Hel".into()), Some("lo".into()), Some(String::new())]
        );
        assert_eq!(g.finish_reason, Some(FinishReason::Length));
    }
}
