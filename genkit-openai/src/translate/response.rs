//! A chat completion → Genkit's `GenerateResponse`; streamed chunks → Genkit chunks and,
//! at the end, the same response.
//!
//! - The first choice is the answer. Its `reasoning_content` (DeepSeek, vLLM, …) → a
//!   reasoning part; `content` → a text part; each tool call → a tool request whose
//!   `ref` is the call id and whose input is the parsed arguments (text that is not
//!   JSON is kept as a string, so the tool's input check names the problem).
//! - A `refusal` → finish reason `blocked` with the refusal as the finish message.
//! - `finish_reason`: `stop` / `tool_calls` / `function_call` → `stop`; `length` →
//!   `length`; `content_filter` → `blocked`; anything else → `other`; none → `unknown`.
//! - Usage: prompt / completion / total tokens, reasoning tokens → `thoughtsTokens`,
//!   cached prompt tokens → `cachedContentTokens`.
//! - Streaming ([`Aggregator`]): text and reasoning deltas go out as they come; tool
//!   calls are assembled by their `index` (id and name in the first piece, arguments
//!   in pieces) and go out whole when the choice finishes.

use genkit_core::{
    Error, FinishReason, GenerateResponse, GenerationUsage, Message, Part, Result, Role,
};
use serde_json::Value;

use crate::wire::{
    ChatChunk, ChatCompletion, Choice, ResponseFunction, ResponseMessage, ResponseToolCall, Usage,
};

/// Translates a completion.
pub fn from_openai(c: ChatCompletion) -> Result<GenerateResponse> {
    let usage = c.usage.map(usage);
    let Some(choice) = c.choices.into_iter().next() else {
        return Err(Error::internal(format!(
            "the answer of {} has no choices",
            c.model
        )));
    };
    let mut resp =
        GenerateResponse::from_message(Message::new(Role::Model, parts(&choice.message)));
    resp.finish_reason = Some(finish_reason(choice.finish_reason.as_deref()));
    if let Some(r) = choice.message.refusal.filter(|r| !r.is_empty()) {
        resp.finish_reason = Some(FinishReason::Blocked);
        resp.finish_message = Some(r);
    }
    resp.usage = usage;
    Ok(resp)
}

fn parts(m: &ResponseMessage) -> Vec<Part> {
    let mut parts = Vec::with_capacity(1 + m.tool_calls.as_ref().map_or(0, Vec::len));
    if let Some(r) = m.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        parts.push(Part::reasoning(r));
    }
    if let Some(t) = m.content.as_deref().filter(|t| !t.is_empty()) {
        parts.push(Part::text(t));
    }
    parts.extend(m.tool_calls.iter().flatten().map(tool_request));
    parts
}

fn tool_request(call: &ResponseToolCall) -> Part {
    let args = &call.function.arguments;
    let input = if args.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.clone()))
    };
    Part::tool_request(&call.function.name, Some(call.id.clone()), input)
}

/// Genkit's finish reason for OpenAI's.
pub fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        None => FinishReason::Unknown,
        Some("stop" | "tool_calls" | "function_call") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("content_filter") => FinishReason::Blocked,
        Some(_) => FinishReason::Other,
    }
}

fn usage(u: Usage) -> GenerationUsage {
    let mut out = GenerationUsage::default();
    out.input_tokens = Some(u.prompt_tokens);
    out.output_tokens = Some(u.completion_tokens);
    out.total_tokens = Some(u.total_tokens);
    out.thoughts_tokens = u.completion_tokens_details.and_then(|d| d.reasoning_tokens);
    out.cached_content_tokens = u.prompt_tokens_details.and_then(|d| d.cached_tokens);
    out
}

/// A tool call being streamed.
#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Assembles a streamed completion: [`push`](Self::push) each chunk (it returns the
/// parts to stream now), then [`finish`](Self::finish).
#[derive(Debug, Default)]
pub struct Aggregator {
    id: String,
    model: String,
    created: u64,
    message: ResponseMessage,
    calls: Vec<PartialCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once the first choice has its finish reason.
    pub fn finished(&self) -> bool {
        self.finish_reason.is_some()
    }

    /// Adds a chunk; returns the parts it completes (text and reasoning deltas, and the
    /// whole tool calls when the choice finishes). A tool-call piece with an index
    /// before any call started, or above 127, is INTERNAL.
    pub fn push(&mut self, chunk: ChatChunk) -> Result<Vec<Part>> {
        if self.id.is_empty() {
            (self.id, self.model, self.created) = (chunk.id, chunk.model, chunk.created);
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        let mut out = Vec::new();
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            let d = choice.delta;
            if let Some(r) = d.reasoning_content.filter(|r| !r.is_empty()) {
                self.message
                    .reasoning_content
                    .get_or_insert_default()
                    .push_str(&r);
                out.push(Part::reasoning(r));
            }
            if let Some(t) = d.content.filter(|t| !t.is_empty()) {
                self.message.content.get_or_insert_default().push_str(&t);
                out.push(Part::text(t));
            }
            if let Some(r) = d.refusal {
                self.message.refusal.get_or_insert_default().push_str(&r);
            }
            for piece in d.tool_calls.into_iter().flatten() {
                let i = piece.index as usize;
                if i > 127 || i > self.calls.len() {
                    return Err(Error::internal(format!(
                        "a streamed tool call has index {i} while {} calls were started",
                        self.calls.len()
                    )));
                }
                if i == self.calls.len() {
                    self.calls.push(PartialCall::default());
                }
                let call = &mut self.calls[i];
                if let Some(id) = piece.id {
                    call.id = id;
                }
                if let Some(f) = piece.function {
                    if let Some(n) = f.name {
                        call.name.push_str(&n);
                    }
                    if let Some(a) = f.arguments {
                        call.arguments.push_str(&a);
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
                let calls = self.take_calls();
                out.extend(calls.iter().map(tool_request));
                self.message
                    .tool_calls
                    .get_or_insert_default()
                    .extend(calls);
            }
        }
        Ok(out)
    }

    fn take_calls(&mut self) -> Vec<ResponseToolCall> {
        std::mem::take(&mut self.calls)
            .into_iter()
            .map(|c| ResponseToolCall {
                id: c.id,
                kind: "function".into(),
                function: ResponseFunction {
                    name: c.name,
                    arguments: c.arguments,
                },
            })
            .collect()
    }

    /// The whole response, as [`from_openai`] makes it of the assembled completion.
    pub fn finish(mut self) -> Result<GenerateResponse> {
        let calls = self.take_calls();
        if !calls.is_empty() {
            self.message
                .tool_calls
                .get_or_insert_default()
                .extend(calls);
        }
        from_openai(ChatCompletion {
            id: self.id,
            object: "chat.completion".into(),
            created: self.created,
            model: self.model,
            choices: vec![Choice {
                index: 0,
                message: self.message,
                finish_reason: self.finish_reason,
            }],
            usage: self.usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(v: Value) -> ChatChunk {
        let mut base =
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn a_completion_with_text_tools_and_usage() {
        let c: ChatCompletion = serde_json::from_value(json!({"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Let me look.", "refusal": null,
                "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
                               {"id": "call_b", "type": "function", "function": {"name": "f", "arguments": "oops"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7, "completion_tokens_details": {"reasoning_tokens": 2}}}))
        .unwrap();
        let r = from_openai(c).unwrap();
        assert_eq!(r.text(), "Let me look.");
        let calls = r.tool_requests();
        assert_eq!(calls[0].r#ref.as_deref(), Some("call_a"));
        assert_eq!(calls[0].input, Some(json!({"x": 1})));
        assert_eq!(calls[1].input, Some(json!("oops")));
        assert_eq!(r.finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.usage().thoughts_tokens, Some(2));
        assert_eq!(r.usage().total_tokens, Some(7));
    }

    #[test]
    fn refusals_are_blocked() {
        let c: ChatCompletion = serde_json::from_value(json!({"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]}))
        .unwrap();
        let r = from_openai(c).unwrap();
        assert_eq!(r.finish_reason, Some(FinishReason::Blocked));
        assert_eq!(r.finish_message.as_deref(), Some("I can't help with that."));
    }

    #[test]
    fn streamed_tool_calls_are_assembled_by_index() {
        let mut a = Aggregator::new();
        let p = a.push(chunk(json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi "}, "finish_reason": null}]}))).unwrap();
        assert_eq!(p[0].text.as_deref(), Some("Hi "));
        a.push(chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"q\":"}},
            {"index": 1, "id": "call_2", "type": "function", "function": {"name": "g", "arguments": ""}}]}, "finish_reason": null}]}))).unwrap();
        a.push(chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"a\"}"}},
            {"index": 1, "function": {"arguments": "{}"}}]}, "finish_reason": null}]}))).unwrap();
        let p = a
            .push(chunk(
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            ))
            .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].tool_request.as_ref().unwrap().input,
            Some(json!({"q": "a"}))
        );
        a.push(chunk(json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}))).unwrap();
        let r = a.finish().unwrap();
        assert_eq!(r.text(), "Hi ");
        assert_eq!(r.tool_requests().len(), 2);
        assert_eq!(r.tool_requests()[1].name, "g");
        assert_eq!(r.usage().output_tokens, Some(2));
        let mut bad = Aggregator::new();
        let e = bad.push(chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 3}]}, "finish_reason": null}]}))).unwrap_err();
        assert_eq!(e.status(), genkit_core::Status::Internal);
    }
}
