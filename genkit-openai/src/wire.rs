//! The JSON of OpenAI's Chat Completions and Embeddings APIs, with the field names of
//! OpenAI's API reference.
//!
//! Request types borrow from Genkit's request (texts, tool schemas, the output schema
//! are serialized in place, never copied); response types are owned, and serialize
//! too (the local server answers with them).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /chat/completions`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest<'a> {
    /// The model id.
    pub model: Cow<'a, str>,
    /// The conversation.
    pub messages: Vec<ChatMessage<'a>>,
    /// Function tools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDef<'a>>,
    /// `"auto"`, `"none"`, `"required"` or `{"type":"function","function":{"name"}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// `{"type":"json_schema", …}` or `{"type":"json_object"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat<'a>>,
    /// Stream the answer as server-sent events.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// `{"include_usage": true}` when streaming.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Everything else (`temperature`, `top_p`, `max_completion_tokens`, `stop`,
    /// `seed`, `reasoning_effort`, …), as OpenAI names it.
    #[serde(flatten)]
    pub config: Map<String, Value>,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StreamOptions {
    /// Ask for a last chunk with the usage.
    pub include_usage: bool,
}

/// One message of the conversation, by role.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage<'a> {
    /// Instructions.
    System {
        /// The text.
        content: Cow<'a, str>,
    },
    /// The user's turn.
    User {
        /// Text, or parts (text, images, audio, files).
        content: UserContent<'a>,
    },
    /// The model's earlier turn.
    Assistant {
        /// Its text (`null` when it only called tools).
        content: Option<Cow<'a, str>>,
        /// Its tool calls.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
    },
    /// A tool's result.
    Tool {
        /// The id of the call it answers.
        tool_call_id: Cow<'a, str>,
        /// The result as text (JSON for structured results).
        content: Cow<'a, str>,
    },
}

/// A user message's content.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum UserContent<'a> {
    /// Plain text.
    Text(Cow<'a, str>),
    /// Parts.
    Parts(Vec<ContentPart<'a>>),
}

/// A part of a user message.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart<'a> {
    /// Text.
    Text {
        /// The text.
        text: Cow<'a, str>,
    },
    /// An image by URL (`https:` or `data:`).
    ImageUrl {
        /// The image.
        image_url: ImageUrl<'a>,
    },
    /// Audio, base64 (`wav` or `mp3`).
    InputAudio {
        /// The audio.
        input_audio: InputAudio<'a>,
    },
    /// A file (PDF), as a `data:` URL.
    File {
        /// The file.
        file: FileData<'a>,
    },
}

/// `image_url`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageUrl<'a> {
    /// The URL.
    pub url: &'a str,
}

/// `input_audio`.
#[derive(Debug, Clone, Serialize)]
pub struct InputAudio<'a> {
    /// Base64 data.
    pub data: &'a str,
    /// `wav` or `mp3`.
    pub format: &'a str,
}

/// `file`.
#[derive(Debug, Clone, Serialize)]
pub struct FileData<'a> {
    /// A `data:` URL.
    pub file_data: &'a str,
    /// A file name.
    pub filename: &'a str,
}

/// A tool call in an assistant message.
#[derive(Debug, Clone, Serialize)]
pub struct ToolCall<'a> {
    /// The call id.
    pub id: Cow<'a, str>,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function and its arguments.
    pub function: FunctionCall<'a>,
}

/// A call's function and its JSON arguments as a string.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionCall<'a> {
    /// The function name.
    pub name: &'a str,
    /// The arguments, JSON text.
    pub arguments: String,
}

/// A function tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolDef<'a> {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: FunctionDef<'a>,
}

/// A function's name, description and parameter schema.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionDef<'a> {
    /// The name.
    pub name: &'a str,
    /// What it does.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'a str,
    /// JSON Schema of its arguments.
    pub parameters: &'a Value,
}

/// `response_format`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat<'a> {
    /// JSON fitting a schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat<'a>,
    },
    /// Any JSON object.
    JsonObject,
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, Serialize)]
pub struct JsonSchemaFormat<'a> {
    /// A name (`output`).
    pub name: &'static str,
    /// The schema.
    pub schema: &'a Value,
}

/// A chat completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// `chatcmpl-…`.
    pub id: String,
    /// `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The answers (one unless `n` was set).
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Its index.
    pub index: u32,
    /// The message.
    pub message: ResponseMessage,
    /// `stop`, `length`, `tool_calls`, `content_filter`, `function_call`.
    pub finish_reason: Option<String>,
}

/// The assistant's message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    /// `assistant`.
    #[serde(default = "assistant")]
    pub role: String,
    /// Its text.
    #[serde(default)]
    pub content: Option<String>,
    /// Why the model refused, when it did.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Its tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
    /// Reasoning text, as DeepSeek and other compatible servers send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
}

fn assistant() -> String {
    "assistant".into()
}

/// A tool call of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseToolCall {
    /// The call id.
    pub id: String,
    /// `function`.
    #[serde(rename = "type", default = "function")]
    pub kind: String,
    /// The function and its arguments.
    pub function: ResponseFunction,
}

fn function() -> String {
    "function".into()
}

/// A called function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseFunction {
    /// The name.
    pub name: String,
    /// The arguments, JSON text.
    pub arguments: String,
}

/// Token counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Details of the output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Details of the input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Reasoning tokens.
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Cached input tokens.
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

/// One streamed chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The completion's id.
    pub id: String,
    /// `chat.completion.chunk`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model.
    pub model: String,
    /// Deltas (empty in the usage chunk).
    pub choices: Vec<ChunkChoice>,
    /// Only in the last chunk, with `include_usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One choice's delta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// The choice.
    pub index: u32,
    /// What it adds.
    pub delta: Delta,
    /// Set in its last chunk.
    pub finish_reason: Option<String>,
}

/// What a chunk adds to a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// `assistant` in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// More text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// More refusal text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Pieces of tool calls, by index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<DeltaToolCall>>,
    /// More reasoning text (DeepSeek and others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
}

/// A piece of a tool call: the first piece of a call has its id and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaToolCall {
    /// Which call of the message.
    pub index: u32,
    /// Its id (first piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first piece).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (first piece) and a piece of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<DeltaFunction>,
}

/// `tool_calls[].function` of a delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeltaFunction {
    /// The name (first piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// `POST /embeddings`.
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddingRequest<'a> {
    /// The model id.
    pub model: Cow<'a, str>,
    /// The texts.
    pub input: Vec<Cow<'a, str>>,
    /// `float`.
    pub encoding_format: &'static str,
    /// Shorter vectors (text-embedding-3 models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// An end-user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// The embeddings of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// `list`.
    pub object: String,
    /// One per input, with its index.
    pub data: Vec<EmbeddingData>,
    /// The model.
    pub model: String,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<EmbeddingUsage>,
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingData {
    /// `embedding`.
    pub object: String,
    /// The input it embeds.
    pub index: usize,
    /// The vector.
    pub embedding: Vec<f32>,
}

/// `usage` of an embeddings answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Total tokens.
    pub total_tokens: u64,
}

/// OpenAI's error body: `{"error": {message, type, param, code}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorObject,
}

/// The error object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// What went wrong.
    #[serde(default)]
    pub message: String,
    /// `invalid_request_error`, `rate_limit_exceeded`, …
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The offending parameter.
    #[serde(default)]
    pub param: Option<String>,
    /// `model_not_found`, `invalid_api_key`, … (a string, or a number on some servers).
    #[serde(default)]
    pub code: Option<Value>,
}
