//! The middleware contract: `use` lists on `generate` wrap each model call and each
//! tool call. Concrete middleware (retry, fallback, tool approval) live in
//! `genkit-middleware`; users write their own by implementing [`Middleware`].

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::error::Result;
use crate::model::{ModelAction, ModelContext};
use crate::tool::{ToolContext, ToolRef};
use crate::types::{GenerateRequest, GenerateResponse, ToolRequest};

/// Wraps model calls and tool calls of a `generate`.
///
/// A `use` list runs outermost first: `[a, b]` means `a` wraps `b` wraps the model.
/// Every method has a pass-through default, so a middleware implements only what it
/// changes.
pub trait Middleware: Send + Sync + 'static {
    /// Its registered name (`retry`, `fallback`, …).
    fn name(&self) -> &str {
        "custom"
    }

    /// Wraps one model call. `next` may be called zero, one or many times.
    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        next.run(request, cx)
    }

    /// Wraps one tool call.
    fn tool<'a>(&'a self, call: ToolCall, next: ToolNext<'a>) -> BoxFuture<'a, Result<Value>> {
        next.run(call)
    }

    /// Extra tools this middleware gives the model.
    fn tools(&self) -> Vec<ToolRef> {
        Vec::new()
    }
}

/// A shared middleware.
pub type MiddlewareRef = Arc<dyn Middleware>;

impl ModelContext {
    /// True once a chunk of the current model turn has been sent to the caller.
    ///
    /// A middleware that calls `next` again (retry, fallback) checks it first: once
    /// the caller has seen a chunk, a second attempt would stream duplicate or
    /// contradicting chunks. Always false when the caller does not stream.
    pub fn chunk_sent(&self) -> bool {
        self.chunks.as_ref().is_some_and(|c| c.emitted())
    }
}

/// A middleware from a closure over the model hook: `middleware_fn(name, |request,
/// cx, next| Box::pin(async move { … next.run(request, cx).await … }))`.
///
/// ```
/// use genkit_core::middleware::middleware_fn;
///
/// // Logs how many messages each model call carries.
/// let log = middleware_fn("log", |request, cx, next| {
///     Box::pin(async move {
///         let n = request.messages.len();
///         let response = next.run(request, cx).await;
///         eprintln!("model call with {n} messages: ok={}", response.is_ok());
///         response
///     })
/// });
/// # let _ = log;
/// // ai.generate().prompt("hi").use_(log).await?;
/// ```
pub fn middleware_fn<F>(name: &'static str, f: F) -> MiddlewareFn<F>
where
    F: for<'a> Fn(
            Arc<GenerateRequest>,
            ModelContext,
            ModelNext<'a>,
        ) -> BoxFuture<'a, Result<GenerateResponse>>
        + Send
        + Sync
        + 'static,
{
    MiddlewareFn { name, f }
}

/// A middleware made by [`middleware_fn`].
pub struct MiddlewareFn<F> {
    name: &'static str,
    f: F,
}

impl<F> Middleware for MiddlewareFn<F>
where
    F: for<'a> Fn(
            Arc<GenerateRequest>,
            ModelContext,
            ModelNext<'a>,
        ) -> BoxFuture<'a, Result<GenerateResponse>>
        + Send
        + Sync
        + 'static,
{
    fn name(&self) -> &str {
        self.name
    }

    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        (self.f)(request, cx, next)
    }
}

/// The rest of the chain below a middleware's model hook.
#[derive(Clone, Copy)]
pub struct ModelNext<'a> {
    rest: &'a [MiddlewareRef],
    model: &'a ModelAction,
    registry: &'a crate::registry::Registry,
}

impl<'a> ModelNext<'a> {
    pub(crate) fn new(
        rest: &'a [MiddlewareRef],
        model: &'a ModelAction,
        registry: &'a crate::registry::Registry,
    ) -> Self {
        ModelNext {
            rest,
            model,
            registry,
        }
    }

    /// The model this chain ends in.
    pub fn model(&self) -> &'a ModelAction {
        self.model
    }

    /// The registry, to look up other models (fallback).
    pub fn registry(&self) -> &'a crate::registry::Registry {
        self.registry
    }

    /// Runs the rest of the chain with another model at its end (fallback).
    pub fn with_model(self, model: &'a ModelAction) -> ModelNext<'a> {
        ModelNext { model, ..self }
    }

    /// Runs the rest of the chain.
    pub fn run(
        self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        match self.rest.split_first() {
            Some((first, rest)) => first.model(request, cx, ModelNext { rest, ..self }),
            None => Box::pin(self.model.generate(request, cx)),
        }
    }
}

/// One tool call, as a middleware sees it.
#[non_exhaustive]
pub struct ToolCall {
    /// The model's request (name, ref, input).
    pub request: ToolRequest,
    /// The tool that will run.
    pub tool: ToolRef,
    /// What the tool sees besides its input (part metadata, `resumed`, context).
    pub context: ToolContext,
}

/// The rest of the chain below a middleware's tool hook.
#[derive(Clone, Copy)]
pub struct ToolNext<'a> {
    rest: &'a [MiddlewareRef],
}

impl<'a> ToolNext<'a> {
    pub(crate) fn new(rest: &'a [MiddlewareRef]) -> Self {
        ToolNext { rest }
    }

    /// Runs the rest of the chain, then the tool.
    pub fn run(self, call: ToolCall) -> BoxFuture<'a, Result<Value>> {
        match self.rest.split_first() {
            Some((first, rest)) => first.tool(call, ToolNext { rest }),
            None => Box::pin(async move {
                let input = call.request.input.clone().unwrap_or(Value::Null);
                call.tool.call(input, call.context).await
            }),
        }
    }
}

/// Middleware that can be named in JSON (`use: [{name, config}]`), as Genkit lists
/// them under `/api/values?type=middleware`.
pub struct MiddlewareFactory {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// JSON schema of the config.
    pub config_schema: Option<Value>,
    /// Builds an instance from its JSON config.
    pub build: Box<dyn Fn(Option<Value>) -> Result<MiddlewareRef> + Send + Sync>,
}

impl MiddlewareFactory {
    /// Genkit's `MiddlewareDesc` JSON.
    pub fn desc_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), Value::from(self.name.as_str()));
        if let Some(d) = &self.description {
            m.insert("description".into(), Value::from(d.as_str()));
        }
        if let Some(s) = &self.config_schema {
            m.insert("configSchema".into(), s.clone());
        }
        Value::Object(m)
    }
}
