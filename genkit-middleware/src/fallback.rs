//! `Fallback`: tries other models, in order, when the model fails.

use std::sync::Arc;

use futures::future::BoxFuture;
use genkit_core::{
    Error, GenerateRequest, GenerateResponse, Middleware, ModelContext, ModelNext, Result, Status,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::{self, FALLBACK_STATUSES};

/// One fallback model: a registered model name and, optionally, its own config.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FallbackModel {
    /// The registered name (`googleai/gemini-2.5-flash`).
    pub name: String,
    /// Config for this model; `None` inherits the request's (unless isolated).
    pub config: Option<Value>,
}

impl FallbackModel {
    /// A model by name.
    pub fn new(name: impl Into<String>) -> Self {
        FallbackModel {
            name: name.into(),
            config: None,
        }
    }

    /// With its own provider config.
    pub fn with_config(mut self, config: Value) -> Self {
        self.config = Some(config);
        self
    }
}

impl From<&str> for FallbackModel {
    fn from(s: &str) -> Self {
        FallbackModel::new(s)
    }
}

impl From<String> for FallbackModel {
    fn from(s: String) -> Self {
        FallbackModel::new(s)
    }
}

/// Falls back to other models when the model fails, as Genkit's `fallback`.
///
/// When the model fails with one of the statuses (default: `UNAVAILABLE`,
/// `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `ABORTED`, `INTERNAL`, `NOT_FOUND`,
/// `UNIMPLEMENTED`), each fallback model gets the same request in turn (with the
/// request's config unless the fallback has its own, or [`isolate_config`] is set). A
/// failure outside the statuses is returned at once; a fallback model that is not
/// registered is NOT_FOUND; when all fail, the caller gets the last error. As in
/// Genkit, a fallback model is called directly, not through the middleware listed
/// after `Fallback` (put `Retry` before `Fallback` to retry every model).
///
/// **Which model answered**: when a fallback model answered, the response's `custom`
/// holds `{"fallback": {"model": "<name>", "errors": [{"model", "status",
/// "message"}, …]}}` (the failures before it, in order). A response from the primary
/// model is untouched.
///
/// **Streaming**: no fallback once a chunk of the failed call reached the caller.
///
/// **Trace**: each fallback is an event (target `genkit::middleware`, fields
/// `middleware = "fallback"`, `model`, `status`, `error`); each model call is its own
/// model span.
///
/// [`isolate_config`]: Fallback::isolate_config
///
/// ```
/// use genkit_middleware::Fallback;
/// let fallback = Fallback::new(["googleai/gemini-2.5-flash", "googleai/gemini-2.0-flash"]);
/// # let _ = fallback;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fallback {
    models: Vec<FallbackModel>,
    statuses: Vec<Status>,
    isolate_config: bool,
}

/// One entry of `models` in the JSON config: a name or `{name, config?}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
#[non_exhaustive]
pub enum FallbackModelConfig {
    /// A model name.
    Name(String),
    /// A model reference with its config.
    Ref {
        /// The model name.
        name: String,
        /// Its config.
        #[serde(default)]
        config: Option<Value>,
    },
}

/// The JSON config of the registered `fallback` middleware (Genkit's field names).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FallbackConfig {
    /// Models to try in order.
    #[serde(default)]
    pub models: Vec<FallbackModelConfig>,
    /// Status names that trigger a fallback.
    pub statuses: Option<Vec<String>>,
    /// If true, a fallback model does not inherit the request's config.
    #[serde(alias = "isolate_config")]
    pub isolate_config: Option<bool>,
}

impl Fallback {
    /// Falls back to these models, in order.
    pub fn new<M: Into<FallbackModel>>(models: impl IntoIterator<Item = M>) -> Self {
        Fallback {
            models: models.into_iter().map(Into::into).collect(),
            statuses: FALLBACK_STATUSES.to_vec(),
            isolate_config: false,
        }
    }

    /// From the JSON config of the registered `fallback` middleware.
    pub fn from_config(config: Option<Value>) -> Result<Self> {
        let c: FallbackConfig = config::parse("fallback", config)?;
        let mut f = Fallback::new(c.models.into_iter().map(|m| match m {
            FallbackModelConfig::Name(name) => FallbackModel { name, config: None },
            FallbackModelConfig::Ref { name, config } => FallbackModel { name, config },
        }));
        if let Some(s) = &c.statuses {
            f.statuses = config::statuses("fallback", s)?;
        }
        f.isolate_config = c.isolate_config.unwrap_or(false);
        Ok(f)
    }

    /// Adds a fallback model.
    pub fn model(mut self, model: impl Into<FallbackModel>) -> Self {
        self.models.push(model.into());
        self
    }

    /// The statuses that trigger a fallback (replaces the defaults).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = Status>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Fallback models get only their own config, never the request's.
    pub fn isolate_config(mut self, yes: bool) -> Self {
        self.isolate_config = yes;
        self
    }

    fn falls_back(&self, e: &Error) -> bool {
        !matches!(e, Error::Interrupt { .. }) && self.statuses.contains(&e.status())
    }

    fn request_for(
        &self,
        request: &Arc<GenerateRequest>,
        m: &FallbackModel,
    ) -> Arc<GenerateRequest> {
        let config = match (&m.config, self.isolate_config) {
            (Some(c), _) => Some(c.clone()),
            (None, true) => None,
            (None, false) => return request.clone(),
        };
        let mut r = (**request).clone();
        r.config = config;
        Arc::new(r)
    }
}

fn failure(model: &str, e: &Error) -> Value {
    json!({ "model": model, "status": e.status().name(), "message": e.message() })
}

fn note_fallback(resp: &mut GenerateResponse, model: &str, errors: Vec<Value>) {
    let note = json!({ "model": model, "errors": errors });
    match &mut resp.custom {
        Some(Value::Object(m)) => {
            m.insert("fallback".into(), note);
        }
        None | Some(Value::Null) => {
            let mut m = Map::new();
            m.insert("fallback".into(), note);
            resp.custom = Some(Value::Object(m));
        }
        Some(other) => {
            let mut m = Map::new();
            m.insert("provider".into(), other.take());
            m.insert("fallback".into(), note);
            resp.custom = Some(Value::Object(m));
        }
    }
}

impl Middleware for Fallback {
    fn name(&self) -> &str {
        "fallback"
    }

    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        Box::pin(async move {
            let primary = next.model().name().to_string();
            let mut err = match next.run(request.clone(), cx.clone()).await {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            if !self.falls_back(&err) || cx.chunk_sent() {
                return Err(err);
            }
            let mut errors = vec![failure(&primary, &err)];
            for m in &self.models {
                let model = next.registry().model(&m.name).map_err(|_| {
                    Error::not_found(format!("fallback: model '{}' not found", m.name))
                })?;
                tracing::info!(
                    target: "genkit::middleware",
                    middleware = "fallback",
                    model = m.name.as_str(),
                    status = err.status().name(),
                    error = %err,
                    "falling back to another model"
                );
                match model
                    .generate(self.request_for(&request, m), cx.clone())
                    .await
                {
                    Ok(mut resp) => {
                        note_fallback(&mut resp, &m.name, errors);
                        return Ok(resp);
                    }
                    Err(e) => {
                        errors.push(failure(&m.name, &e));
                        let stop = !self.falls_back(&e) || cx.chunk_sent();
                        err = e;
                        if stop {
                            return Err(err);
                        }
                    }
                }
            }
            Err(err)
        })
    }
}
