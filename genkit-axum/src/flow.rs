//! Flows as axum handlers: [`flow`], [`flow_with`] and a Router of every flow,
//! [`flows`].

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Request};
use axum::handler::Handler;
use axum::response::Response;
use futures::future::BoxFuture;
use genkit_core::{ActionKind, FlowAction, FlowRef, Genkit, RunOptions};
use serde_json::Value;

use crate::context::{RequestContext, RequestData};
use crate::options::ServeOptions;
use crate::{body, run};

pub use genkit_core::flow::IntoFlow;

/// Marks a [`FlowHandler`] that takes its [`Genkit`] from the Router's state.
#[derive(Clone, Copy, Debug, Default)]
pub struct FromState;

/// An axum handler serving one flow with Genkit's flow protocol. Build it with
/// [`flow`] (the instance comes from the Router's state) or [`flow_with`] (the
/// instance is given).
pub struct FlowHandler<G = FromState> {
    flow: FlowRef,
    ai: G,
    opts: ServeOptions,
}

impl<G: Clone> Clone for FlowHandler<G> {
    fn clone(&self) -> Self {
        FlowHandler {
            flow: self.flow.clone(),
            ai: self.ai.clone(),
            opts: self.opts.clone(),
        }
    }
}

impl<G> FlowHandler<G> {
    /// Replaces the handler's options.
    pub fn with_options(mut self, opts: ServeOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Sets the context provider (see [`ServeOptions::context`]).
    pub fn context(mut self, provider: impl crate::ContextProvider) -> Self {
        self.opts = self.opts.context(provider);
        self
    }

    /// Sets the run timeout (see [`ServeOptions::timeout`]).
    pub fn timeout(mut self, d: std::time::Duration) -> Self {
        self.opts = self.opts.timeout(d);
        self
    }
}

/// A handler for `flow` that takes the [`Genkit`] instance from the Router's state
/// (`Genkit` itself, or any state with `impl FromRef<AppState> for Genkit`):
///
/// ```
/// # async fn demo(ai: genkit_core::Genkit, research_flow: genkit_core::FlowRef) {
/// let app: axum::Router = axum::Router::new()
///     .route("/research", axum::routing::post(genkit_axum::flow(research_flow)))
///     .with_state(ai);
/// # }
/// ```
///
/// A `#[genkit::flow] async fn research_flow(..)` is passed as
/// `genkit::axum::flow(research_flow)`.
pub fn flow(flow: impl IntoFlow) -> FlowHandler<FromState> {
    FlowHandler {
        flow: flow.into_flow(),
        ai: FromState,
        opts: ServeOptions::default(),
    }
}

/// A handler for `flow` on the given instance; it works in a Router of any state.
pub fn flow_with(ai: &Genkit, flow: impl IntoFlow) -> FlowHandler<Genkit> {
    FlowHandler {
        flow: flow.into_flow(),
        ai: ai.clone(),
        opts: ServeOptions::default(),
    }
}

/// A Router serving every flow registered on `ai` at `/<flowName>` (POST), with
/// default options. Merge it into your app, nest it (`.nest("/api", …)`), add layers.
pub fn flows<S: Clone + Send + Sync + 'static>(ai: &Genkit) -> Router<S> {
    flows_with(ai, ServeOptions::default())
}

/// [`flows`] with options (context provider, limits, timeout, shutdown).
pub fn flows_with<S: Clone + Send + Sync + 'static>(ai: &Genkit, opts: ServeOptions) -> Router<S> {
    let mut router = Router::new();
    for action in ai.registry().list() {
        let desc = action.desc();
        if desc.kind != ActionKind::Flow {
            continue;
        }
        let Ok(flow) = ai.registry().flow(&desc.name) else {
            continue;
        };
        let handler = flow_with(ai, flow).with_options(opts.clone());
        router = router.route(&format!("/{}", desc.name), axum::routing::post(handler));
    }
    router
}

impl<S> Handler<((),), S> for FlowHandler<FromState>
where
    S: Clone + Send + Sync + 'static,
    Genkit: FromRef<S>,
{
    type Future = BoxFuture<'static, Response>;

    fn call(self, req: Request, state: S) -> Self::Future {
        let ai = Genkit::from_ref(&state);
        Box::pin(serve_flow(ai, self.flow, self.opts, req))
    }
}

impl<S> Handler<((),), S> for FlowHandler<Genkit>
where
    S: Clone + Send + Sync + 'static,
{
    type Future = BoxFuture<'static, Response>;

    fn call(self, req: Request, _state: S) -> Self::Future {
        Box::pin(serve_flow(self.ai, self.flow, self.opts, req))
    }
}

/// The parts of a request every handler reads first: the envelope, the context, and
/// whether to stream. `Err` is the response that refuses it.
pub(crate) struct Prepared {
    pub(crate) envelope: serde_json::Map<String, Value>,
    pub(crate) context: Option<Arc<Value>>,
    pub(crate) streaming: bool,
}

pub(crate) async fn prepare(
    req: Request,
    opts: &ServeOptions,
    take_input: impl FnOnce(&mut serde_json::Map<String, Value>) -> Value,
    put_input: impl FnOnce(&mut serde_json::Map<String, Value>, Value),
) -> Result<Prepared, Response> {
    if opts.shutdown.as_ref().is_some_and(|s| s.is_triggered()) {
        return Err(run::respond_error(&run::shutting_down()));
    }
    let (mut parts, body) = req.into_parts();
    if !opts.any_content_type && !genkit_core::reflection::is_json_content_type(&parts.headers) {
        return Err(body::unsupported_media_type());
    }
    let streaming = run::wants_stream(&parts.headers, parts.uri.query());
    let bytes = body::read_body(body, opts).await?;
    let mut envelope = body::parse_envelope(&bytes, opts)?;
    let context = match &opts.context {
        Some(provider) => {
            let data = RequestData {
                method: std::mem::take(&mut parts.method),
                headers: std::mem::take(&mut parts.headers),
                input: take_input(&mut envelope),
            };
            let provided = provider.provide(&data).await;
            put_input(&mut envelope, data.input);
            Some(Arc::new(provided.map_err(|e| run::respond_error(&e))?))
        }
        None => parts
            .extensions
            .get::<RequestContext>()
            .map(|c| c.0.clone()),
    };
    Ok(Prepared {
        envelope,
        context,
        streaming,
    })
}

async fn serve_flow(
    ai: Genkit,
    flow: Arc<FlowAction>,
    opts: ServeOptions,
    req: Request,
) -> Response {
    let prepared = match prepare(
        req,
        &opts,
        |env| env.remove("data").unwrap_or(Value::Null),
        |env, input| {
            env.insert("data".into(), input);
        },
    )
    .await
    {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let Prepared {
        mut envelope,
        context,
        streaming,
    } = prepared;
    let input = envelope.remove("data").unwrap_or(Value::Null);
    use genkit_core::Action as _;
    if streaming {
        run::respond_stream::<Value, Value, _>(opts, move |tx| {
            let mut ro = RunOptions::streaming(tx);
            ro.context = context;
            flow.run_json(ai, input, ro)
        })
    } else {
        let mut ro = RunOptions::default();
        ro.context = context;
        let fut = flow.run_json(ai, input, ro);
        run::respond_json(fut, &opts).await
    }
}
