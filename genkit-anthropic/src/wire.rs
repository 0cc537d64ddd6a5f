//! The Anthropic Messages API's JSON (`POST /v1/messages`, `anthropic-version:
//! 2023-06-01`), as the API speaks it.
//!
//! Request types borrow from the Genkit request they are translated from (`Cow`), so
//! sending a long history copies none of its text, tool inputs or schemas; parsed, they
//! own their data (the local server validates with them). Their blocks reject unknown
//! fields, as the API does ("Extra inputs are not permitted"). Response types ignore
//! fields they do not know, so a newer API keeps working, and keep content blocks of
//! types they do not know as JSON.

use std::borrow::Cow;

use std::marker::PhantomData;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `POST /v1/messages` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest<'a> {
    /// The model (`claude-sonnet-4-5`).
    pub model: Cow<'a, str>,
    /// The most tokens to generate (thinking included).
    pub max_tokens: u64,
    /// The conversation: `user` and `assistant` turns.
    pub messages: Vec<MessageParam<'a>>,
    /// The system prompt (a string or text blocks on the wire).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_blocks"
    )]
    pub system: Option<Vec<ContentBlock<'a>>>,
    /// Texts that stop generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<Cow<'a, str>>>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool<'a>>>,
    /// How the model may use the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// `{"user_id": …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Output format (structured outputs) and effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig<'a>>,
    /// True for a server-sent event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Any other member (`service_tier`, `container`, …), sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageParam<'a> {
    /// `user` or `assistant`.
    pub role: Cow<'a, str>,
    /// Its blocks (a string on the wire is one text block).
    #[serde(deserialize_with = "blocks")]
    pub content: Vec<ContentBlock<'a>>,
}

/// A content block of a request (and, for text and images, of a tool result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContentBlock<'a> {
    /// Text.
    Text {
        /// The text.
        text: Cow<'a, str>,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Cow<'a, Value>>,
        /// Citations of the text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
    },
    /// An image.
    Image {
        /// Where its bytes are.
        source: Source<'a>,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Cow<'a, Value>>,
    },
    /// A document (PDF or text).
    Document {
        /// Where its bytes are.
        source: Source<'a>,
        /// Its title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Context about it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
        /// `{"enabled": true}` to cite it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Cow<'a, Value>>,
    },
    /// A call the model made.
    ToolUse {
        /// The call id (`toolu_…`), echoed by its result.
        id: Cow<'a, str>,
        /// The tool.
        name: Cow<'a, str>,
        /// Its input (a JSON object).
        input: Cow<'a, Value>,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Cow<'a, Value>>,
    },
    /// The result of a call.
    ToolResult {
        /// The id of the call.
        tool_use_id: Cow<'a, str>,
        /// Text and image blocks (a string on the wire is one text block).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "optional_blocks"
        )]
        content: Option<Vec<ContentBlock<'a>>>,
        /// True when the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Cow<'a, Value>>,
    },
    /// The model's extended thinking, signed.
    Thinking {
        /// The thinking text.
        thinking: Cow<'a, str>,
        /// Its signature, sent back unchanged.
        signature: Cow<'a, str>,
    },
    /// Thinking the API encrypted.
    RedactedThinking {
        /// The encrypted data, sent back unchanged.
        data: Cow<'a, str>,
    },
    /// A server tool call (web search, …), sent back as it came.
    ServerToolUse {
        /// The call id.
        id: String,
        /// The server tool.
        name: String,
        /// Its input.
        input: Value,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A web search result, sent back as it came.
    WebSearchToolResult {
        /// The id of the call.
        tool_use_id: String,
        /// The results.
        content: Value,
        /// Prompt-cache marker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
}

impl<'a> ContentBlock<'a> {
    /// A text block.
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        ContentBlock::Text {
            text: text.into(),
            cache_control: None,
            citations: None,
        }
    }

    /// The block's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            ContentBlock::Text { .. } => "text",
            ContentBlock::Image { .. } => "image",
            ContentBlock::Document { .. } => "document",
            ContentBlock::ToolUse { .. } => "tool_use",
            ContentBlock::ToolResult { .. } => "tool_result",
            ContentBlock::Thinking { .. } => "thinking",
            ContentBlock::RedactedThinking { .. } => "redacted_thinking",
            ContentBlock::ServerToolUse { .. } => "server_tool_use",
            ContentBlock::WebSearchToolResult { .. } => "web_search_tool_result",
        }
    }
}

/// Where an image's or document's bytes are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source<'a> {
    /// Inline base64.
    Base64 {
        /// `image/png`, `application/pdf`, …
        media_type: Cow<'a, str>,
        /// The base64 bytes.
        data: Cow<'a, str>,
    },
    /// A URL the API fetches.
    Url {
        /// The URL.
        url: Cow<'a, str>,
    },
    /// Plain text (documents).
    Text {
        /// `text/plain`.
        media_type: Cow<'a, str>,
        /// The text.
        data: Cow<'a, str>,
    },
    /// A file uploaded with the Files API.
    File {
        /// Its id.
        file_id: String,
    },
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool<'a> {
    /// Its name (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: Cow<'a, str>,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
    /// The JSON schema of its input (`type: object`).
    pub input_schema: Cow<'a, Value>,
    /// `custom` (the default).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Strict input validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Prompt-cache marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

/// How the model may use tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToolChoice {
    /// The model decides.
    Auto {
        /// At most one call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call some tool.
    Any {
        /// At most one call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call this tool.
    Tool {
        /// The tool.
        name: String,
        /// At most one call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must not call tools.
    None {},
}

/// Extended thinking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Thinking {
    /// Thinking with a token budget (at least 1024, less than `max_tokens`).
    Enabled {
        /// The budget.
        budget_tokens: u64,
        /// `summarized` or `omitted`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
    /// No thinking.
    Disabled {},
    /// The model decides how much to think.
    Adaptive {
        /// `summarized` or `omitted`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
}

/// `output_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig<'a> {
    /// `low`, `medium`, `high`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// Structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat<'a>>,
}

/// `output_config.format`: `{"type": "json_schema", "schema": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFormat<'a> {
    /// `json_schema`.
    #[serde(rename = "type")]
    pub kind: Cow<'a, str>,
    /// The JSON schema the answer fits.
    pub schema: Cow<'a, Value>,
}

/// A whole answer (`"type": "message"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`.
    #[serde(default)]
    pub id: String,
    /// `message`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `assistant`.
    #[serde(default)]
    pub role: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The answer's blocks.
    #[serde(default)]
    pub content: Vec<ResponseBlock>,
    /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`, `refusal`, …
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The stop sequence that matched.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Token counts.
    #[serde(default)]
    pub usage: Usage,
}

/// A block of an answer: one this crate knows, or any other as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseBlock {
    /// Text, tool use, thinking.
    Known(KnownBlock),
    /// A block of another type (server tools, …), kept as sent.
    Other(Value),
}

/// The answer blocks this crate translates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnownBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// Citations.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
    },
    /// A tool call.
    ToolUse {
        /// `toolu_…`.
        id: String,
        /// The tool.
        name: String,
        /// Its input.
        #[serde(default)]
        input: Value,
    },
    /// Extended thinking.
    Thinking {
        /// The text.
        #[serde(default)]
        thinking: String,
        /// The signature to send back.
        #[serde(default)]
        signature: String,
    },
    /// Encrypted thinking.
    RedactedThinking {
        /// The data to send back.
        data: String,
    },
}

/// Token counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens (thinking included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Input tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// `standard`, `priority`, `batch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

/// One event of a stream (`event: {type}` / `data: {…}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The message, with no content yet, and its input usage.
    MessageStart {
        /// The message.
        message: Message,
    },
    /// A block begins.
    ContentBlockStart {
        /// Its index.
        index: usize,
        /// Its start (empty text, tool name and id, …).
        content_block: ResponseBlock,
    },
    /// More of a block.
    ContentBlockDelta {
        /// The block's index.
        index: usize,
        /// What to add.
        delta: Delta,
    },
    /// A block ends.
    ContentBlockStop {
        /// Its index.
        index: usize,
    },
    /// The stop reason, and cumulative usage.
    MessageDelta {
        /// `stop_reason`, `stop_sequence`.
        delta: MessageDelta,
        /// Cumulative token counts.
        #[serde(default)]
        usage: Option<Usage>,
    },
    /// The end.
    MessageStop,
    /// Keep-alive.
    Ping,
    /// A failure mid-stream (`overloaded_error`, …).
    Error {
        /// What failed.
        error: ApiError,
    },
    /// An event type this crate does not know (ignored, as the API asks).
    #[serde(other)]
    Unknown,
}

/// The change of a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Delta {
    /// More text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// More of a tool call's input JSON.
    InputJsonDelta {
        /// A piece of the JSON text.
        partial_json: String,
    },
    /// More thinking.
    ThinkingDelta {
        /// The text.
        thinking: String,
    },
    /// The thinking block's signature.
    SignatureDelta {
        /// The signature.
        signature: String,
    },
    /// A citation of the text block.
    CitationsDelta {
        /// The citation.
        citation: Value,
    },
    /// A delta type this crate does not know.
    #[serde(other)]
    Unknown,
}

/// `message_delta.delta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDelta {
    /// Why the model stopped.
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The stop sequence that matched.
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

/// The error body: `{"type": "error", "error": {"type", "message"}, "request_id"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `error`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// What failed.
    pub error: ApiError,
    /// The request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error's type and message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `not_found_error`, `request_too_large`, `rate_limit_error`, `api_error`,
    /// `overloaded_error`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// What happened.
    #[serde(default)]
    pub message: String,
}

/// A string is one text block; an array is blocks (read in place, so errors name the
/// block's path).
fn blocks<'de, 'a, D: Deserializer<'de>>(d: D) -> Result<Vec<ContentBlock<'a>>, D::Error> {
    struct Blocks<'a>(PhantomData<&'a ()>);
    impl<'de, 'a> Visitor<'de> for Blocks<'a> {
        type Value = Vec<ContentBlock<'a>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a list of content blocks")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(vec![ContentBlock::text(s.to_string())])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Blocks(PhantomData))
}

fn optional_blocks<'de, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<ContentBlock<'a>>>, D::Error> {
    blocks(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_text_blocks_and_unknown_fields_are_refused() {
        let m: MessageParam<'static> =
            serde_json::from_value(json!({"role": "user", "content": "hi"})).unwrap();
        assert_eq!(m.content, vec![ContentBlock::text("hi")]);
        let e = serde_json::from_value::<MessageParam<'static>>(
            json!({"role": "user", "content": [{"type": "text", "text": "x", "foo": 1}]}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("foo"), "{e}");
    }

    #[test]
    fn unknown_answer_blocks_and_events_are_kept_or_ignored() {
        let m: Message = serde_json::from_value(json!({"id": "msg_1", "type": "message",
            "role": "assistant", "model": "m", "content": [{"type": "text", "text": "a"},
            {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 2}}))
        .unwrap();
        assert!(matches!(m.content[1], ResponseBlock::Other(_)));
        let e: StreamEvent = serde_json::from_value(json!({"type": "new_thing"})).unwrap();
        assert_eq!(e, StreamEvent::Unknown);
    }
}
