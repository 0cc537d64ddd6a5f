//! The Messages API's answer → Genkit's `GenerateResponse` (and chunks).
//!
//! - Blocks → parts, one each: `text` → text (citations in `metadata.citations`);
//!   `tool_use` → toolRequest (`ref` = the id); `thinking` → reasoning with
//!   `metadata.thoughtSignature` (sent back with it on the next turn);
//!   `redacted_thinking` → `custom.redactedThinking`; any other block (server tools) →
//!   `custom.anthropicBlock`, sent back as it came.
//! - `stop_reason`: `end_turn`, `stop_sequence`, `tool_use` → stop; `max_tokens`,
//!   `model_context_window_exceeded` → length; `refusal` → blocked; `pause_turn` and
//!   others → other (with the reason as finish message); absent → unknown.
//! - Usage: `input_tokens`, `output_tokens`, total = input (cached included) + output;
//!   `cache_read_input_tokens` → cached content tokens; cache counts also in
//!   `usage.custom`.
//! - `custom`: `{id, model, stopSequence?}` of the message.
//!
//! Streams go through [`Aggregator`]: `message_start`, `content_block_start`,
//! `content_block_delta` (`text_delta`, `input_json_delta`, `thinking_delta`,
//! `signature_delta`, `citations_delta`), `content_block_stop`, `message_delta`,
//! `message_stop`, `ping`; an `error` event is the call's error. Text and thinking are
//! streamed as they come; a tool call is one chunk once its input JSON is complete.

use genkit_core::{
    Error, FinishReason, GenerateResponse, GenerationUsage, Message, Part, Result, Role, Status,
};
use serde_json::{Map, Value, json};

use crate::error;
use crate::wire::{self, Delta, KnownBlock, ResponseBlock, StreamEvent};

/// Translates a whole (non-streamed) answer.
pub fn from_anthropic(msg: wire::Message) -> GenerateResponse {
    let parts = msg.content.into_iter().map(block_part).collect();
    response(
        parts,
        msg.stop_reason,
        msg.stop_sequence,
        &msg.usage,
        msg.id,
        msg.model,
    )
}

fn response(
    parts: Vec<Part>,
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
    u: &wire::Usage,
    id: String,
    model: String,
) -> GenerateResponse {
    let mut custom = Map::new();
    custom.insert("id".into(), Value::String(id));
    custom.insert("model".into(), Value::String(model));
    if let Some(s) = stop_sequence {
        custom.insert("stopSequence".into(), Value::String(s));
    }
    let finish_message = stop_reason
        .as_deref()
        .filter(|r| finish_reason(r) == FinishReason::Other || *r == "refusal")
        .map(str::to_string);
    GenerateResponse {
        message: Some(Message::new(Role::Model, parts)),
        finish_reason: Some(
            stop_reason
                .as_deref()
                .map_or(FinishReason::Unknown, finish_reason),
        ),
        finish_message,
        usage: Some(usage(u)),
        custom: Some(Value::Object(custom)),
        ..Default::default()
    }
}

/// Anthropic's stop reason as Genkit's finish reason.
pub fn finish_reason(r: &str) -> FinishReason {
    match r {
        "end_turn" | "stop_sequence" | "tool_use" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "refusal" => FinishReason::Blocked,
        _ => FinishReason::Other,
    }
}

/// Anthropic's usage as Genkit's.
pub fn usage(u: &wire::Usage) -> GenerationUsage {
    let mut g = GenerationUsage::default();
    g.input_tokens = u.input_tokens;
    g.output_tokens = u.output_tokens;
    let cached =
        u.cache_creation_input_tokens.unwrap_or(0) + u.cache_read_input_tokens.unwrap_or(0);
    if u.input_tokens.is_some() || u.output_tokens.is_some() {
        g.total_tokens = Some(u.input_tokens.unwrap_or(0) + cached + u.output_tokens.unwrap_or(0));
    }
    g.cached_content_tokens = u.cache_read_input_tokens;
    let mut custom = Map::new();
    for (k, v) in [
        ("cacheCreationInputTokens", u.cache_creation_input_tokens),
        ("cacheReadInputTokens", u.cache_read_input_tokens),
    ] {
        if let Some(n) = v {
            custom.insert(k.into(), json!(n));
        }
    }
    g.custom = (!custom.is_empty()).then_some(custom);
    g
}

/// The part of one answer block.
pub fn block_part(b: ResponseBlock) -> Part {
    match b {
        ResponseBlock::Known(KnownBlock::Text { text, citations }) => text_part(text, citations),
        ResponseBlock::Known(KnownBlock::ToolUse { id, name, input }) => {
            Part::tool_request(name, Some(id), input)
        }
        ResponseBlock::Known(KnownBlock::Thinking {
            thinking,
            signature,
        }) => thinking_part(thinking, signature),
        ResponseBlock::Known(KnownBlock::RedactedThinking { data }) => {
            custom_part("redactedThinking", Value::String(data))
        }
        ResponseBlock::Other(v) => custom_part("anthropicBlock", v),
    }
}

fn text_part(text: String, citations: Option<Value>) -> Part {
    let p = Part::text(text);
    match citations {
        Some(c) if !c.is_null() => p.with_metadata("citations", c),
        _ => p,
    }
}

fn thinking_part(thinking: String, signature: String) -> Part {
    let p = Part::reasoning(thinking);
    if signature.is_empty() {
        p
    } else {
        p.with_metadata("thoughtSignature", Value::String(signature))
    }
}

fn custom_part(key: &str, v: Value) -> Part {
    let mut m = Map::new();
    m.insert(key.into(), v);
    let mut p = Part::default();
    p.custom = Some(Box::new(m));
    p
}

/// A block being streamed.
#[derive(Debug)]
enum Open {
    Text {
        text: String,
        citations: Vec<Value>,
    },
    ToolUse {
        id: String,
        name: String,
        json: String,
        input: Value,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    Done(Box<Part>),
}

impl Open {
    fn start(b: ResponseBlock) -> Open {
        match b {
            ResponseBlock::Known(KnownBlock::Text { text, .. }) => Open::Text {
                text,
                citations: Vec::new(),
            },
            ResponseBlock::Known(KnownBlock::ToolUse { id, name, input }) => Open::ToolUse {
                id,
                name,
                json: String::new(),
                input,
            },
            ResponseBlock::Known(KnownBlock::Thinking {
                thinking,
                signature,
            }) => Open::Thinking {
                thinking,
                signature,
            },
            other => Open::Done(Box::new(block_part(other))),
        }
    }

    fn finish(self) -> Result<Part> {
        Ok(match self {
            Open::Text { text, citations } => text_part(
                text,
                (!citations.is_empty()).then_some(Value::Array(citations)),
            ),
            Open::ToolUse {
                id,
                name,
                json,
                input,
            } => {
                let input = if json.trim().is_empty() {
                    input
                } else {
                    serde_json::from_str(&json).map_err(|e| {
                        Error::new(
                            Status::Internal,
                            format!(
                                "the Anthropic stream sent tool_use input that is not JSON: {e}"
                            ),
                        )
                    })?
                };
                Part::tool_request(name, Some(id), input)
            }
            Open::Thinking {
                thinking,
                signature,
            } => thinking_part(thinking, signature),
            Open::Done(p) => *p,
        })
    }
}

/// Builds a response from the events of a stream.
#[derive(Debug, Default)]
pub struct Aggregator {
    started: bool,
    stopped: bool,
    id: String,
    model: String,
    blocks: Vec<Option<Open>>,
    parts: Vec<Option<Part>>,
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
    usage: wire::Usage,
}

fn out_of_order(what: &str) -> Error {
    Error::new(
        Status::Internal,
        format!("the Anthropic stream is out of order: {what}"),
    )
}

impl Aggregator {
    /// A new aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once `message_stop` came.
    pub fn finished(&self) -> bool {
        self.stopped
    }

    /// Adds one event; returns the parts to stream for it. An `error` event is the
    /// error of the call (`key` is redacted from it).
    pub fn push(&mut self, event: StreamEvent, key: &str) -> Result<Vec<Part>> {
        match event {
            StreamEvent::MessageStart { message } => {
                self.started = true;
                self.id = message.id;
                self.model = message.model;
                self.usage = message.usage;
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                if index >= self.blocks.len() {
                    self.blocks.resize_with(index + 1, || None);
                    self.parts.resize_with(index + 1, || None);
                }
                if self.blocks[index].is_some() || self.parts[index].is_some() {
                    return Err(out_of_order(&format!("block {index} started twice")));
                }
                let open = Open::start(content_block);
                let early = match &open {
                    Open::Text { text, .. } if !text.is_empty() => Some(Part::text(text.clone())),
                    Open::Thinking { thinking, .. } if !thinking.is_empty() => {
                        Some(Part::reasoning(thinking.clone()))
                    }
                    _ => None,
                };
                self.blocks[index] = Some(open);
                return Ok(early.into_iter().collect());
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                let Some(Some(open)) = self.blocks.get_mut(index) else {
                    return Err(out_of_order(&format!(
                        "a delta for block {index}, which is not open"
                    )));
                };
                return Ok(apply(open, delta)?.into_iter().collect());
            }
            StreamEvent::ContentBlockStop { index } => {
                let Some(open) = self.blocks.get_mut(index).and_then(Option::take) else {
                    return Err(out_of_order(&format!(
                        "block {index} stopped but is not open"
                    )));
                };
                let streamed_already = !matches!(open, Open::ToolUse { .. } | Open::Done(_));
                let part = open.finish()?;
                let chunk = (!streamed_already).then(|| part.clone());
                self.parts[index] = Some(part);
                return Ok(chunk.into_iter().collect());
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if delta.stop_sequence.is_some() {
                    self.stop_sequence = delta.stop_sequence;
                }
                if let Some(u) = usage {
                    merge_usage(&mut self.usage, u);
                }
            }
            StreamEvent::MessageStop => self.stopped = true,
            StreamEvent::Error { error: e } => return Err(error::from_stream_error(&e, key)),
            StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(Vec::new())
    }

    /// The response, once the stream ended; UNAVAILABLE when it ended early.
    pub fn finish(self) -> Result<GenerateResponse> {
        if !self.started || !self.stopped {
            return Err(Error::unavailable(
                "the Anthropic stream ended before message_stop",
            ));
        }
        if let Some(i) = self.blocks.iter().position(Option::is_some) {
            return Err(out_of_order(&format!("block {i} never stopped")));
        }
        let parts = self.parts.into_iter().flatten().collect();
        Ok(response(
            parts,
            self.stop_reason,
            self.stop_sequence,
            &self.usage,
            self.id,
            self.model,
        ))
    }
}

/// Applies a delta; returns the part to stream for it, if any.
fn apply(open: &mut Open, delta: Delta) -> Result<Option<Part>> {
    Ok(match (open, delta) {
        (Open::Text { text, .. }, Delta::TextDelta { text: t }) => {
            text.push_str(&t);
            (!t.is_empty()).then(|| Part::text(t))
        }
        (Open::Text { citations, .. }, Delta::CitationsDelta { citation }) => {
            citations.push(citation);
            None
        }
        (Open::ToolUse { json, .. }, Delta::InputJsonDelta { partial_json }) => {
            json.push_str(&partial_json);
            None
        }
        (Open::Thinking { thinking, .. }, Delta::ThinkingDelta { thinking: t }) => {
            thinking.push_str(&t);
            (!t.is_empty()).then(|| Part::reasoning(t))
        }
        (Open::Thinking { signature, .. }, Delta::SignatureDelta { signature: s }) => {
            signature.push_str(&s);
            None
        }
        (_, Delta::Unknown) => None,
        (_, d) => {
            return Err(out_of_order(&format!(
                "a delta that does not fit its block: {}",
                serde_json::to_string(&d).unwrap_or_default()
            )));
        }
    })
}

/// `message_delta` usage is cumulative: its counts replace the start's.
fn merge_usage(into: &mut wire::Usage, u: wire::Usage) {
    let wire::Usage {
        input_tokens,
        output_tokens,
        cache_creation_input_tokens,
        cache_read_input_tokens,
        service_tier,
    } = u;
    for (dst, src) in [
        (&mut into.input_tokens, input_tokens),
        (&mut into.output_tokens, output_tokens),
        (
            &mut into.cache_creation_input_tokens,
            cache_creation_input_tokens,
        ),
        (&mut into.cache_read_input_tokens, cache_read_input_tokens),
    ] {
        if src.is_some() {
            *dst = src;
        }
    }
    if service_tier.is_some() {
        into.service_tier = service_tier;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(v: Value) -> StreamEvent {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_whole_answer() {
        let m: wire::Message = serde_json::from_value(json!({"id": "msg_1", "type": "message",
            "role": "assistant", "model": "claude-x", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
                {"type": "text", "text": "Hi"},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 2}}))
        .unwrap();
        let r = from_anthropic(m);
        let parts = &r.message.as_ref().unwrap().content;
        assert_eq!(
            parts[0].metadata_value("thoughtSignature"),
            Some(&json!("c2ln"))
        );
        assert_eq!(
            parts[2].tool_request.as_ref().unwrap().r#ref.as_deref(),
            Some("toolu_1")
        );
        assert_eq!(r.finish_reason, Some(FinishReason::Stop));
        let u = r.usage.unwrap();
        assert_eq!(
            (u.input_tokens, u.total_tokens, u.cached_content_tokens),
            (Some(3), Some(9), Some(2))
        );
    }

    #[test]
    fn a_stream_with_thinking_text_and_a_call() {
        let mut a = Aggregator::new();
        let events = [
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": "m", "content": [], "stop_reason": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "ping"}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hel"}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "lo"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "t1", "name": "f", "input": {}}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"q\": "}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "\"x\"}"}}),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 9}}),
            json!({"type": "message_stop"}),
        ];
        let mut chunks = Vec::new();
        for e in events {
            chunks.extend(a.push(ev(e), "k").unwrap());
        }
        assert_eq!(chunks.len(), 4, "{chunks:?}");
        assert_eq!(
            chunks[3].tool_request.as_ref().unwrap().input,
            Some(json!({"q": "x"}))
        );
        let r = a.finish().unwrap();
        assert_eq!(r.text(), "Hello");
        assert_eq!(r.reasoning(), "hm");
        assert_eq!(r.usage.unwrap().output_tokens, Some(9));
    }

    #[test]
    fn error_events_and_early_ends() {
        let mut a = Aggregator::new();
        let e = a
            .push(ev(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})), "k")
            .unwrap_err();
        assert_eq!(e.status(), Status::Unavailable);
        assert_eq!(
            Aggregator::new().finish().unwrap_err().status(),
            Status::Unavailable
        );
    }
}
