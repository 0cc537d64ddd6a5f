//! Actions: every model, tool, flow and utility is one, keyed `/{kind}/{name}`.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::error::Result;
use crate::genkit::Genkit;

/// The kind of an action: the first segment of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ActionKind {
    /// `flow`
    Flow,
    /// `model`
    Model,
    /// `background-model`
    BackgroundModel,
    /// `tool`
    Tool,
    /// `tool.v2`
    ToolV2,
    /// `prompt`
    Prompt,
    /// `executable-prompt`
    ExecutablePrompt,
    /// `embedder`
    Embedder,
    /// `retriever`
    Retriever,
    /// `indexer`
    Indexer,
    /// `reranker`
    Reranker,
    /// `evaluator`
    Evaluator,
    /// `util`
    Util,
    /// `custom`
    Custom,
    /// `resource`
    Resource,
    /// `agent`
    Agent,
    /// `agent-snapshot`
    AgentSnapshot,
    /// `agent-abort`
    AgentAbort,
}

impl ActionKind {
    /// The kind as it appears in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Flow => "flow",
            ActionKind::Model => "model",
            ActionKind::BackgroundModel => "background-model",
            ActionKind::Tool => "tool",
            ActionKind::ToolV2 => "tool.v2",
            ActionKind::Prompt => "prompt",
            ActionKind::ExecutablePrompt => "executable-prompt",
            ActionKind::Embedder => "embedder",
            ActionKind::Retriever => "retriever",
            ActionKind::Indexer => "indexer",
            ActionKind::Reranker => "reranker",
            ActionKind::Evaluator => "evaluator",
            ActionKind::Util => "util",
            ActionKind::Custom => "custom",
            ActionKind::Resource => "resource",
            ActionKind::Agent => "agent",
            ActionKind::AgentSnapshot => "agent-snapshot",
            ActionKind::AgentAbort => "agent-abort",
        }
    }

    /// Every kind.
    pub const ALL: [ActionKind; 18] = [
        ActionKind::Flow,
        ActionKind::Model,
        ActionKind::BackgroundModel,
        ActionKind::Tool,
        ActionKind::ToolV2,
        ActionKind::Prompt,
        ActionKind::ExecutablePrompt,
        ActionKind::Embedder,
        ActionKind::Retriever,
        ActionKind::Indexer,
        ActionKind::Reranker,
        ActionKind::Evaluator,
        ActionKind::Util,
        ActionKind::Custom,
        ActionKind::Resource,
        ActionKind::Agent,
        ActionKind::AgentSnapshot,
        ActionKind::AgentAbort,
    ];

    /// The kind named in a key.
    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action is: key, name, schemas, description, metadata. Built once, at
/// definition; never per call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ActionDesc {
    /// Its kind.
    pub kind: ActionKind,
    /// Its name (`research_flow`, `googleai/gemini-2.0-flash`).
    pub name: String,
    /// `/{kind}/{name}`.
    pub key: String,
    /// What it does.
    pub description: Option<String>,
    /// JSON schema of its input.
    pub input_schema: Option<Value>,
    /// JSON schema of its output.
    pub output_schema: Option<Value>,
    /// JSON schema of its stream chunks.
    pub stream_schema: Option<Value>,
    /// Metadata (`model` info for models, `type`, …).
    pub metadata: Map<String, Value>,
}

impl ActionDesc {
    /// A description with no schemas or metadata.
    pub fn new(kind: ActionKind, name: impl Into<String>) -> Self {
        let name = name.into();
        ActionDesc {
            kind,
            key: format!("/{}/{}", kind.as_str(), name),
            name,
            description: None,
            input_schema: None,
            output_schema: None,
            stream_schema: None,
            metadata: Map::new(),
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        let d = description.into();
        self.description = (!d.is_empty()).then_some(d);
        self
    }

    /// Sets the schemas.
    pub fn with_schemas(mut self, input: Option<Value>, output: Option<Value>) -> Self {
        self.input_schema = input;
        self.output_schema = output;
        self
    }

    /// The entry `/api/actions` lists for it, shaped as the JS runtime shapes it:
    /// `{key, name, description, metadata, inputSchema?, outputSchema?}`.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("key".into(), Value::from(self.key.as_str()));
        obj.insert("name".into(), Value::from(self.name.as_str()));
        if let Some(d) = &self.description {
            obj.insert("description".into(), Value::from(d.as_str()));
        }
        if let Some(s) = &self.input_schema {
            obj.insert("inputSchema".into(), s.clone());
        }
        if let Some(s) = &self.output_schema {
            obj.insert("outputSchema".into(), s.clone());
        }
        let mut metadata = self.metadata.clone();
        metadata
            .entry("type")
            .or_insert_with(|| Value::from(self.kind.as_str()));
        obj.insert("metadata".into(), Value::Object(metadata));
        Value::Object(obj)
    }
}

/// How a JSON run of an action is made: its stream sink and request context.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// Where streamed chunks go (as JSON); `None` for a plain run.
    pub chunks: Option<mpsc::Sender<Value>>,
    /// Request context (auth), readable by flows and tools.
    pub context: Option<Arc<Value>>,
}

impl RunOptions {
    /// A run that streams its chunks into `tx`.
    pub fn streaming(tx: mpsc::Sender<Value>) -> Self {
        RunOptions {
            chunks: Some(tx),
            context: None,
        }
    }

    /// Adds a request context.
    pub fn with_context(mut self, context: Value) -> Self {
        self.context = Some(Arc::new(context));
        self
    }
}

/// An action that can be run with JSON input: how the Dev UI, the HTTP layer and
/// `/util/generate` call everything.
pub trait Action: Send + Sync + 'static {
    /// Its description.
    fn desc(&self) -> &ActionDesc;

    /// Runs it with JSON input; input that does not match the schema is an
    /// INVALID_ARGUMENT error naming the field.
    fn run_json(
        &self,
        ai: Genkit,
        input: Value,
        opts: RunOptions,
    ) -> BoxFuture<'static, Result<Value>>;
}

/// A shared, type-erased action.
pub type ActionRef = Arc<dyn Action>;
