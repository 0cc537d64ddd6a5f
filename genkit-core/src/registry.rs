//! The action registry a [`Genkit`](crate::Genkit) instance owns.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::action::{ActionKind, ActionRef};
use crate::embedder::EmbedderRef;
use crate::error::{Error, Result, Status};
use crate::flow::FlowRef;
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
#[derive(Default)]
pub struct Registry {
    actions: RwLock<HashMap<ActionKind, HashMap<String, Entry>>>,
    middleware: RwLock<HashMap<String, Arc<MiddlewareFactory>>>,
}

impl Registry {
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
        match self.get(ActionKind::Embedder, name) {
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
        match self.get(ActionKind::Model, name) {
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
        self.get(kind, name).map(|e| e.action())
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
