//! Model actions: what `generate` calls. Providers register them; tests define
//! scripted ones with [`Genkit::define_model`](crate::Genkit::define_model).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::action::{Action, ActionDesc, ActionKind, RunOptions};
use crate::error::Result;
use crate::genkit::Genkit;
use crate::trace::gen_ai::{self, ModelIdentity};
use crate::trace::{ActionSpan, SpanMeta};
use crate::types::{GenerateRequest, GenerateResponse, GenerateResponseChunk, Role, from_value};

/// What a model supports (Genkit's `ModelInfo.supports`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelSupports {
    /// Multi-turn conversations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiturn: Option<bool>,
    /// Media input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<bool>,
    /// Tool calling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<bool>,
    /// System messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_role: Option<bool>,
    /// Output formats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<String>>,
    /// Output content types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Vec<String>>,
    /// Context documents natively.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<bool>,
    /// Constrained generation: `none`, `all` or `no-tools`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constrained: Option<String>,
    /// Tool choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<bool>,
    /// Long-running operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_running: Option<bool>,
}

impl ModelSupports {
    /// A model that supports multi-turn, tools, system role, media and JSON output,
    /// with native constrained generation.
    pub fn full() -> Self {
        ModelSupports {
            multiturn: Some(true),
            media: Some(true),
            tools: Some(true),
            system_role: Some(true),
            output: Some(vec!["text".into(), "json".into()]),
            constrained: Some("all".into()),
            tool_choice: Some(true),
            ..Default::default()
        }
    }
}

/// Genkit's `ModelInfo`, listed as `metadata.model` of the model action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelInfo {
    /// Known versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<String>>,
    /// Display label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// JSON schema of the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<Value>,
    /// Capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports: Option<ModelSupports>,
    /// Stage: featured, stable, unstable, legacy, deprecated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

impl ModelInfo {
    /// Info with a label and capabilities.
    pub fn new(label: impl Into<String>, supports: ModelSupports) -> Self {
        ModelInfo {
            label: Some(label.into()),
            supports: Some(supports),
            ..Default::default()
        }
    }
}

/// Where a model's streamed chunks go during one turn of `generate`. Role and index
/// are filled in by the loop, as Genkit does; the model only gives content.
#[derive(Clone)]
pub struct ChunkSender {
    out: ChunkOut,
    index: u32,
    emitted: Arc<AtomicBool>,
}

/// A chunk channel, typed or JSON.
#[derive(Clone)]
pub(crate) enum ChunkOut {
    Typed(mpsc::Sender<Box<GenerateResponseChunk>>),
    Json(mpsc::Sender<Value>),
}

impl ChunkOut {
    /// Sends a chunk; waits while the consumer is behind. The chunk is boxed (or turned
    /// into JSON) before the wait, so the future a model holds across it is a pointer
    /// and the channel's send, not a copy of the chunk per layer.
    pub(crate) fn send(
        &self,
        chunk: GenerateResponseChunk,
    ) -> impl Future<Output = ()> + Send + '_ {
        let out = match self {
            ChunkOut::Typed(tx) => Ok((tx, Box::new(chunk))),
            ChunkOut::Json(tx) => Err((tx, serde_json::to_value(&chunk).ok())),
        };
        // A closed receiver means the caller stopped listening (and is dropping the
        // generation): nothing is lost that anyone could still read.
        async move {
            match out {
                Ok((tx, chunk)) => {
                    let _ = tx.send(chunk).await;
                }
                Err((tx, Some(v))) => {
                    let _ = tx.send(v).await;
                }
                Err((_, None)) => {}
            }
        }
    }
}

impl ChunkSender {
    pub(crate) fn new(out: ChunkOut, index: u32) -> Self {
        ChunkSender {
            out,
            index,
            emitted: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn emitted(&self) -> bool {
        self.emitted.load(Ordering::Relaxed)
    }

    /// Sends one chunk (role `model`, this turn's index). Waits while the consumer is
    /// behind: streaming memory stays bounded.
    pub fn send(&self, mut chunk: GenerateResponseChunk) -> impl Future<Output = ()> + Send + '_ {
        chunk.role = Some(Role::Model);
        chunk.index = Some(self.index);
        self.emitted.store(true, Ordering::Relaxed);
        self.out.send(chunk)
    }
}

/// What a model call gets besides the request.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ModelContext {
    /// The chunk sink when the caller streams; `None` otherwise.
    pub chunks: Option<ChunkSender>,
}

impl ModelContext {
    /// True when the caller streams: the model should send chunks.
    pub fn is_streaming(&self) -> bool {
        self.chunks.is_some()
    }

    /// Sends a chunk if the caller streams; does nothing otherwise.
    pub fn send_chunk(&self, chunk: GenerateResponseChunk) -> impl Future<Output = ()> + Send + '_ {
        let send = self.chunks.as_ref().map(|c| c.send(chunk));
        async move {
            if let Some(send) = send {
                send.await;
            }
        }
    }
}

type ModelFn = dyn Fn(Arc<GenerateRequest>, ModelContext) -> BoxFuture<'static, Result<GenerateResponse>>
    + Send
    + Sync;

/// A model action: a name, its [`ModelInfo`], and the function that answers requests.
pub struct ModelAction {
    desc: ActionDesc,
    info: ModelInfo,
    /// Provider and model name for the `gen_ai.*` span attributes.
    identity: ModelIdentity,
    f: Box<ModelFn>,
}

/// A shared model action.
pub type ModelRef = Arc<ModelAction>;

impl ModelAction {
    /// A model from an async function. The request is shared (`Arc`) so a middleware
    /// can retry it without copying the history.
    pub fn new<F, Fut>(name: impl Into<String>, info: ModelInfo, f: F) -> Self
    where
        F: Fn(Arc<GenerateRequest>, ModelContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GenerateResponse>> + Send + 'static,
    {
        let mut desc = ActionDesc::new(ActionKind::Model, name);
        if let Ok(v) = serde_json::to_value(&info) {
            desc.metadata.insert("model".into(), v);
        }
        // As the JS runtime lists models: the label as description, Genkit's
        // ModelRequest / ModelResponse schemas.
        desc.description = info.label.clone();
        desc.input_schema = crate::schema::genkit_def("ModelRequest").map(|s| (*s).clone());
        desc.output_schema = crate::schema::genkit_def("ModelResponse").map(|s| (*s).clone());
        ModelAction {
            identity: ModelIdentity::from_name(&desc.name),
            desc,
            info,
            f: Box::new(move |r, c| Box::pin(f(r, c))),
        }
    }

    /// Its name (`googleai/gemini-2.0-flash`).
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    /// Its capabilities.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Calls the model inside its traced span (`{name,t:action,s:model}`).
    ///
    /// A model that does not claim `supports.context` receives the request's `docs`
    /// rendered into its last user message (see
    /// [`AugmentWithContext`](crate::generate::AugmentWithContext)); the span shows
    /// the request as the model received it.
    pub async fn generate(
        &self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
    ) -> Result<GenerateResponse> {
        let request = match crate::generate::context::for_model(&self.info, &request) {
            Some(augmented) => Arc::new(augmented),
            None => request,
        };
        let meta = SpanMeta {
            name: &self.desc.name,
            kind: "action",
            subtype: Some("model"),
            key: Some(&self.desc.key),
            session_id: None,
        };
        let traced = ActionSpan::open_model(meta, Some(&*request));
        gen_ai::record_request(traced.span(), &self.identity, &request);
        // Kept open past `run` for the response's `gen_ai.*` attributes.
        let span = traced.span().clone();
        let fut = (self.f)(request, cx);
        let started = std::time::Instant::now();
        let resp = traced.run(fut).await;
        match &resp {
            Ok(r) => gen_ai::record_response(&span, r),
            Err(e) => gen_ai::record_error(&span, e),
        }
        drop(span);
        let mut resp = resp?;
        if resp.latency_ms.is_none() {
            resp.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(resp)
    }
}

impl Action for ModelAction {
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
            let model = ai.registry().model(&name)?;
            let request: GenerateRequest = from_value(input)?;
            let cx = ModelContext {
                chunks: opts
                    .chunks
                    .map(|tx| ChunkSender::new(ChunkOut::Json(tx), 0)),
            };
            let resp = model.generate(Arc::new(request), cx).await?;
            Ok(serde_json::to_value(resp)?)
        })
    }
}

/// Builds `metadata` for [`ModelInfo`] from a JSON map (for plugins that list models).
pub fn model_metadata(info: &ModelInfo) -> Map<String, Value> {
    let mut m = Map::new();
    if let Ok(v) = serde_json::to_value(info) {
        m.insert("model".into(), v);
    }
    m
}
