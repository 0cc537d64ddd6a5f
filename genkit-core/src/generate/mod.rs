//! `generate()`: call the model, run the tools it asks for, feed the results back,
//! repeat until it answers.
//!
//! ```no_run
//! # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
//! let response = ai.generate().prompt("Why is the sky blue?").await?;
//! println!("{}", response.text());
//! # Ok(()) }
//! ```
//!
//! Differences from Genkit JS, on purpose: the parts of a tool message are in the order
//! the model requested the tools (JS uses completion order), so histories are
//! deterministic; format instructions and simulated-constrained-output instructions are
//! added to the history once, not re-applied per model call.

pub mod context;
pub mod extract;
pub(crate) mod output;
mod resume;
mod stream;
mod tool_loop;
mod util;

use std::future::{Future, IntoFuture};
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

pub use context::AugmentWithContext;
pub use stream::GenerateStream;
pub(crate) use util::GenerateUtil;

use crate::genkit::Genkit;
use crate::middleware::{Middleware, MiddlewareRef};
use crate::model::ModelRef;
use crate::schema::{Validator, schema_of, validator_of};
use crate::tool::{IntoTools, ToolSpec};
use crate::types::{DocumentData, GenerateResponse, Message, Part, Resume, ToolChoice};

/// Which model a call uses.
#[derive(Clone)]
pub enum ModelSpec {
    /// A registered model, by name (`googleai/gemini-2.0-flash`).
    Name(String),
    /// A model action.
    Action(ModelRef),
}

impl From<&str> for ModelSpec {
    fn from(s: &str) -> Self {
        ModelSpec::Name(s.to_string())
    }
}

impl From<String> for ModelSpec {
    fn from(s: String) -> Self {
        ModelSpec::Name(s)
    }
}

impl From<ModelRef> for ModelSpec {
    fn from(m: ModelRef) -> Self {
        ModelSpec::Action(m)
    }
}

impl From<&ModelRef> for ModelSpec {
    fn from(m: &ModelRef) -> Self {
        ModelSpec::Action(m.clone())
    }
}

/// Prompt content: text or parts.
pub struct PromptContent(pub(crate) Vec<Part>);

impl From<&str> for PromptContent {
    fn from(s: &str) -> Self {
        PromptContent(vec![Part::text(s)])
    }
}
impl From<String> for PromptContent {
    fn from(s: String) -> Self {
        PromptContent(vec![Part::text(s)])
    }
}
impl From<&String> for PromptContent {
    fn from(s: &String) -> Self {
        PromptContent(vec![Part::text(s.as_str())])
    }
}
impl From<Part> for PromptContent {
    fn from(p: Part) -> Self {
        PromptContent(vec![p])
    }
}
impl From<Vec<Part>> for PromptContent {
    fn from(p: Vec<Part>) -> Self {
        PromptContent(p)
    }
}

/// The requested output.
#[derive(Clone, Default)]
pub(crate) struct OutputOptions {
    pub(crate) format: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) schema: Option<Arc<Value>>,
    pub(crate) validator: Option<Arc<Validator>>,
    pub(crate) instructions: Option<Value>,
    pub(crate) constrained: Option<bool>,
}

/// Everything a generate call can set.
#[derive(Clone, Default)]
pub(crate) struct GenerateOptions {
    pub(crate) model: Option<ModelSpec>,
    pub(crate) system: Option<Vec<Part>>,
    pub(crate) messages: Vec<Arc<Message>>,
    pub(crate) prompt: Option<Vec<Part>>,
    pub(crate) tools: Vec<ToolSpec>,
    pub(crate) tool_choice: Option<ToolChoice>,
    pub(crate) config: Option<Value>,
    pub(crate) output: Option<OutputOptions>,
    pub(crate) docs: Option<Vec<DocumentData>>,
    pub(crate) max_turns: Option<u32>,
    pub(crate) return_tool_requests: bool,
    pub(crate) context: Option<Arc<Value>>,
    pub(crate) middleware: Vec<MiddlewareRef>,
    pub(crate) resume: Option<Resume>,
    pub(crate) step_name: Option<String>,
    pub(crate) error: Option<crate::Error>,
}

/// A generate call being set up. `.await` it for the final response, or call
/// [`stream`](GenerateBuilder::stream) to receive chunks as they arrive.
#[must_use = "a generate call does nothing until it is awaited or streamed"]
pub struct GenerateBuilder {
    ai: Genkit,
    opts: GenerateOptions,
}

impl GenerateBuilder {
    pub(crate) fn new(ai: Genkit) -> Self {
        GenerateBuilder {
            ai,
            opts: GenerateOptions::default(),
        }
    }

    /// The model, by name or action; default: the instance's model.
    pub fn model(mut self, model: impl Into<ModelSpec>) -> Self {
        self.opts.model = Some(model.into());
        self
    }

    /// The user prompt (text or parts), sent after the history.
    pub fn prompt(mut self, prompt: impl Into<PromptContent>) -> Self {
        self.opts.prompt = Some(prompt.into().0);
        self
    }

    /// System instructions, sent first.
    pub fn system(mut self, system: impl Into<PromptContent>) -> Self {
        self.opts.system = Some(system.into().0);
        self
    }

    /// The conversation so far (for example `previous.messages()`): owned messages
    /// (`Vec<Message>`) or shared ones (`Vec<Arc<Message>>`, an agent's history), which
    /// the request then shares rather than copies.
    pub fn messages<M: Into<Arc<Message>>>(
        mut self,
        messages: impl IntoIterator<Item = M>,
    ) -> Self {
        self.opts.messages = messages.into_iter().map(Into::into).collect();
        self
    }

    /// Appends one message to the conversation.
    pub fn message(mut self, message: impl Into<Arc<Message>>) -> Self {
        self.opts.messages.push(message.into());
        self
    }

    /// Tools the model may call: `[web_search]`, `(web_search, read_file)`,
    /// `vec![tool_ref]`, or registered names. Different tools go in a tuple: an array
    /// holds one type (`[web_search, read_file]` is a type mismatch).
    pub fn tools(mut self, tools: impl IntoTools) -> Self {
        tools.push_into(&mut self.opts.tools);
        self
    }

    /// How the model may use tools.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.opts.tool_choice = Some(choice);
        self
    }

    /// Provider configuration (temperature, …), as JSON.
    pub fn config(mut self, config: impl Serialize) -> Self {
        match serde_json::to_value(config) {
            Ok(v) => self.opts.config = Some(v),
            Err(e) => self.opts.error = Some(e.into()),
        }
        self
    }

    /// Typed output: the JSON schema of `T` is sent to the model, the reply is
    /// validated against it, and [`GenerateResponse::output`] parses it.
    pub fn output<T: JsonSchema + 'static>(mut self) -> Self {
        let out = self.opts.output.get_or_insert_with(Default::default);
        out.schema = Some(schema_of::<T>());
        match validator_of::<T>() {
            Ok(v) => out.validator = Some(v),
            Err(e) => self.opts.error = Some(e),
        }
        self
    }

    /// Output JSON schema, given as JSON.
    pub fn output_schema(mut self, schema: Value) -> Self {
        let out = self.opts.output.get_or_insert_with(Default::default);
        match Validator::new(&schema) {
            Ok(v) => out.validator = Some(Arc::new(v)),
            Err(e) => self.opts.error = Some(e),
        }
        out.schema = Some(Arc::new(schema));
        self
    }

    /// Output format (`json`, `text`, …).
    pub fn output_format(mut self, format: impl Into<String>) -> Self {
        self.opts.output.get_or_insert_with(Default::default).format = Some(format.into());
        self
    }

    /// Output instructions: `true`/`false`, or the text itself.
    pub fn output_instructions(mut self, instructions: impl Into<Value>) -> Self {
        self.opts
            .output
            .get_or_insert_with(Default::default)
            .instructions = Some(instructions.into());
        self
    }

    /// Context documents. A model without `supports.context` receives them rendered
    /// into the last user message (Genkit's text; see [`AugmentWithContext`] to change
    /// or drop the rendering); the conversation in the response does not hold them.
    pub fn docs(mut self, docs: Vec<DocumentData>) -> Self {
        self.opts.docs = Some(docs);
        self
    }

    /// Maximum tool-call turns (default 5, as Genkit).
    pub fn max_turns(mut self, max: u32) -> Self {
        self.opts.max_turns = Some(max);
        self
    }

    /// Stop at the first tool requests and return them instead of running tools.
    pub fn return_tool_requests(mut self, yes: bool) -> Self {
        self.opts.return_tool_requests = yes;
        self
    }

    /// Request context (auth) visible to tools.
    pub fn context(mut self, context: Value) -> Self {
        self.opts.context = Some(Arc::new(context));
        self
    }

    /// Adds a middleware (outermost first). `use` is a Rust keyword, hence `use_`.
    pub fn use_(mut self, middleware: impl Middleware) -> Self {
        self.opts.middleware.push(Arc::new(middleware));
        self
    }

    /// Adds a shared middleware.
    pub fn use_ref(mut self, middleware: MiddlewareRef) -> Self {
        self.opts.middleware.push(middleware);
        self
    }

    /// Continues an interrupted generation (pass its `messages()` too).
    pub fn resume(mut self, resume: Resume) -> Self {
        self.opts.resume = Some(resume);
        self
    }

    /// Answers an interrupted tool request with `output` (Genkit's `resume.respond`).
    pub fn respond(mut self, interrupt: &Part, output: Value) -> Self {
        if let Some(tr) = &interrupt.tool_request {
            let part = Part::tool_response(tr.name.clone(), tr.r#ref.clone(), output)
                .with_metadata("interruptResponse", Value::Bool(true));
            let resume = self.opts.resume.get_or_insert_with(Default::default);
            resume.respond.get_or_insert_with(Vec::new).push(part);
        }
        self
    }

    /// Runs an interrupted tool request again, with `metadata.resumed` set to `resumed`
    /// (Genkit's `resume.restart`; `{"toolApproved": true}` approves it).
    pub fn restart(mut self, interrupt: &Part, resumed: Value) -> Self {
        if let Some(tr) = &interrupt.tool_request {
            let part = Part {
                tool_request: Some(tr.clone()),
                ..Default::default()
            }
            .with_metadata("resumed", resumed);
            let resume = self.opts.resume.get_or_insert_with(Default::default);
            resume.restart.get_or_insert_with(Vec::new).push(part);
        }
        self
    }

    /// Names the generate span (Genkit's `stepName`).
    pub fn step_name(mut self, name: impl Into<String>) -> Self {
        self.opts.step_name = Some(name.into());
        self
    }

    /// Streams: returns at once; yields chunks across every turn of the loop, and
    /// [`GenerateStream::response`] gives the final response. Dropping it cancels the
    /// generation.
    pub fn stream(self) -> GenerateStream {
        GenerateStream::start(self.ai, self.opts)
    }

    fn run(self) -> impl Future<Output = crate::Result<GenerateResponse>> + Send + 'static {
        tool_loop::generate(self.ai, self.opts, None)
    }
}

impl IntoFuture for GenerateBuilder {
    type Output = crate::Result<GenerateResponse>;
    type IntoFuture = BoxFuture<'static, crate::Result<GenerateResponse>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
