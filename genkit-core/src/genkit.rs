//! `Genkit`: the instance that owns the registry and runs `generate`.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::action::{ActionKind, RunOptions};
use crate::embedder::EmbedderRef;
use crate::error::{Error, Result};
use crate::flow::{FlowAction, FlowContext, FlowRef};
use crate::generate::GenerateBuilder;
use crate::middleware::{Middleware, MiddlewareRef};
use crate::model::{ModelAction, ModelContext, ModelInfo, ModelRef};
use crate::registry::Registry;
use crate::tool::{ToolAction, ToolContext, ToolRef};
use crate::types::{GenerateRequest, GenerateResponse};

/// A plugin registers actions (models, embedders, middleware) when the instance is built,
/// and may resolve more on demand (Genkit's plugin `resolve` and `list`): the registry
/// asks the plugin whose name is a key's prefix (`googleai` for
/// `/model/googleai/gemini-3-pro-preview`) on the first lookup of an action it does not
/// hold, and keeps what the plugin returns.
pub trait Plugin: Send + Sync + 'static {
    /// The plugin's name (`googleai`).
    fn name(&self) -> &str;

    /// Registers the plugin's actions.
    fn init(&self, registry: &Registry) -> Result<()>;

    /// Resolves `/model/{name}` on its first lookup when the plugin did not register it in `init`
    /// (`name` includes the plugin's prefix, e.g. "googleai/gemini-3-pro-preview"). `None`: not this plugin's.
    fn resolve_model(&self, name: &str) -> Option<ModelRef> {
        let _ = name;
        None
    }

    /// As `resolve_model`, for `/embedder/{name}`.
    fn resolve_embedder(&self, name: &str) -> Option<EmbedderRef> {
        let _ = name;
        None
    }

    /// The model names (with prefix) the plugin knows, listed in `/api/actions` for the Dev UI.
    fn list_models(&self) -> Vec<String> {
        Vec::new()
    }

    /// As `list_models`, for embedders.
    fn list_embedders(&self) -> Vec<String> {
        Vec::new()
    }

    /// The models and embedders the plugin lists for the Dev UI, asked of the provider
    /// (e.g. its `GET /models`), with the info the provider gives. `/api/actions` waits
    /// for it at most [`LISTING_TIMEOUT`](crate::registry::LISTING_TIMEOUT) and keeps the
    /// answer for [`LISTING_TTL`](crate::registry::LISTING_TTL); on an error or a timeout
    /// it lists [`list_models`](Self::list_models) and
    /// [`list_embedders`](Self::list_embedders) instead. Default: those two lists.
    fn list_actions(&self) -> BoxFuture<'_, Result<Vec<ActionListing>>> {
        Box::pin(std::future::ready(Ok(fixed_listing(self))))
    }
}

/// What [`Plugin::list_models`] and [`Plugin::list_embedders`] give, as listings without info.
pub fn fixed_listing<P: Plugin + ?Sized>(plugin: &P) -> Vec<ActionListing> {
    let mut out: Vec<ActionListing> = plugin
        .list_models()
        .into_iter()
        .map(ActionListing::model)
        .collect();
    out.extend(
        plugin
            .list_embedders()
            .into_iter()
            .map(ActionListing::embedder),
    );
    out
}

/// One model or embedder a plugin lists ([`Plugin::list_actions`]): its name (with the
/// plugin's prefix) and what the provider's list says of it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ActionListing {
    /// `Model` or `Embedder`.
    pub kind: ActionKind,
    /// The name with the plugin's prefix (`googleai/gemini-2.5-flash`).
    pub name: String,
    /// For a model: its info, shown as the action's `metadata.model` instead of the info
    /// the resolved model carries. `None`: the resolved model's own.
    pub info: Option<ModelInfo>,
    /// More keys of the action's `metadata` (e.g. the provider's token limits).
    pub metadata: Map<String, Value>,
}

impl ActionListing {
    /// A model, without info.
    pub fn model(name: impl Into<String>) -> Self {
        ActionListing {
            kind: ActionKind::Model,
            name: name.into(),
            info: None,
            metadata: Map::new(),
        }
    }

    /// An embedder.
    pub fn embedder(name: impl Into<String>) -> Self {
        ActionListing {
            kind: ActionKind::Embedder,
            ..ActionListing::model(name)
        }
    }

    /// Sets the model info.
    pub fn with_info(mut self, info: ModelInfo) -> Self {
        self.info = Some(info);
        self
    }

    /// Adds a `metadata` key.
    pub fn with_metadata(mut self, key: impl Into<String>, value: Value) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }
}

struct Inner {
    registry: Registry,
    default_model: Option<String>,
    middleware: Vec<MiddlewareRef>,
}

/// A Genkit instance: the registry of every model, tool and flow, a default model and
/// default middleware. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Genkit {
    inner: Arc<Inner>,
    /// Dev mode only: shared by `build()`'s handle and every clone of it. When the
    /// user's last handle goes, the program keeps serving the Genkit CLI until stopped.
    /// Handles the runtime holds itself ([`Genkit::detached`]) carry none, so a CLI
    /// request or a background task still running never decides when that happens.
    #[expect(dead_code, reason = "held for its Drop")]
    dev: Option<Arc<crate::reflection::DevRuntime>>,
}

impl std::fmt::Debug for Genkit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Genkit")
            .field("default_model", &self.inner.default_model)
            .field("actions", &self.inner.registry.list().len())
            .finish()
    }
}

/// Builds a [`Genkit`].
#[must_use]
pub struct GenkitBuilder {
    plugins: Vec<Arc<dyn Plugin>>,
    default_model: Option<String>,
    middleware: Vec<MiddlewareRef>,
    submitted: bool,
}

impl GenkitBuilder {
    /// Adds a plugin.
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// The default model for `generate` calls that name none.
    pub fn model(mut self, name: impl Into<String>) -> Self {
        self.default_model = Some(name.into());
        self
    }

    /// Middleware applied to every `generate` call of this instance (outermost first,
    /// before the call's own `use` list).
    pub fn use_(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Do not register the program's `#[genkit::tool]` / `#[genkit::flow]` items
    /// automatically.
    pub fn without_submitted_actions(mut self) -> Self {
        self.submitted = false;
        self
    }

    /// Builds the instance: runs every plugin, registers every `#[genkit::tool]` and
    /// `#[genkit::flow]` of the program, and `/util/generate`.
    pub async fn build(self) -> Result<Genkit> {
        let registry = Registry::default();
        for p in &self.plugins {
            p.init(&registry).map_err(|e| match e {
                Error::Genkit {
                    status,
                    message,
                    details,
                    source,
                } => Error::Genkit {
                    status,
                    message: format!("plugin {}: {message}", p.name()),
                    details,
                    source,
                },
                other => other,
            })?;
            registry.add_plugin(Arc::clone(p));
        }
        if self.submitted {
            registry.register_submitted()?;
        }
        registry.register_action(Arc::new(crate::generate::GenerateUtil::new()))?;
        let ai = Genkit {
            inner: Arc::new(Inner {
                registry,
                default_model: self.default_model,
                middleware: self.middleware,
            }),
            dev: None,
        };
        // `genkit start` sets GENKIT_ENV=dev; otherwise this is one env lookup.
        if crate::reflection::is_dev() {
            let dev = crate::reflection::start_dev(&ai).await.map(Arc::new);
            return Ok(Genkit { dev, ..ai });
        }
        Ok(ai)
    }
}

impl Genkit {
    /// Starts building an instance.
    pub fn builder() -> GenkitBuilder {
        GenkitBuilder {
            plugins: Vec::new(),
            default_model: None,
            middleware: Vec::new(),
            submitted: true,
        }
    }

    /// A handle on the same instance for the runtime's own use (the reflection server,
    /// tasks it spawns): it does not count as one of the user's handles in dev mode.
    pub(crate) fn detached(&self) -> Genkit {
        Genkit {
            inner: Arc::clone(&self.inner),
            dev: None,
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The default model's name.
    pub fn default_model(&self) -> Option<&str> {
        self.inner.default_model.as_deref()
    }

    pub(crate) fn default_middleware(&self) -> &[MiddlewareRef] {
        &self.inner.middleware
    }

    /// Starts a `generate` call: set what you need, then `.await` it (or `.stream()`).
    pub fn generate(&self) -> GenerateBuilder {
        GenerateBuilder::new(self.clone())
    }

    /// Defines and registers a model from an async function.
    pub fn define_model<F, Fut>(
        &self,
        name: impl Into<String>,
        info: ModelInfo,
        f: F,
    ) -> Result<ModelRef>
    where
        F: Fn(Arc<GenerateRequest>, ModelContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GenerateResponse>> + Send + 'static,
    {
        let model = Arc::new(ModelAction::new(name, info, f));
        self.registry().register_model(model.clone())?;
        Ok(model)
    }

    /// Defines and registers a tool from a typed async function.
    pub fn define_tool<I, O, E, F, Fut>(
        &self,
        name: impl Into<String>,
        description: impl Into<String>,
        f: F,
    ) -> Result<ToolRef>
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        E: Into<Error>,
        F: Fn(I, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let tool = Arc::new(ToolAction::new(name, description, f));
        self.registry().register_tool(tool.clone())?;
        Ok(tool)
    }

    /// Defines and registers a flow from a typed async function.
    pub fn define_flow<I, O, E, F, Fut>(&self, name: impl Into<String>, f: F) -> Result<FlowRef>
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        E: Into<Error>,
        F: Fn(Genkit, I, FlowContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let flow = Arc::new(FlowAction::new(name, f));
        self.registry().register_flow(flow.clone())?;
        Ok(flow)
    }

    /// Runs any action by key with JSON input (how the Dev UI and the HTTP layer call
    /// actions). An unknown key is NOT_FOUND.
    pub async fn run_action(&self, key: &str, input: Value, opts: RunOptions) -> Result<Value> {
        let action = self
            .registry()
            .lookup(key)
            .ok_or_else(|| Error::not_found(format!("action {key} not found")))?;
        action.run_json(self.clone(), input, opts).await
    }
}
