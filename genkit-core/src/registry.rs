//! The action registry a [`Genkit`](crate::Genkit) instance owns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::action::{ActionDesc, ActionKind, ActionRef};
use crate::embedder::EmbedderRef;
use crate::error::{Error, Result, Status};
use crate::flow::FlowRef;
use crate::genkit::{ActionListing, Plugin, fixed_listing};
use crate::middleware::MiddlewareFactory;
use crate::model::ModelRef;
use crate::tool::ToolRef;

#[derive(Clone)]
enum Entry {
    Model(ModelRef),
    Tool(ToolRef),
    Flow(FlowRef),
    Embedder(EmbedderRef),
    Other(ActionRef),
}

impl Entry {
    fn action(&self) -> ActionRef {
        match self {
            Entry::Model(m) => m.clone(),
            Entry::Tool(t) => t.clone(),
            Entry::Flow(f) => f.clone(),
            Entry::Embedder(e) => e.clone(),
            Entry::Other(a) => a.clone(),
        }
    }
}

/// Every action and named middleware of one Genkit instance, by key `/{kind}/{name}`.
///
/// A model or embedder it does not hold is asked of the plugin whose name is the
/// name's prefix ([`Plugin::resolve_model`]); what the plugin returns is kept, so the
/// plugin is asked once per name (when two lookups race, both get the same action).
#[derive(Default)]
pub struct Registry {
    actions: RwLock<HashMap<ActionKind, HashMap<String, Entry>>>,
    middleware: RwLock<HashMap<String, Arc<MiddlewareFactory>>>,
    plugins: RwLock<Vec<Arc<dyn Plugin>>>,
    /// [`Plugin::list_actions`] answers by plugin name, with when they expire.
    listings: Mutex<HashMap<String, KeptListing>>,
}

/// A plugin's listing and when it expires.
type KeptListing = (Instant, Arc<Vec<ActionListing>>);

/// How long `/api/actions` waits for a plugin's [`Plugin::list_actions`].
pub const LISTING_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a plugin's listing is kept before the plugin is asked again.
pub const LISTING_TTL: Duration = Duration::from_secs(300);
/// How long the fixed list stands in after a listing failed or timed out.
pub const LISTING_RETRY: Duration = Duration::from_secs(30);

impl Registry {
    /// Adds a plugin to ask for the models and embedders under its name.
    pub(crate) fn add_plugin(&self, plugin: Arc<dyn Plugin>) {
        let mut plugins = self.plugins.write().unwrap_or_else(|e| e.into_inner());
        plugins.push(plugin);
    }

    fn plugins(&self) -> Vec<Arc<dyn Plugin>> {
        let plugins = self.plugins.read().unwrap_or_else(|e| e.into_inner());
        plugins.clone()
    }

    /// The plugin owning `name` (`googleai` for `googleai/gemini-3-pro-preview`).
    fn owner(&self, name: &str) -> Option<Arc<dyn Plugin>> {
        let (prefix, _) = name.split_once('/')?;
        let plugins = self.plugins.read().unwrap_or_else(|e| e.into_inner());
        plugins.iter().find(|p| p.name() == prefix).cloned()
    }

    /// Asks the owning plugin for a model or embedder and keeps it; the first one kept
    /// wins a race.
    fn resolve(&self, kind: ActionKind, name: &str) -> Option<Entry> {
        let plugin = self.owner(name)?;
        let entry = match kind {
            ActionKind::Model => Entry::Model(plugin.resolve_model(name)?),
            ActionKind::Embedder => Entry::Embedder(plugin.resolve_embedder(name)?),
            _ => return None,
        };
        let mut map = self.actions.write().unwrap_or_else(|e| e.into_inner());
        let kept = map
            .entry(kind)
            .or_default()
            .entry(name.to_string())
            .or_insert(entry);
        Some(kept.clone())
    }

    fn get_or_resolve(&self, kind: ActionKind, name: &str) -> Option<Entry> {
        self.get(kind, name).or_else(|| self.resolve(kind, name))
    }

    /// Resolves every model and embedder the plugins list ([`Plugin::list_models`]), then
    /// lists every action as [`list`](Self::list) (what `/api/actions` shows).
    pub fn list_resolvable(&self) -> Vec<ActionRef> {
        for plugin in self.plugins() {
            for name in plugin.list_models() {
                self.get_or_resolve(ActionKind::Model, &name);
            }
            for name in plugin.list_embedders() {
                self.get_or_resolve(ActionKind::Embedder, &name);
            }
        }
        self.list()
    }

    /// A plugin's listing: kept, or asked of it (at most [`LISTING_TIMEOUT`]; on an
    /// error or a timeout its fixed list, kept for [`LISTING_RETRY`]).
    async fn plugin_listing(&self, plugin: &Arc<dyn Plugin>) -> Arc<Vec<ActionListing>> {
        let name = plugin.name().to_string();
        {
            let cache = self.listings.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((until, listing)) = cache.get(&name)
                && Instant::now() < *until
            {
                return listing.clone();
            }
        }
        let (listing, ttl) = match tokio::time::timeout(LISTING_TIMEOUT, plugin.list_actions())
            .await
        {
            Ok(Ok(listing)) => (listing, LISTING_TTL),
            Ok(Err(e)) => {
                tracing::debug!(target: "genkit::registry", plugin = %name, "listing failed, using the fixed list: {e}");
                (fixed_listing(plugin.as_ref()), LISTING_RETRY)
            }
            Err(_) => {
                tracing::debug!(target: "genkit::registry", plugin = %name, "listing timed out, using the fixed list");
                (fixed_listing(plugin.as_ref()), LISTING_RETRY)
            }
        };
        let listing = Arc::new(listing);
        let mut cache = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(name, (Instant::now() + ttl, listing.clone()));
        listing
    }

    /// Forgets every kept plugin listing, so the next [`list_listed`](Self::list_listed)
    /// asks the plugins again.
    pub fn forget_listings(&self) {
        self.listings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// What `/api/actions` shows: resolves every model and embedder the plugins list
    /// ([`Plugin::list_actions`], asked of all plugins at once, kept for
    /// [`LISTING_TTL`]), then describes every action as [`list`](Self::list) does, a
    /// listed one with the info and metadata of its listing.
    pub async fn list_listed(&self) -> Vec<ActionDesc> {
        let plugins = self.plugins();
        let listings =
            futures::future::join_all(plugins.iter().map(|p| self.plugin_listing(p))).await;
        let mut by_key: HashMap<String, &ActionListing> = HashMap::new();
        for listing in &listings {
            for l in listing.iter() {
                if self.get_or_resolve(l.kind, &l.name).is_some() {
                    by_key.insert(format!("/{}/{}", l.kind.as_str(), l.name), l);
                }
            }
        }
        self.list()
            .iter()
            .map(|action| {
                let mut desc = action.desc().clone();
                if let Some(l) = by_key.get(&desc.key) {
                    if let Some(info) = &l.info
                        && let Ok(v) = serde_json::to_value(info)
                    {
                        desc.metadata.insert("model".into(), v);
                    }
                    for (k, v) in &l.metadata {
                        desc.metadata.insert(k.clone(), v.clone());
                    }
                }
                desc
            })
            .collect()
    }

    fn insert(&self, kind: ActionKind, name: &str, entry: Entry) -> Result<()> {
        let mut map = self.actions.write().unwrap_or_else(|e| e.into_inner());
        let by_name = map.entry(kind).or_default();
        if by_name.contains_key(name) {
            return Err(Error::new(
                Status::AlreadyExists,
                format!("action /{kind}/{name} is already registered"),
            ));
        }
        by_name.insert(name.to_string(), entry);
        Ok(())
    }

    fn get(&self, kind: ActionKind, name: &str) -> Option<Entry> {
        let map = self.actions.read().unwrap_or_else(|e| e.into_inner());
        map.get(&kind)?.get(name).cloned()
    }

    /// Registers a model; a second action with the same key is ALREADY_EXISTS.
    pub fn register_model(&self, model: ModelRef) -> Result<()> {
        let name = model.name().to_string();
        self.insert(ActionKind::Model, &name, Entry::Model(model))
    }

    /// Registers a tool.
    pub fn register_tool(&self, tool: ToolRef) -> Result<()> {
        let name = tool.name().to_string();
        self.insert(ActionKind::Tool, &name, Entry::Tool(tool))
    }

    /// Registers a flow.
    pub fn register_flow(&self, flow: FlowRef) -> Result<()> {
        let name = flow.name().to_string();
        self.insert(ActionKind::Flow, &name, Entry::Flow(flow))
    }

    /// Registers an embedder.
    pub fn register_embedder(&self, embedder: EmbedderRef) -> Result<()> {
        let name = embedder.name().to_string();
        self.insert(ActionKind::Embedder, &name, Entry::Embedder(embedder))
    }

    /// The embedder `name`; NOT_FOUND `Embedder 'x' not found`.
    pub fn embedder(&self, name: &str) -> Result<EmbedderRef> {
        match self.get_or_resolve(ActionKind::Embedder, name) {
            Some(Entry::Embedder(e)) => Ok(e),
            _ => Err(Error::not_found(format!("Embedder '{name}' not found"))),
        }
    }

    /// Registers any other action (embedder, agent, util, …).
    pub fn register_action(&self, action: ActionRef) -> Result<()> {
        let desc = action.desc();
        let (kind, name) = (desc.kind, desc.name.clone());
        self.insert(kind, &name, Entry::Other(action))
    }

    /// Registers a middleware that can be named in JSON; a second with the same name is
    /// ALREADY_EXISTS.
    pub fn register_middleware(&self, factory: MiddlewareFactory) -> Result<()> {
        let mut map = self.middleware.write().unwrap_or_else(|e| e.into_inner());
        if map.contains_key(&factory.name) {
            return Err(Error::new(
                Status::AlreadyExists,
                format!("middleware {} is already registered", factory.name),
            ));
        }
        map.insert(factory.name.clone(), Arc::new(factory));
        Ok(())
    }

    /// A registered middleware; NOT_FOUND names it.
    pub fn middleware(&self, name: &str) -> Result<Arc<MiddlewareFactory>> {
        let map = self.middleware.read().unwrap_or_else(|e| e.into_inner());
        map.get(name)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("Middleware '{name}' not found")))
    }

    /// Every registered middleware, by name.
    pub fn list_middleware(&self) -> Vec<Arc<MiddlewareFactory>> {
        let map = self.middleware.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = map.values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The model `name` (`googleai/gemini-2.0-flash`); NOT_FOUND `Model 'x' not found`.
    pub fn model(&self, name: &str) -> Result<ModelRef> {
        match self.get_or_resolve(ActionKind::Model, name) {
            Some(Entry::Model(m)) => Ok(m),
            _ => Err(Error::not_found(format!("Model '{name}' not found"))),
        }
    }

    /// The tool `name`; NOT_FOUND `Tool x not found`.
    pub fn tool(&self, name: &str) -> Result<ToolRef> {
        match self.get(ActionKind::Tool, name) {
            Some(Entry::Tool(t)) => Ok(t),
            _ => Err(Error::not_found(format!("Tool {name} not found"))),
        }
    }

    /// The flow `name`; NOT_FOUND names it.
    pub fn flow(&self, name: &str) -> Result<FlowRef> {
        match self.get(ActionKind::Flow, name) {
            Some(Entry::Flow(f)) => Ok(f),
            _ => Err(Error::not_found(format!("Flow '{name}' not found"))),
        }
    }

    /// The action with key `/{kind}/{name}`.
    pub fn lookup(&self, key: &str) -> Option<ActionRef> {
        let rest = key.strip_prefix('/')?;
        let (kind, name) = rest.split_once('/')?;
        let kind = ActionKind::parse(kind)?;
        self.get_or_resolve(kind, name).map(|e| e.action())
    }

    /// Every registered action, sorted by key.
    pub fn list(&self) -> Vec<ActionRef> {
        let map = self.actions.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<ActionRef> = map
            .values()
            .flat_map(|m| m.values().map(Entry::action))
            .collect();
        v.sort_by(|a, b| a.desc().key.cmp(&b.desc().key));
        v
    }
}

/// A `#[genkit::tool]` or `#[genkit::flow]` submitted for registration at build time.
#[doc(hidden)]
pub enum Registration {
    /// A tool.
    Tool(fn() -> ToolRef),
    /// A flow.
    Flow(fn() -> FlowRef),
}

inventory::collect!(Registration);

impl Registry {
    /// Registers every `#[genkit::tool]` and `#[genkit::flow]` in the program.
    pub(crate) fn register_submitted(&self) -> Result<()> {
        for r in inventory::iter::<Registration> {
            match r {
                Registration::Tool(f) => self.register_tool(f())?,
                Registration::Flow(f) => self.register_flow(f())?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::Genkit;
    use crate::model::{ModelAction, ModelInfo, ModelSupports};
    use crate::types::{GenerateResponse, Message};

    /// Resolves `echo/{anything}` except `echo/missing`; counts what it is asked.
    struct Echo(Arc<AtomicUsize>);

    impl Plugin for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn init(&self, _registry: &Registry) -> Result<()> {
            Ok(())
        }
        fn resolve_model(&self, name: &str) -> Option<ModelRef> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if name == "echo/missing" {
                return None;
            }
            let label = name.to_string();
            Some(Arc::new(ModelAction::new(
                name,
                ModelInfo::new(label.clone(), ModelSupports::default()),
                move |_req, _cx| {
                    let label = label.clone();
                    async move { Ok(GenerateResponse::from_message(Message::model(label))) }
                },
            )))
        }
        fn list_models(&self) -> Vec<String> {
            vec!["echo/listed".into()]
        }
    }

    async fn genkit(asked: &Arc<AtomicUsize>) -> Genkit {
        Genkit::builder()
            .without_submitted_actions()
            .plugin(Echo(asked.clone()))
            .build()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_owning_plugin_resolves_once_and_the_action_is_kept() {
        let asked = Arc::new(AtomicUsize::new(0));
        let ai = genkit(&asked).await;
        let r = ai
            .generate()
            .model("echo/any-name")
            .prompt("hi")
            .await
            .unwrap();
        assert_eq!(r.text(), "echo/any-name");
        let again = ai.registry().model("echo/any-name").unwrap();
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert_eq!(again.name(), "echo/any-name");
        assert!(ai.registry().lookup("/model/echo/any-name").is_some());

        let e = ai.registry().model("echo/missing").err().unwrap();
        assert_eq!(e.status(), Status::NotFound);
        assert!(ai.registry().model("other/x").is_err());
        // Only the owner is asked, and a tool name is never resolved.
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        assert!(ai.registry().lookup("/tool/echo/x").is_none());
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn racing_lookups_get_the_same_action() {
        let asked = Arc::new(AtomicUsize::new(0));
        let ai = genkit(&asked).await;
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let ai = ai.clone();
                std::thread::spawn(move || ai.registry().model("echo/raced").unwrap())
            })
            .collect();
        let got: Vec<ModelRef> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let kept = ai.registry().model("echo/raced").unwrap();
        assert!(got.iter().all(|m| Arc::ptr_eq(m, &kept)));
    }

    #[tokio::test]
    async fn listed_models_are_resolved_for_the_dev_ui() {
        let asked = Arc::new(AtomicUsize::new(0));
        let ai = genkit(&asked).await;
        let before = ai.registry().list();
        assert!(!before.iter().any(|a| a.desc().key == "/model/echo/listed"));
        let keys: Vec<String> = ai
            .registry()
            .list_resolvable()
            .iter()
            .map(|a| a.desc().key.clone())
            .collect();
        assert!(keys.contains(&"/model/echo/listed".to_string()), "{keys:?}");
    }

    /// Lists `echo/fresh` with a label, or fails; counts how often it is asked.
    struct Listing {
        asked: Arc<AtomicUsize>,
        fail: bool,
    }

    impl Plugin for Listing {
        fn name(&self) -> &str {
            "echo"
        }
        fn init(&self, _registry: &Registry) -> Result<()> {
            Ok(())
        }
        fn resolve_model(&self, name: &str) -> Option<ModelRef> {
            Echo(Arc::new(AtomicUsize::new(0))).resolve_model(name)
        }
        fn list_models(&self) -> Vec<String> {
            vec!["echo/listed".into()]
        }
        fn list_actions(&self) -> futures::future::BoxFuture<'_, Result<Vec<ActionListing>>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let fail = self.fail;
            Box::pin(async move {
                if fail {
                    return Err(Error::unavailable("the provider is down"));
                }
                let info = ModelInfo::new("Fresh from the list", ModelSupports::default());
                Ok(vec![
                    ActionListing::model("echo/fresh")
                        .with_info(info)
                        .with_metadata("echo", serde_json::json!({"limit": 7})),
                ])
            })
        }
    }

    async fn listing_genkit(asked: &Arc<AtomicUsize>, fail: bool) -> Genkit {
        Genkit::builder()
            .without_submitted_actions()
            .plugin(Listing {
                asked: asked.clone(),
                fail,
            })
            .build()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_plugins_listing_gives_its_info_and_is_kept() {
        let asked = Arc::new(AtomicUsize::new(0));
        let ai = listing_genkit(&asked, false).await;
        let descs = ai.registry().list_listed().await;
        let fresh = descs
            .iter()
            .find(|d| d.key == "/model/echo/fresh")
            .expect("listed");
        let json = fresh.to_json();
        assert_eq!(
            json["metadata"]["model"]["label"],
            serde_json::json!("Fresh from the list")
        );
        assert_eq!(json["metadata"]["echo"]["limit"], serde_json::json!(7));
        assert!(!descs.iter().any(|d| d.key == "/model/echo/listed"));
        ai.registry().list_listed().await;
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        ai.registry().forget_listings();
        ai.registry().list_listed().await;
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_listing_gives_the_fixed_list() {
        let asked = Arc::new(AtomicUsize::new(0));
        let ai = listing_genkit(&asked, true).await;
        let keys: Vec<String> = ai
            .registry()
            .list_listed()
            .await
            .into_iter()
            .map(|d| d.key)
            .collect();
        assert!(keys.contains(&"/model/echo/listed".to_string()), "{keys:?}");
        assert!(!keys.contains(&"/model/echo/fresh".to_string()), "{keys:?}");
    }
}
