//! Agents: long-lived conversations whose history and state are kept for you across
//! turns and processes, as Genkit's `define_agent`.
//!
//! ```no_run
//! use futures::StreamExt;
//! use genkit_core::agent::InMemorySessionStore;
//! # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
//! let agent = ai
//!     .define_agent("myAgent")
//!     .system("You are a helpful assistant.")
//!     .store(InMemorySessionStore::new())
//!     .build()?;
//! let mut conn = agent.stream_bidi().await?;
//! conn.send_text("Hello!").await?;
//! conn.close();
//! while let Some(chunk) = conn.next().await {
//!     if let Some(m) = chunk?.model_chunk {
//!         print!("{}", m.text());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! - Every turn ends in a [`SessionSnapshot`] (with a store): id, session, parent,
//!   status, finish reason and the state (messages, artifacts, custom state).
//! - With a store the state is server-managed: start from [`AgentInit::session`] or
//!   [`AgentInit::snapshot`]. Without one it is client-managed: the output carries the
//!   whole state, sent back with [`AgentInit::state`].
//! - [`AgentInput::detached`] runs the turn in the background; poll
//!   [`Agent::get_snapshot`] and stop it with [`Agent::abort`].
//! - Registered actions: `/agent/{name}`, and with a store `/agent-snapshot/{name}` and
//!   `/agent-abort/{name}`, with Genkit's schemas and metadata.
//! - Each turn is a span (`{name}#{n}`, type `flowStep`) inside a span carrying
//!   `genkit:sessionId`.
//!
//! `build()` registers the agent: registration can fail (a second agent with the same
//! name is ALREADY_EXISTS), and `build` is where that error is returned.

mod action;
mod bidi;
mod file_store;
mod messages;
mod runtime;
mod session;
mod store;
mod types;
pub mod util;

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

pub use bidi::BidiConnection;
pub use file_store::FileSessionStore;
pub use messages::{Messages, SharedIter};
pub use session::{Session, current_session};
pub use store::{
    DEFAULT_PENDING_EXPIRY, HeadCheck, InMemorySessionStore, SessionStore, SnapshotUpdate,
    check_snapshot_id, check_update, select_leaf,
};
pub use types::{
    AgentAbortRequest, AgentAbortResponse, AgentError, AgentFinishReason, AgentInit, AgentInput,
    AgentOutput, AgentResume, AgentStreamChunk, Artifact, GetSnapshotRequest, SessionSnapshot,
    SessionState, SnapshotStatus, TurnEnd,
};

use crate::error::{Error, Result};
use crate::generate::{ModelSpec, PromptContent};
use crate::genkit::Genkit;
use crate::middleware::{Middleware, MiddlewareRef};
use crate::tool::{IntoTools, ToolSpec};
use crate::types::{Message, Part, Role};
use runtime::{LoadError, Running, Runtime, Sink};

/// How many chunks wait for a slow reader before the agent pauses.
const CHUNK_BUFFER: usize = 64;

/// Keeps the conversation sent to the model (and kept in the session) short.
pub type HistoryFn = dyn Fn(Vec<Message>) -> Vec<Message> + Send + Sync;

pub(crate) enum HistoryLimit {
    Last(usize),
    Custom(Box<HistoryFn>),
}

impl HistoryLimit {
    pub(crate) fn apply(&self, mut history: Vec<Arc<Message>>) -> Vec<Arc<Message>> {
        match self {
            // The function gets (and returns) owned messages; the turn shares again
            // those it returns unchanged.
            HistoryLimit::Custom(f) => f(history.iter().map(|m| Message::clone(m)).collect())
                .into_iter()
                .map(Arc::new)
                .collect(),
            HistoryLimit::Last(n) => {
                let preamble = history
                    .iter()
                    .take_while(|m| m.role == Role::System)
                    .count();
                let body = history.len() - preamble;
                if body > *n {
                    let mut cut = body - n;
                    // Never start with a tool answer whose request was cut.
                    while preamble + cut < history.len()
                        && history[preamble + cut].role == Role::Tool
                    {
                        cut += 1;
                    }
                    history.drain(preamble..preamble + cut);
                }
                history
            }
        }
    }
}

pub(crate) struct AgentInner {
    pub(crate) name: String,
    pub(crate) model: Option<ModelSpec>,
    pub(crate) system: Option<Vec<Part>>,
    pub(crate) tools: Vec<ToolSpec>,
    pub(crate) middleware: Vec<MiddlewareRef>,
    pub(crate) config: Option<Value>,
    pub(crate) max_turns: Option<u32>,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) state_check: Option<fn(&Value) -> Result<()>>,
    pub(crate) state_schema: Option<Arc<Value>>,
    pub(crate) history: Option<HistoryLimit>,
    pub(crate) poll_interval: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_expiry: Duration,
    pub(crate) running: Running,
}

impl AgentInner {
    pub(crate) fn running_insert(&self, id: &str, n: Arc<tokio::sync::Notify>) {
        self.running.insert(id, n);
    }
    pub(crate) fn running_remove(&self, id: &str) {
        self.running.remove(id);
    }
}

/// Defines an agent; [`build`](Self::build) registers it.
#[must_use = "an agent is registered by .build()"]
pub struct AgentBuilder {
    ai: Genkit,
    inner: AgentInner,
    description: Option<String>,
    metadata: Map<String, Value>,
    error: Option<Error>,
}

impl Genkit {
    /// Starts defining an agent named `name`: set what you need, then `.build()`.
    pub fn define_agent(&self, name: impl Into<String>) -> AgentBuilder {
        AgentBuilder {
            ai: self.clone(),
            inner: AgentInner {
                name: name.into(),
                model: None,
                system: None,
                tools: Vec::new(),
                middleware: Vec::new(),
                config: None,
                max_turns: None,
                store: None,
                state_check: None,
                state_schema: None,
                history: None,
                poll_interval: Duration::from_millis(500),
                heartbeat_interval: Duration::from_secs(30),
                heartbeat_expiry: DEFAULT_PENDING_EXPIRY,
                running: Running::default(),
            },
            description: None,
            metadata: Map::new(),
            error: None,
        }
    }
}

fn check_state<S: DeserializeOwned>(v: &Value) -> Result<()> {
    crate::types::from_value::<S>(v.clone()).map(|_| ())
}

impl AgentBuilder {
    /// The model (default: the instance's).
    pub fn model(mut self, model: impl Into<ModelSpec>) -> Self {
        self.inner.model = Some(model.into());
        self
    }

    /// The system instructions, sent first on every turn and never stored.
    pub fn system(mut self, system: impl Into<PromptContent>) -> Self {
        self.inner.system = Some(system.into().0);
        self
    }

    /// Tools the model may call: `[web_search]`, or different tools in a tuple,
    /// `(web_search, read_file)` (an array holds one type).
    pub fn tools(mut self, tools: impl IntoTools) -> Self {
        tools.push_into(&mut self.inner.tools);
        self
    }

    /// Adds a middleware to every turn's generate.
    pub fn use_(mut self, middleware: impl Middleware) -> Self {
        self.inner.middleware.push(Arc::new(middleware));
        self
    }

    /// Adds a shared middleware.
    pub fn use_ref(mut self, middleware: MiddlewareRef) -> Self {
        self.inner.middleware.push(middleware);
        self
    }

    /// Model configuration.
    pub fn config(mut self, config: impl Serialize) -> Self {
        match serde_json::to_value(config) {
            Ok(v) => self.inner.config = Some(v),
            Err(e) => self.error = Some(e.into()),
        }
        self
    }

    /// Maximum tool-call rounds per turn.
    pub fn max_turns(mut self, n: u32) -> Self {
        self.inner.max_turns = Some(n);
        self
    }

    /// What it does.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Adds action metadata (the key `agent` is the framework's and is overwritten).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Types the custom state: its schema is published, and state loaded from a
    /// snapshot or sent by the client must fit it (else the invocation fails with
    /// INVALID_ARGUMENT).
    pub fn state<S: DeserializeOwned + JsonSchema + 'static>(mut self) -> Self {
        self.inner.state_check = Some(check_state::<S>);
        self.inner.state_schema = Some(crate::schema::schema_of::<S>());
        self
    }

    /// Keeps the state on the server, in `store` (else the client keeps it).
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.inner.store = Some(Arc::new(store));
        self
    }

    /// Keeps the state in a shared store.
    pub fn store_ref(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.inner.store = Some(store);
        self
    }

    /// Keeps at most the last `n` messages (besides the system preamble) in the
    /// conversation; a tool answer is never kept without its request.
    pub fn history_limit(mut self, n: usize) -> Self {
        self.inner.history = Some(HistoryLimit::Last(n.max(1)));
        self
    }

    /// Rewrites the conversation before each turn (a summarizer, …).
    pub fn history_with(
        mut self,
        f: impl Fn(Vec<Message>) -> Vec<Message> + Send + Sync + 'static,
    ) -> Self {
        self.inner.history = Some(HistoryLimit::Custom(Box::new(f)));
        self
    }

    /// How often a detached turn checks its snapshot for an abort from another
    /// process (default 500 ms).
    pub fn abort_poll_interval(mut self, d: Duration) -> Self {
        self.inner.poll_interval = d.max(Duration::from_millis(1));
        self
    }

    /// How often a detached turn refreshes the heartbeat of its pending snapshot
    /// (default 30 s; checked at the abort poll interval when the store cannot notify).
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.inner.heartbeat_interval = d.max(Duration::from_millis(1));
        self
    }

    /// How old the heartbeat of a pending snapshot may grow before its detached turn
    /// is taken to be dead (default 60 s): the snapshot then reads as `expired`, and
    /// it no longer blocks later turns of its session. Must exceed the heartbeat
    /// interval (else `build` fails with INVALID_ARGUMENT).
    pub fn heartbeat_expiry(mut self, d: Duration) -> Self {
        self.inner.heartbeat_expiry = d;
        self
    }

    /// Registers the agent's actions and returns its handle.
    pub fn build(self) -> Result<Agent> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.inner.heartbeat_expiry <= self.inner.heartbeat_interval {
            return Err(Error::invalid_argument(format!(
                "agent '{}': the heartbeat expiry ({:?}) must exceed the heartbeat interval ({:?}), or running detached turns would read as expired",
                self.inner.name, self.inner.heartbeat_expiry, self.inner.heartbeat_interval
            )));
        }
        let inner = Arc::new(self.inner);
        action::register(&self.ai, &inner, self.description, self.metadata)?;
        Ok(Agent { inner, ai: self.ai })
    }
}

/// A defined agent. Cheap to clone.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
    ai: Genkit,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.inner.name)
            .field("store", &self.has_store())
            .finish()
    }
}

impl Agent {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// True when it keeps state on the server.
    pub fn has_store(&self) -> bool {
        self.inner.store.is_some()
    }

    /// The store.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.inner.store.as_ref()
    }

    /// One HTTP-style invocation: `input` is a one-item input stream; chunks go to
    /// `chunks` if given.
    pub async fn run(
        &self,
        init: AgentInit,
        input: AgentInput,
        chunks: Option<mpsc::Sender<AgentStreamChunk>>,
        context: Option<Value>,
    ) -> Result<AgentOutput> {
        let sink = chunks.map(Sink::Typed).unwrap_or(Sink::None);
        self.run_with_sink(init, input, sink, context.map(Arc::new))
            .await
    }

    pub(crate) async fn run_with_sink(
        &self,
        init: AgentInit,
        input: AgentInput,
        sink: Sink,
        context: Option<Arc<Value>>,
    ) -> Result<AgentOutput> {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(Box::new(input));
        drop(tx);
        invoke(self.inner.clone(), self.ai.clone(), init, rx, sink, context).await
    }

    /// A snapshot by id, or a session's latest; `None` when there is none (or no store).
    /// A pending snapshot whose detached turn stopped sending heartbeats reads as
    /// `expired`.
    pub async fn get_snapshot(&self, req: GetSnapshotRequest) -> Result<Option<SessionSnapshot>> {
        let pick = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (snap, sess) = (pick(&req.snapshot_id), pick(&req.session_id));
        let Some(store) = &self.inner.store else {
            return Ok(None);
        };
        let found = match (snap, sess) {
            (Some(id), None) => store.get_snapshot(&id).await?,
            (None, Some(id)) => store.session_leaf(&id).await?,
            _ => {
                return Err(Error::invalid_argument(
                    "give exactly one of snapshotId and sessionId",
                ));
            }
        };
        Ok(found.map(|s| {
            let mut s = runtime::reader_view(s, self.inner.heartbeat_expiry);
            if req.metadata_only == Some(true) {
                s.state = None;
            }
            s
        }))
    }

    /// Aborts a detached turn: its snapshot goes from pending to aborted and the turn
    /// stops. Returns the status before (`pending`: it stopped running work; a
    /// terminal status: it had already ended; none: no such snapshot or no store).
    pub async fn abort(&self, snapshot_id: &str) -> Result<AgentAbortResponse> {
        let mut out = AgentAbortResponse {
            snapshot_id: snapshot_id.to_string(),
            status: None,
        };
        let Some(store) = &self.inner.store else {
            return Ok(out);
        };
        let prior = std::sync::Mutex::new(None);
        let flip = |e: Option<&SessionSnapshot>| {
            *prior.lock().unwrap_or_else(|p| p.into_inner()) = e.map(SessionSnapshot::status);
            let e = e.filter(|e| e.status() == SnapshotStatus::Pending)?;
            let mut e = e.clone();
            e.status = Some(SnapshotStatus::Aborted);
            e.finish_reason = Some(AgentFinishReason::Aborted);
            Some(e)
        };
        store.save_snapshot(snapshot_id, None, &flip).await?;
        out.status = prior.into_inner().unwrap_or_else(|p| p.into_inner());
        if out.status == Some(SnapshotStatus::Pending) {
            self.inner.running.signal(snapshot_id);
        }
        Ok(out)
    }

    /// Opens a live connection on a new session.
    pub async fn stream_bidi(&self) -> Result<BidiConnection> {
        self.stream_bidi_with(AgentInit::default()).await
    }

    /// Opens a live connection starting from `init`.
    pub async fn stream_bidi_with(&self, init: AgentInit) -> Result<BidiConnection> {
        self.connect(init, None).await
    }

    /// Opens a live connection starting from `init`, with a request context (auth)
    /// visible to tools.
    pub async fn connect(&self, init: AgentInit, context: Option<Value>) -> Result<BidiConnection> {
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let (chunk_tx, chunk_rx) = mpsc::channel(CHUNK_BUFFER);
        let (out_tx, out_rx) = oneshot::channel();
        // The task may outlive the user's handles by a moment: it holds the runtime's own.
        let (inner, ai) = (self.inner.clone(), self.ai.detached());
        let fut = async move {
            let sink = Sink::Boxed(chunk_tx.clone());
            let r = invoke(inner, ai, init, in_rx, sink, context.map(Arc::new)).await;
            let _ = out_tx.send(r);
            drop(chunk_tx);
        };
        let task = tokio::spawn(fut);
        Ok(BidiConnection {
            tx: Some(in_tx),
            rx: chunk_rx,
            out: Some(out_rx),
            result: None,
            error_yielded: false,
            task: Some(task),
        })
    }
}

/// One traced invocation of the agent.
/// Not an `async fn`: the span's future holds the run once, not twice.
fn invoke(
    inner: Arc<AgentInner>,
    ai: Genkit,
    init: AgentInit,
    inputs: mpsc::UnboundedReceiver<Box<AgentInput>>,
    sink: Sink,
    context: Option<Arc<Value>>,
) -> impl Future<Output = Result<AgentOutput>> {
    let name = inner.name.clone();
    let key = format!("/agent/{name}");
    let meta = crate::trace::SpanMeta {
        name: &name,
        kind: "action",
        subtype: Some("agent"),
        key: Some(&key),
        session_id: None,
    };
    // The init (which may hold a whole client-managed state) is recorded (serialized
    // only for a layer that reads it) before the run takes it.
    let traced = crate::trace::ActionSpan::open(meta, Some(&init), context.clone());
    let fut = async move {
        let client_state = init.state.clone();
        let loaded = match runtime::load_session(&inner, init).await {
            Ok(l) => l,
            Err(LoadError::Init(e)) => return Err(e),
            Err(LoadError::Soft(e)) => {
                return Ok(AgentOutput {
                    finish_reason: Some(AgentFinishReason::Failed),
                    error: Some(AgentError::from(&e)),
                    state: client_state.filter(|_| inner.store.is_none()),
                    ..Default::default()
                });
            }
        };
        Runtime::new(inner, ai, loaded, sink, context)
            .run(inputs)
            .await
    };
    traced.run(fut)
}
