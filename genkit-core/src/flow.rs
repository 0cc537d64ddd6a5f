//! Flows: the user's own async functions, registered as `/flow/{name}` and traced.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::action::{Action, ActionDesc, ActionKind, RunOptions};
use crate::error::{Error, Result};
use crate::genkit::Genkit;
use crate::schema::schema_of;
use crate::trace::{ActionSpan, ErasedSerialize, SpanMeta, in_span};
use crate::types::from_value;

/// What a running flow can see and do besides its input: stream chunks to its
/// caller and read the request context.
#[derive(Clone, Default)]
pub struct FlowContext {
    chunks: Option<mpsc::Sender<Value>>,
    context: Option<Arc<Value>>,
}

impl FlowContext {
    /// True when the caller streams.
    pub fn is_streaming(&self) -> bool {
        self.chunks.is_some()
    }

    /// Sends a chunk to a streaming caller (does nothing otherwise). Waits while the
    /// consumer is behind, so memory stays bounded.
    pub async fn send_chunk(&self, chunk: impl Serialize) -> Result<()> {
        if let Some(tx) = &self.chunks {
            let v = serde_json::to_value(chunk)?;
            tx.send(v).await.map_err(|_| {
                Error::new(crate::Status::Cancelled, "the caller stopped listening")
            })?;
        }
        Ok(())
    }

    /// Runs a generate call; when this flow's caller streams, every chunk of the call
    /// (all turns of its tool loop) is relayed to it as it arrives.
    ///
    /// ```no_run
    /// # use genkit_core::{FlowContext, Genkit, Result};
    /// # async fn f(ai: &Genkit, cx: FlowContext) -> Result<String> {
    /// let response = cx.forward(ai.generate().prompt("Tell me a story.")).await?;
    /// # Ok(response.text()) }
    /// ```
    pub async fn forward(
        &self,
        call: crate::generate::GenerateBuilder,
    ) -> Result<crate::types::GenerateResponse> {
        if !self.is_streaming() {
            return call.await;
        }
        let mut stream = call.stream();
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            self.send_chunk(chunk?).await?;
        }
        stream.response().await
    }

    /// The request context (auth) the flow was called with.
    pub fn context(&self) -> Option<&Value> {
        self.context.as_deref()
    }
}

type FlowFn = dyn Fn(Genkit, Value, FlowContext) -> BoxFuture<'static, Result<Value>> + Send + Sync;

/// A flow action.
pub struct FlowAction {
    desc: ActionDesc,
    f: Box<FlowFn>,
}

/// A shared flow.
pub type FlowRef = Arc<FlowAction>;

/// Something that is a flow: a [`FlowRef`] or a `#[genkit::flow]` value.
pub trait IntoFlow {
    /// The flow.
    fn into_flow(self) -> FlowRef;
}

impl IntoFlow for FlowRef {
    fn into_flow(self) -> FlowRef {
        self
    }
}

impl IntoFlow for &FlowRef {
    fn into_flow(self) -> FlowRef {
        Arc::clone(self)
    }
}

impl FlowAction {
    /// A flow from a typed async function; schemas come from `JsonSchema`.
    pub fn new<I, O, E, F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        E: Into<Error>,
        F: Fn(Genkit, I, FlowContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let f = Arc::new(f);
        let desc = ActionDesc::new(ActionKind::Flow, name).with_schemas(
            Some((*schema_of::<I>()).clone()),
            Some((*schema_of::<O>()).clone()),
        );
        FlowAction {
            desc,
            f: Box::new(move |ai, input, cx| {
                let f = f.clone();
                Box::pin(async move {
                    let input: I = from_value(input)?;
                    let out = f(ai, input, cx).await.map_err(Into::into)?;
                    Ok(serde_json::to_value(out)?)
                })
            }),
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.desc = self.desc.with_description(description);
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    fn span_meta(&self) -> SpanMeta<'_> {
        SpanMeta {
            name: &self.desc.name,
            kind: "action",
            subtype: Some("flow"),
            key: Some(&self.desc.key),
            session_id: None,
        }
    }

    /// Runs a typed call of the flow in its span: how a `#[genkit::flow]` fn called
    /// directly is traced. `input` is serialized for the trace only when it is listened to.
    pub async fn run_typed<O, Fut>(
        &self,
        input: Option<&(dyn ErasedSerialize + Sync)>,
        fut: Fut,
    ) -> Result<O>
    where
        O: Serialize,
        Fut: Future<Output = Result<O>>,
    {
        in_span(self.span_meta(), input, None, fut).await
    }
}

impl Action for FlowAction {
    fn desc(&self) -> &ActionDesc {
        &self.desc
    }

    fn run_json(
        &self,
        ai: Genkit,
        input: Value,
        opts: RunOptions,
    ) -> BoxFuture<'static, Result<Value>> {
        let name = self.desc.name.clone();
        Box::pin(async move {
            let flow = ai.registry().flow(&name)?;
            let cx = FlowContext {
                chunks: opts.chunks,
                context: opts.context.clone(),
            };
            let traced = ActionSpan::open(flow.span_meta(), Some(&input), opts.context);
            let fut = (flow.f)(ai.clone(), input, cx);
            traced.run(fut).await
        })
    }
}
