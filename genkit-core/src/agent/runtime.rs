//! One agent invocation: load the session, run turns in input order, snapshot each,
//! detach, finish.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, mpsc};

use super::AgentInner;
use super::messages::Messages;
use super::session::Session;
use super::store::HeadCheck;
use super::types::{
    AgentError, AgentFinishReason, AgentInit, AgentInput, AgentOutput, AgentResume,
    AgentStreamChunk, SessionSnapshot, SessionState, SnapshotStatus, TurnEnd,
};
use super::util::{new_id, now_iso};
use crate::error::{Error, Result};
use crate::generate::GenerateBuilder;
use crate::genkit::Genkit;
use crate::trace::{ActionSpan, SpanMeta};
use crate::types::{GenerateResponse, Message, Part, Role};

/// Marks the system preamble in a request so it is not persisted (Genkit's key).
pub(crate) const PREAMBLE_KEY: &str = "_genkit_agent_preamble";

/// Where chunks go.
#[derive(Clone)]
pub(crate) enum Sink {
    None,
    Typed(mpsc::Sender<AgentStreamChunk>),
    /// Boxed chunks: a channel slot is a pointer, so an idle connection's buffer is small.
    Boxed(mpsc::Sender<Box<AgentStreamChunk>>),
    Json(mpsc::Sender<Value>),
}

impl Sink {
    /// Sends a chunk; waits while the consumer is behind. The chunk is boxed (or turned
    /// into JSON) first and the wait is for a slot, so the future a turn holds across
    /// the wait is a pointer and the reservation, not the chunk (~380 bytes) twice.
    fn send(&self, chunk: AgentStreamChunk) -> impl Future<Output = ()> + Send + '_ {
        let payload = match self {
            Sink::None => return futures::future::Either::Left(std::future::ready(())),
            Sink::Json(_) => serde_json::to_value(&chunk).map_or(Payload::None, Payload::Json),
            Sink::Typed(_) | Sink::Boxed(_) => Payload::Chunk(Box::new(chunk)),
        };
        futures::future::Either::Right(async move {
            match (self, payload) {
                (Sink::Typed(tx), Payload::Chunk(chunk)) => {
                    if let Ok(slot) = tx.reserve().await {
                        slot.send(*chunk);
                    }
                }
                (Sink::Boxed(tx), Payload::Chunk(chunk)) => {
                    if let Ok(slot) = tx.reserve().await {
                        slot.send(chunk);
                    }
                }
                (Sink::Json(tx), Payload::Json(v)) => {
                    if let Ok(slot) = tx.reserve().await {
                        slot.send(v);
                    }
                }
                _ => {}
            }
        })
    }
}

/// A chunk ready for its sink.
enum Payload {
    None,
    Chunk(Box<AgentStreamChunk>),
    Json(Value),
}

/// A pre-turn problem that is reported as a failed output rather than thrown.
pub(crate) enum LoadError {
    /// API misuse: thrown.
    Init(Error),
    /// Missing or unusable snapshot, bad custom state: `finishReason: failed`.
    Soft(Error),
}

pub(crate) struct Loaded {
    pub(crate) state: SessionState,
    pub(crate) parent: Option<String>,
    pub(crate) check_head: bool,
}

pub(crate) async fn load_session(
    agent: &AgentInner,
    init: AgentInit,
) -> std::result::Result<Loaded, LoadError> {
    let fresh = |id: Option<String>| SessionState {
        session_id: Some(id.unwrap_or_else(new_id)),
        ..Default::default()
    };
    let nonempty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
    let (snapshot_id, session_id) = (nonempty(init.snapshot_id), nonempty(init.session_id));
    let loaded = match &agent.store {
        Some(store) => {
            if init.state.is_some() {
                return Err(LoadError::Init(
                    Error::failed_precondition(format!(
                        "agent '{}' keeps its state on the server (it has a session store): send 'snapshotId' or 'sessionId', not 'state'",
                        agent.name
                    ))
                    .with_details(json!({"reason": "CLIENT_STATE_NOT_ALLOWED"})),
                ));
            }
            if let Some(sid) = snapshot_id {
                let snap = store
                    .get_snapshot(&sid)
                    .await
                    .map_err(LoadError::Soft)?
                    .ok_or_else(|| {
                        LoadError::Soft(
                            Error::not_found(format!(
                                "Snapshot '{sid}' not found for agent '{}'.",
                                agent.name
                            ))
                            .with_details(json!({"reason": "SNAPSHOT_NOT_FOUND"})),
                        )
                    })?;
                if let (Some(want), Some(have)) = (&session_id, snap.session())
                    && want != have
                {
                    return Err(LoadError::Init(
                        Error::invalid_argument(format!(
                            "snapshot '{sid}' belongs to session '{have}', not '{want}'"
                        ))
                        .with_details(json!({"reason": "INVALID_SESSION_ID"})),
                    ));
                }
                if snap.status() != SnapshotStatus::Completed {
                    return Err(LoadError::Soft(
                        Error::invalid_argument(format!(
                            "snapshot '{sid}' is {}: only completed snapshots can be resumed",
                            snap.status().as_str()
                        ))
                        .with_details(json!({"reason": "SNAPSHOT_NOT_RESUMABLE"})),
                    ));
                }
                let sess = snap.session().map(str::to_string);
                let mut state = snap.state.unwrap_or_default();
                if state.session_id.is_none() {
                    state.session_id = Some(sess.unwrap_or_else(new_id));
                }
                Loaded {
                    state,
                    parent: Some(sid),
                    check_head: false,
                }
            } else if let Some(sess) = session_id {
                let leaf = store.session_leaf(&sess).await.map_err(LoadError::Soft)?;
                let mut seen = std::collections::HashSet::new();
                let mut cur = leaf;
                loop {
                    match cur {
                        None => {
                            break Loaded {
                                state: fresh(Some(sess)),
                                parent: None,
                                check_head: true,
                            };
                        }
                        Some(s) if s.status() == SnapshotStatus::Completed => {
                            let mut state = s.state.unwrap_or_default();
                            state.session_id = Some(sess);
                            break Loaded {
                                state,
                                parent: Some(s.snapshot_id),
                                check_head: true,
                            };
                        }
                        Some(s) => {
                            if !seen.insert(s.snapshot_id.clone()) {
                                return Err(LoadError::Soft(Error::failed_precondition(format!(
                                    "session '{sess}' has a cycle in its snapshots"
                                ))));
                            }
                            cur = match s.parent() {
                                Some(p) => store.get_snapshot(p).await.map_err(LoadError::Soft)?,
                                None => None,
                            };
                        }
                    }
                }
            } else {
                Loaded {
                    state: fresh(None),
                    parent: None,
                    check_head: true,
                }
            }
        }
        None => {
            if snapshot_id.is_some() || session_id.is_some() {
                return Err(LoadError::Init(
                    Error::failed_precondition(format!(
                        "agent '{}' has no session store, so the client keeps the state: send 'state', not '{}'",
                        agent.name,
                        if snapshot_id.is_some() { "snapshotId" } else { "sessionId" }
                    ))
                    .with_details(json!({"reason": "SESSION_STORE_NOT_CONFIGURED"})),
                ));
            }
            let mut state = init.state.unwrap_or_default();
            if state.session_id.as_deref().is_none_or(str::is_empty) {
                state.session_id = Some(new_id());
            }
            Loaded {
                state,
                parent: None,
                check_head: false,
            }
        }
    };
    if let (Some(check), Some(custom)) = (&agent.state_check, &loaded.state.custom)
        && !custom.is_null()
        && let Err(e) = check(custom)
    {
        return Err(LoadError::Soft(
            Error::invalid_argument(format!(
                "the custom state of agent '{}' does not fit its state schema: {}",
                agent.name,
                e.message()
            ))
            .with_details(json!({
                "schema": agent.state_schema.as_deref().cloned().unwrap_or(Value::Null),
                "errors": [{"loc": [], "message": e.message(), "type": "value_error"}],
            })),
        ));
    }
    Ok(loaded)
}

pub(crate) struct Runtime {
    pub(crate) agent: Arc<AgentInner>,
    pub(crate) ai: Genkit,
    pub(crate) session_id: String,
    /// The history, shared with the snapshots it was loaded from and saved to.
    pub(crate) messages: Messages,
    pub(crate) session: Session,
    pub(crate) parent: Option<String>,
    pub(crate) check_head: bool,
    pub(crate) sink: Sink,
    pub(crate) turn_index: u32,
    pub(crate) last_message: Option<Arc<Message>>,
    pub(crate) last_finish: Option<AgentFinishReason>,
    pub(crate) context: Option<Arc<Value>>,
}

/// How a turn ended.
enum TurnEndKind {
    Done(AgentFinishReason),
    Failed(Error),
}

impl serde::Serialize for TurnEndKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            TurnEndKind::Done(r) => json!({"finishReason": r}).serialize(s),
            TurnEndKind::Failed(e) => {
                json!({"finishReason": "failed", "error": AgentError::from(e)}).serialize(s)
            }
        }
    }
}

impl Runtime {
    pub(crate) fn new(
        agent: Arc<AgentInner>,
        ai: Genkit,
        loaded: Loaded,
        sink: Sink,
        context: Option<Arc<Value>>,
    ) -> Self {
        let SessionState {
            session_id,
            messages,
            custom,
            artifacts,
        } = loaded.state;
        let session_id = session_id.unwrap_or_else(new_id);
        Runtime {
            agent,
            ai,
            session: Session::new(Some(session_id.clone()), custom, artifacts),
            session_id,
            messages,
            parent: loaded.parent,
            check_head: loaded.check_head,
            sink,
            turn_index: 0,
            last_message: None,
            last_finish: None,
            context,
        }
    }

    fn state(&self) -> SessionState {
        let (custom, artifacts) = self.session.parts();
        SessionState {
            session_id: Some(self.session_id.clone()),
            messages: self.messages.clone(),
            custom,
            artifacts,
        }
    }

    /// Runs the invocation: every input in order until the input stream ends (or a
    /// detach), then the output.
    pub(crate) async fn run(
        mut self,
        mut inputs: mpsc::UnboundedReceiver<Box<AgentInput>>,
    ) -> Result<AgentOutput> {
        while let Some(input) = inputs.recv().await {
            let input = *input;
            if input.detach == Some(true) {
                drop(inputs);
                return self.detach(input).await;
            }
            if !input.has_payload() {
                continue;
            }
            let id = new_id();
            // Boxed: an idle connection keeps only this loop's small state, not the
            // space of a whole turn (generate, tools, HTTP) between turns.
            match Box::pin(self.traced_turn(input, &id, true, None)).await? {
                TurnEndKind::Done(_) => {}
                TurnEndKind::Failed(e) => return Ok(self.failed_output(&e)),
            }
        }
        Ok(self.output())
    }

    fn output(&self) -> AgentOutput {
        let (_, artifacts) = self.session.parts();
        AgentOutput {
            session_id: Some(self.session_id.clone()),
            snapshot_id: self.parent.clone().filter(|_| self.agent.store.is_some()),
            state: self.agent.store.is_none().then(|| self.state()),
            message: self.last_message.as_deref().cloned(),
            artifacts: (!artifacts.is_empty()).then_some(artifacts),
            finish_reason: self.last_finish,
            error: None,
        }
    }

    fn failed_output(&self, e: &Error) -> AgentOutput {
        let mut out = self.output();
        out.finish_reason = Some(AgentFinishReason::Failed);
        out.error = Some(AgentError::from(e));
        out.message = self
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::Model)
            .cloned();
        out
    }

    /// A turn inside its span and with its session current. Not an `async fn`, which
    /// would hold the turn's future twice (argument and awaitee) at each wrapper.
    fn traced_turn<'a>(
        &'a mut self,
        input: AgentInput,
        snapshot_id: &'a str,
        persist: bool,
        abort: Option<Arc<Notify>>,
    ) -> impl Future<Output = Result<TurnEndKind>> + 'a {
        let name = format!("{}#{}", self.agent.name, self.turn_index);
        let session_id = self.session_id.clone();
        let meta = SpanMeta {
            name: &name,
            kind: "flowStep",
            subtype: None,
            key: None,
            session_id: Some(&session_id),
        };
        // The input is recorded (serialized only for a layer that reads it) before the
        // turn takes it.
        let traced = ActionSpan::open(meta, Some(&input), None);
        let session = self.session.clone();
        traced.run(session.scope(self.turn(input, snapshot_id, persist, abort)))
    }

    async fn turn(
        &mut self,
        input: AgentInput,
        snapshot_id: &str,
        persist: bool,
        abort: Option<Arc<Notify>>,
    ) -> Result<TurnEndKind> {
        if persist {
            self.check_head_before_model(snapshot_id).await?;
        }
        self.turn_index += 1;
        let (custom_before, artifacts_before) = self.session.parts();
        let result = self.generate(input, abort).await;
        let (end, error) = match result {
            Ok(reason) => (reason, None),
            Err(e) => {
                // Back to the last good state (`generate` left the messages as they were).
                self.session.restore(custom_before, artifacts_before);
                (AgentFinishReason::Failed, Some(e))
            }
        };
        for ev in self.session.take_events() {
            self.sink.send(ev).await;
        }
        self.last_finish = Some(end);
        let mut saved_id = None;
        if persist && let Some(store) = &self.agent.store {
            let state = self.state();
            let status = if error.is_some() {
                SnapshotStatus::Failed
            } else {
                SnapshotStatus::Completed
            };
            let parent = self.parent.clone();
            let err = error.as_ref().map(AgentError::from);
            let now = now_iso();
            let update = |existing: Option<&SessionSnapshot>| {
                if existing.is_some_and(|e| e.status() == SnapshotStatus::Aborted) {
                    return None;
                }
                Some(SessionSnapshot {
                    snapshot_id: snapshot_id.to_string(),
                    session_id: Some(self.session_id.clone()),
                    parent_id: Some(parent.clone().unwrap_or_default()),
                    created_at: existing
                        .map(|e| e.created_at.clone())
                        .unwrap_or_else(|| now.clone()),
                    updated_at: None,
                    heartbeat_at: None,
                    status: Some(status),
                    finish_reason: Some(end),
                    error: err.clone(),
                    state: Some(state.clone()),
                })
            };
            let head = self.head_check();
            let saved = store
                .save_snapshot(snapshot_id, head.as_ref(), &update)
                .await?;
            if let Some(s) = saved {
                saved_id = Some(s.snapshot_id.clone());
                if error.is_none() {
                    self.parent = Some(s.snapshot_id);
                    self.check_head = true;
                }
            }
        }
        self.sink
            .send(AgentStreamChunk {
                turn_end: Some(TurnEnd {
                    snapshot_id: saved_id,
                    finish_reason: Some(end),
                    interrupts: self.pending_interrupts(end),
                }),
                ..Default::default()
            })
            .await;
        Ok(match error {
            Some(e) => TurnEndKind::Failed(e),
            None => TurnEndKind::Done(end),
        })
    }

    /// The version check of a turn continuing the loaded head, if it needs one.
    fn head_check(&self) -> Option<HeadCheck> {
        self.check_head.then(|| {
            HeadCheck::new(self.session_id.clone(), self.parent.clone())
                .pending_expiry(self.agent.heartbeat_expiry)
        })
    }

    /// Refuses a turn whose result could not be saved before it pays for a model
    /// call: the store runs the head check of a new row, and the update writes nothing.
    async fn check_head_before_model(&self, snapshot_id: &str) -> Result<()> {
        if let (Some(store), Some(head)) = (&self.agent.store, self.head_check()) {
            store
                .save_snapshot(snapshot_id, Some(&head), &|_| None)
                .await?;
        }
        Ok(())
    }

    /// The interrupted tool requests of a turn that ended `interrupted` (in the last
    /// model message of the history), for its `turnEnd`.
    fn pending_interrupts(&self, end: AgentFinishReason) -> Vec<Part> {
        if end != AgentFinishReason::Interrupted {
            return Vec::new();
        }
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::Model)
            .map(|m| m.interrupts().cloned().collect())
            .unwrap_or_default()
    }

    /// The turn's generate call: the history the model sees, the agent's settings and
    /// the input.
    fn request(&self, input: AgentInput) -> Result<GenerateBuilder> {
        let agent = &self.agent;
        if let Some(resume) = &input.resume {
            validate_resume(&self.messages, resume)?;
        }
        // The pre-turn history stays as it is until the turn succeeds; the request
        // shares its messages (copies the pointers, not the messages).
        let mut history: Vec<Arc<Message>> = Vec::with_capacity(self.messages.len() + 2);
        if let Some(system) = &agent.system {
            let mut m = Message::new(Role::System, system.clone());
            let mut meta = Map::new();
            meta.insert(PREAMBLE_KEY.into(), Value::Bool(true));
            m.metadata = Some(meta);
            history.push(Arc::new(m));
        }
        history.extend(self.messages.iter_shared().cloned());
        if let Some(m) = input.message {
            history.push(Arc::new(m));
        }
        if let Some(limit) = &agent.history {
            history = limit.apply(history);
        }
        let mut gb = self
            .ai
            .generate()
            .messages(history)
            .tools(agent.tools.clone());
        if let Some(m) = &agent.model {
            gb = gb.model(m.clone());
        }
        if let Some(c) = &agent.config {
            gb = gb.config(c.clone());
        }
        if let Some(n) = agent.max_turns {
            gb = gb.max_turns(n);
        }
        for mw in &agent.middleware {
            gb = gb.use_ref(mw.clone());
        }
        if let Some(ctx) = &self.context {
            gb = gb.context((**ctx).clone());
        }
        if let Some(r) = input.resume {
            gb = gb.resume(r.into());
        }
        Ok(gb)
    }

    /// Runs `generate` for one turn; on success the session holds the new history. Not
    /// an `async fn`: the input becomes the call's stream first, so the future of every
    /// turn in flight holds neither the input (twice) nor the call's options.
    fn generate(
        &mut self,
        input: AgentInput,
        abort: Option<Arc<Notify>>,
    ) -> impl Future<Output = Result<AgentFinishReason>> + Send + '_ {
        let mut stream = self.request(input).map(GenerateBuilder::stream);
        async move {
            let stream = match &mut stream {
                Ok(s) => s,
                Err(e) => return Err(e.clone()),
            };
            let aborted = async {
                match &abort {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(aborted);
            loop {
                tokio::select! {
                    biased;
                    _ = &mut aborted => {
                        return Ok(AgentFinishReason::Aborted);
                    }
                    next = stream.next() => match next {
                        Some(Ok(chunk)) => {
                            self.sink.send(AgentStreamChunk { model_chunk: Some(chunk), ..Default::default() }).await;
                            for ev in self.session.take_events() {
                                self.sink.send(ev).await;
                            }
                        }
                        Some(Err(_)) | None => break,
                    }
                }
            }
            // The loop read the stream to its end (an abort returned above).
            let response = stream.take_response()?;
            let reason = response
                .finish_reason
                .map(AgentFinishReason::from)
                .unwrap_or(AgentFinishReason::Unknown);
            // The earlier messages the model saw unchanged stay shared.
            let persisted = persisted_messages(response, &mut self.last_message);
            self.messages = self.messages.share_prefix(persisted);
            Ok(reason)
        }
    }

    async fn detach(mut self, input: AgentInput) -> Result<AgentOutput> {
        let Some(store) = self.agent.store.clone() else {
            return Err(Error::failed_precondition(format!(
                "agent '{}' received a detach request, but detach needs a session store: configure one with .store(..)",
                self.agent.name
            )));
        };
        let id = new_id();
        let state = self.state();
        let parent = self.parent.clone();
        let now = now_iso();
        let pending = |_: Option<&SessionSnapshot>| {
            Some(SessionSnapshot {
                snapshot_id: id.clone(),
                session_id: Some(self.session_id.clone()),
                parent_id: Some(parent.clone().unwrap_or_default()),
                created_at: now.clone(),
                updated_at: None,
                heartbeat_at: Some(now.clone()),
                status: Some(SnapshotStatus::Pending),
                finish_reason: None,
                error: None,
                state: Some(state.clone()),
            })
        };
        let head = self.head_check();
        store
            .save_snapshot(&id, head.as_ref(), &pending)
            .await?
            .ok_or_else(|| {
                Error::internal("the pending snapshot of the detached turn was not written")
            })?;
        let out = AgentOutput {
            session_id: Some(self.session_id.clone()),
            snapshot_id: Some(id.clone()),
            finish_reason: Some(AgentFinishReason::Detached),
            ..Default::default()
        };
        self.sink = Sink::None;
        let signal = Arc::new(Notify::new());
        self.agent.running_insert(&id, signal.clone());
        // The turn outlives this call: it holds the runtime's own handle, not the user's.
        self.ai = self.ai.detached();
        tokio::spawn(async move { self.background(input, id, signal).await });
        Ok(out)
    }

    async fn background(mut self, input: AgentInput, id: String, signal: Arc<Notify>) {
        let Some(store) = self.agent.store.clone() else {
            return;
        };
        let agent = self.agent.clone();
        // Heartbeat and abort watch: one loop polling the store.
        let watch = {
            let (store, id, signal) = (store.clone(), id.clone(), signal.clone());
            let (poll, beat) = (agent.poll_interval, agent.heartbeat_interval);
            async move {
                let mut since_beat = std::time::Duration::ZERO;
                let mut statuses = store.on_snapshot_status_change(&id);
                loop {
                    if let Some(stream) = statuses.as_mut() {
                        // Notified: wait for a change, or the next heartbeat.
                        match tokio::time::timeout(beat, stream.next()).await {
                            Ok(Some(Ok(SnapshotStatus::Aborted))) => {
                                signal.notify_one();
                                return;
                            }
                            Ok(Some(Ok(_))) => continue,
                            Ok(Some(Err(_)) | None) => statuses = None,
                            Err(_) => since_beat = beat,
                        }
                    }
                    if statuses.is_none() {
                        tokio::time::sleep(poll).await;
                        since_beat += poll;
                    }
                    if since_beat >= beat {
                        since_beat = std::time::Duration::ZERO;
                        let now = now_iso();
                        let refresh = |e: Option<&SessionSnapshot>| {
                            let e = e.filter(|e| e.status() == SnapshotStatus::Pending)?;
                            let mut e = e.clone();
                            e.heartbeat_at = Some(now.clone());
                            Some(e)
                        };
                        let _ = store.save_snapshot(&id, None, &refresh).await;
                    }
                    if statuses.is_none()
                        && let Ok(Some(s)) = store.get_snapshot(&id).await
                        && s.status() == SnapshotStatus::Aborted
                    {
                        signal.notify_one();
                        return;
                    }
                }
            }
        };
        let work = async {
            if input.has_payload() {
                self.traced_turn(input, &id, false, Some(signal.clone()))
                    .await
            } else {
                Ok(TurnEndKind::Done(
                    self.last_finish.unwrap_or(AgentFinishReason::Stop),
                ))
            }
        };
        let result = tokio::select! {
            r = work => r,
            _ = watch => Ok(TurnEndKind::Done(AgentFinishReason::Aborted)),
        };
        agent.running_remove(&id);
        let (status, finish, error) = match &result {
            Ok(TurnEndKind::Done(AgentFinishReason::Aborted)) => return,
            Ok(TurnEndKind::Done(r)) => (SnapshotStatus::Completed, *r, None),
            Ok(TurnEndKind::Failed(e)) | Err(e) => (
                SnapshotStatus::Failed,
                AgentFinishReason::Failed,
                Some(AgentError::from(e)),
            ),
        };
        let state = self.state();
        let finalize = |e: Option<&SessionSnapshot>| {
            let e = e?;
            if e.status() != SnapshotStatus::Pending {
                return None;
            }
            let mut e = e.clone();
            e.status = Some(status);
            e.finish_reason = Some(finish);
            e.error = error.clone();
            if error.is_none() {
                e.state = Some(state.clone());
            }
            Some(e)
        };
        if let Err(e) = store.save_snapshot(&id, None, &finalize).await {
            tracing::warn!(target: "genkit::agent", "agent {}: finalizing detached snapshot {id} failed: {e}", agent.name);
        }
    }
}

fn is_preamble(m: &Message) -> bool {
    m.metadata
        .as_ref()
        .and_then(|md| md.get(PREAMBLE_KEY))
        .is_some_and(|v| v.as_bool() == Some(true))
}

/// The request's messages without the preamble, plus the response message: moved out
/// of the response, not copied, when nothing else holds the request.
fn persisted_messages(
    response: GenerateResponse,
    last: &mut Option<Arc<Message>>,
) -> Vec<Arc<Message>> {
    let GenerateResponse {
        message, request, ..
    } = response;
    let mut msgs = match request {
        Some(r) => match Arc::try_unwrap(r) {
            Ok(r) => r.messages,
            Err(r) => r.messages.clone(),
        },
        None => Vec::new(),
    };
    msgs.retain(|m| !is_preamble(m));
    if let Some(m) = message {
        let m = Arc::new(m);
        *last = Some(m.clone());
        msgs.push(m);
    }
    msgs
}

/// Every `respond`/`restart` entry must answer a tool request of the history (newest
/// first, by name and ref); a restart must carry the original input.
fn validate_resume(history: &Messages, resume: &AgentResume) -> Result<()> {
    let find = |name: &str, r#ref: &Option<String>| {
        history.iter().rev().find_map(|m| {
            m.content.iter().find_map(|p| {
                p.tool_request
                    .as_ref()
                    .filter(|tr| tr.name == name && &tr.r#ref == r#ref)
            })
        })
    };
    for part in resume.respond.iter().flatten() {
        let Some(tr) = &part.tool_response else {
            return Err(Error::invalid_argument(
                "resume.respond entries must be toolResponse parts",
            ));
        };
        if find(&tr.name, &tr.r#ref).is_none() {
            return Err(Error::invalid_argument(format!(
                "resume.respond answers tool '{}' (ref {:?}), which the session never requested",
                tr.name, tr.r#ref
            )));
        }
    }
    for part in resume.restart.iter().flatten() {
        let Some(tr) = &part.tool_request else {
            return Err(Error::invalid_argument(
                "resume.restart entries must be toolRequest parts",
            ));
        };
        match find(&tr.name, &tr.r#ref) {
            None => {
                return Err(Error::invalid_argument(format!(
                    "resume.restart names tool '{}' (ref {:?}), which the session never requested",
                    tr.name, tr.r#ref
                )));
            }
            Some(orig) if orig.input != tr.input => {
                return Err(Error::invalid_argument(format!(
                    "resume.restart of tool '{}' changes its input",
                    tr.name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Shared storage for "which detached turns run in this process".
#[derive(Default)]
pub(crate) struct Running(Mutex<std::collections::HashMap<String, Arc<Notify>>>);

impl Running {
    pub(crate) fn insert(&self, id: &str, n: Arc<Notify>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), n);
    }
    pub(crate) fn remove(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
    pub(crate) fn signal(&self, id: &str) {
        if let Some(n) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            n.notify_one();
        }
    }
}

/// Maps the status of a stored snapshot for readers: a pending one whose heartbeat
/// is older than `expiry` reads as expired.
pub(crate) fn reader_view(mut s: SessionSnapshot, expiry: std::time::Duration) -> SessionSnapshot {
    if s.heartbeat_expired(expiry) {
        s.status = Some(SnapshotStatus::Expired);
    }
    s
}
