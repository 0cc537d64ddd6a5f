//! The agent wire types, camelCase exactly as Genkit writes them.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Status};
use crate::types::{GenerateResponseChunk, Message, Metadata, Part, Resume};

/// The session an invocation starts from: a snapshot id or session id (server-managed
/// state), or the whole state (client-managed); empty starts a new session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentInit {
    /// Continue this session from its latest completed snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Continue from this completed snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// The whole session state (client-managed agents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
}

impl AgentInit {
    /// Continue a session by id.
    pub fn session(id: impl Into<String>) -> Self {
        AgentInit {
            session_id: Some(id.into()),
            ..Default::default()
        }
    }

    /// Continue from a snapshot.
    pub fn snapshot(id: impl Into<String>) -> Self {
        AgentInit {
            snapshot_id: Some(id.into()),
            ..Default::default()
        }
    }

    /// Client-managed: start from this state.
    pub fn state(state: SessionState) -> Self {
        AgentInit {
            state: Some(state),
            ..Default::default()
        }
    }
}

/// Answers to interrupted tool requests, sent as the input of a turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentResume {
    /// Tool responses answering interrupted requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<Value>>")]
    pub respond: Option<Vec<Part>>,
    /// Tool requests to run again (with `metadata.resumed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<Value>>")]
    pub restart: Option<Vec<Part>>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl From<AgentResume> for Resume {
    fn from(r: AgentResume) -> Resume {
        Resume {
            respond: r.respond,
            restart: r.restart,
            metadata: r.metadata,
        }
    }
}

/// One input of a turn: a message, answers to interrupts, and/or `detach`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentInput {
    /// The user's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub message: Option<Message>,
    /// Answers to interrupted tool requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<AgentResume>,
    /// Run the rest in the background and return at once (needs a store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detach: Option<bool>,
}

impl AgentInput {
    /// A user text message.
    pub fn text(text: impl Into<String>) -> Self {
        AgentInput {
            message: Some(Message::user(text)),
            ..Default::default()
        }
    }

    /// A user message with these parts.
    pub fn parts(parts: Vec<Part>) -> Self {
        AgentInput {
            message: Some(Message::new(crate::types::Role::User, parts)),
            ..Default::default()
        }
    }

    /// Answers interrupts.
    pub fn resume(resume: AgentResume) -> Self {
        AgentInput {
            resume: Some(resume),
            ..Default::default()
        }
    }

    /// Answers one interrupted tool request (a `toolRequest` part of the history) with
    /// `output`.
    pub fn respond(interrupt: &Part, output: Value) -> Self {
        let mut resume = AgentResume::default();
        if let Some(tr) = &interrupt.tool_request {
            let part = Part::tool_response(tr.name.clone(), tr.r#ref.clone(), output)
                .with_metadata("interruptResponse", Value::Bool(true));
            resume.respond = Some(vec![part]);
        }
        AgentInput::resume(resume)
    }

    /// Runs one interrupted tool request again with `metadata.resumed = resumed`
    /// (`{"toolApproved": true}` approves it).
    pub fn restart(interrupt: &Part, resumed: Value) -> Self {
        let mut resume = AgentResume::default();
        if let Some(tr) = &interrupt.tool_request {
            let part = Part {
                tool_request: Some(tr.clone()),
                ..Default::default()
            };
            resume.restart = Some(vec![part.with_metadata("resumed", resumed)]);
        }
        AgentInput::resume(resume)
    }

    /// Marks the input as detaching.
    pub fn detached(mut self) -> Self {
        self.detach = Some(true);
        self
    }

    pub(crate) fn has_payload(&self) -> bool {
        self.message.is_some()
            || self.resume.as_ref().is_some_and(|r| {
                r.respond.as_ref().is_some_and(|v| !v.is_empty())
                    || r.restart.as_ref().is_some_and(|v| !v.is_empty())
            })
    }
}

/// A named piece of output the agent keeps in the session (a file, a report, …).
/// Adding one with an existing name replaces it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Artifact {
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its content.
    #[schemars(with = "Vec<Value>")]
    pub parts: Vec<Part>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Artifact {
    /// A named artifact.
    pub fn new(name: impl Into<String>, parts: Vec<Part>) -> Self {
        Artifact {
            name: Some(name.into()),
            parts,
            metadata: None,
        }
    }
}

/// The state of a session: history, artifacts and the agent's custom state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionState {
    /// The session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The conversation (without the system preamble), shared with the snapshots it
    /// came from and goes to (see [`Messages`]).
    #[serde(default, skip_serializing_if = "Messages::is_empty")]
    #[schemars(with = "Option<Vec<Value>>")]
    pub messages: Messages,
    /// The agent's custom state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    /// Artifacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

impl SessionState {
    /// The custom state as `T` (`None` when unset).
    pub fn custom_as<T: serde::de::DeserializeOwned>(&self) -> crate::Result<Option<T>> {
        match &self.custom {
            None | Some(Value::Null) => Ok(None),
            Some(v) => crate::types::from_value(v.clone()).map(Some),
        }
    }

    /// Adds or replaces (by name) an artifact.
    pub fn put_artifact(&mut self, artifact: Artifact) {
        if let Some(name) = &artifact.name
            && let Some(slot) = self
                .artifacts
                .iter_mut()
                .find(|a| a.name.as_ref() == Some(name))
        {
            *slot = artifact;
            return;
        }
        self.artifacts.push(artifact);
    }
}

/// The conversation of a session: an immutable list of shared messages.
///
/// Cloning it copies one pointer; a snapshot saved after a turn holds the messages of
/// the snapshot it continues, not copies of them, and a store that keeps snapshots in
/// memory ([`InMemorySessionStore`](super::InMemorySessionStore)) hands them back the
/// same way. A session of n turns thus holds each message once, not once per snapshot.
///
/// It reads like a slice of messages ([`iter`](Self::iter), [`len`](Self::len),
/// [`last`](Self::last), `messages[i]`, `for m in &messages`), builds from a
/// `Vec<Message>` (`.into()`) or an iterator (`.collect()`), and serializes exactly as
/// `Vec<Message>` (a JSON array of messages).
///
/// ```
/// use genkit_core::Message;
/// use genkit_core::agent::Messages;
/// let mut history: Messages = vec![Message::user("hi")].into();
/// let saved = history.clone(); // shares the message
/// history.push(Message::model("hello"));
/// assert_eq!(saved.len(), 1);
/// assert_eq!(history.last().map(Message::text).as_deref(), Some("hello"));
/// assert_eq!(serde_json::to_string(&saved)?, r#"[{"role":"user","content":[{"text":"hi"}]}]"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Messages(Arc<[Arc<Message>]>);

impl Messages {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many messages it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Message> + ExactSizeIterator + Clone {
        self.0.iter().map(|m| &**m)
    }

    /// The message at `index`.
    pub fn get(&self, index: usize) -> Option<&Message> {
        self.0.get(index).map(|m| &**m)
    }

    /// The first message.
    pub fn first(&self) -> Option<&Message> {
        self.0.first().map(|m| &**m)
    }

    /// The last message.
    pub fn last(&self) -> Option<&Message> {
        self.0.last().map(|m| &**m)
    }

    /// The shared messages themselves.
    pub fn as_shared(&self) -> &[Arc<Message>] {
        &self.0
    }

    /// Copies of the messages.
    pub fn to_vec(&self) -> Vec<Message> {
        self.iter().cloned().collect()
    }

    /// Appends a message (the list of pointers is copied; the messages are not).
    pub fn push(&mut self, message: Message) {
        self.extend([message]);
    }

    /// Appends messages (the list of pointers is copied; the messages are not).
    pub fn extend(&mut self, messages: impl IntoIterator<Item = Message>) {
        let mut all = self.0.to_vec();
        all.extend(messages.into_iter().map(compact).map(Arc::new));
        self.0 = all.into();
    }

    /// `messages` (the history after a turn) as a conversation that reuses this one's
    /// allocation for every message that continues it unchanged: from where its first
    /// message is found here (a history limit drops the earliest ones), position by
    /// position up to the first difference. A turn thus keeps one copy of the earlier
    /// messages.
    pub(crate) fn share_prefix(&self, messages: Vec<Arc<Message>>) -> Messages {
        let same_message = |a: &Arc<Message>, b: &Arc<Message>| Arc::ptr_eq(a, b) || a == b;
        let start = messages
            .first()
            .and_then(|first| self.0.iter().position(|m| same_message(m, first)))
            .unwrap_or(self.0.len());
        let mut shared = self.0[start..].iter();
        let mut same = true;
        messages
            .into_iter()
            .map(|m| match shared.next() {
                Some(old) if same && same_message(old, &m) => old.clone(),
                _ => {
                    same = false;
                    Arc::new(compact(Arc::unwrap_or_clone(m)))
                }
            })
            .collect()
    }

    /// This conversation with every message that equals `base`'s at the same position
    /// (up to the first difference) taken from `base`: pointer-equal ones cost nothing
    /// to compare.
    pub(crate) fn shared_with(&self, base: &Messages) -> Messages {
        let pairs = || self.0.iter().zip(base.0.iter());
        let same = pairs()
            .take_while(|(m, b)| Arc::ptr_eq(m, b) || m == b)
            .count();
        if pairs().take(same).all(|(m, b)| Arc::ptr_eq(m, b)) {
            return self.clone();
        }
        base.0[..same]
            .iter()
            .chain(&self.0[same..])
            .cloned()
            .collect()
    }
}

/// `m` without spare capacity: a message built by pushing parts (a parsed or streamed
/// answer) can hold room for several, and a session keeps it for its whole life.
fn compact(mut m: Message) -> Message {
    m.content.shrink_to_fit();
    for p in &mut m.content {
        if let Some(t) = p.text.as_mut() {
            t.shrink_to_fit();
        }
    }
    m
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Messages {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.len() == other.len()
                && self
                    .0
                    .iter()
                    .zip(other.0.iter())
                    .all(|(a, b)| Arc::ptr_eq(a, b) || a == b))
    }
}

impl PartialEq<[Message]> for Messages {
    fn eq(&self, other: &[Message]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl PartialEq<Vec<Message>> for Messages {
    fn eq(&self, other: &Vec<Message>) -> bool {
        *self == other[..]
    }
}

impl std::ops::Index<usize> for Messages {
    type Output = Message;
    fn index(&self, index: usize) -> &Message {
        &self.0[index]
    }
}

impl From<Vec<Message>> for Messages {
    fn from(v: Vec<Message>) -> Self {
        v.into_iter().collect()
    }
}

impl From<Vec<Arc<Message>>> for Messages {
    fn from(v: Vec<Arc<Message>>) -> Self {
        Messages(v.into())
    }
}

impl From<Messages> for Vec<Message> {
    fn from(m: Messages) -> Self {
        m.0.iter().map(|m| Message::clone(m)).collect()
    }
}

impl FromIterator<Message> for Messages {
    fn from_iter<I: IntoIterator<Item = Message>>(iter: I) -> Self {
        iter.into_iter().map(compact).map(Arc::new).collect()
    }
}

impl FromIterator<Arc<Message>> for Messages {
    fn from_iter<I: IntoIterator<Item = Arc<Message>>>(iter: I) -> Self {
        Messages(iter.into_iter().collect())
    }
}

fn deref_message(m: &Arc<Message>) -> &Message {
    m
}

impl<'a> IntoIterator for &'a Messages {
    type Item = &'a Message;
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, Arc<Message>>, fn(&'a Arc<Message>) -> &'a Message>;
    fn into_iter(self) -> Self::IntoIter {
        self.0
            .iter()
            .map(deref_message as fn(&'a Arc<Message>) -> &'a Message)
    }
}

impl Serialize for Messages {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Vec::<Message>::deserialize(d).map(Messages::from)
    }
}

/// The status of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SnapshotStatus {
    /// A detached turn is running.
    Pending,
    /// Being aborted.
    Aborting,
    /// The turn finished.
    Completed,
    /// The turn was aborted.
    Aborted,
    /// The turn failed.
    Failed,
    /// A pending turn stopped sending heartbeats (never stored; reported on read).
    Expired,
}

impl SnapshotStatus {
    /// True for completed, failed and aborted: a status that never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SnapshotStatus::Completed | SnapshotStatus::Failed | SnapshotStatus::Aborted
        )
    }

    /// The status as Genkit writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotStatus::Pending => "pending",
            SnapshotStatus::Aborting => "aborting",
            SnapshotStatus::Completed => "completed",
            SnapshotStatus::Aborted => "aborted",
            SnapshotStatus::Failed => "failed",
            SnapshotStatus::Expired => "expired",
        }
    }
}

/// Why a turn or an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AgentFinishReason {
    /// The model finished.
    Stop,
    /// Token limit.
    Length,
    /// Blocked by safety filters.
    Blocked,
    /// A tool interrupted (answer it with `AgentInput::respond`/`restart`).
    Interrupted,
    /// Something else.
    Other,
    /// Unknown.
    Unknown,
    /// Aborted.
    Aborted,
    /// Detached: running in the background.
    Detached,
    /// Failed (see `error`).
    Failed,
}

impl From<crate::types::FinishReason> for AgentFinishReason {
    fn from(r: crate::types::FinishReason) -> Self {
        use crate::types::FinishReason as F;
        match r {
            F::Stop => AgentFinishReason::Stop,
            F::Length => AgentFinishReason::Length,
            F::Blocked => AgentFinishReason::Blocked,
            F::Interrupted => AgentFinishReason::Interrupted,
            F::Other => AgentFinishReason::Other,
            F::Unknown => AgentFinishReason::Unknown,
        }
    }
}

/// An error as it travels in agent outputs and snapshots: `{status, message, details?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentError {
    /// Genkit status name (`NOT_FOUND`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The message.
    pub message: String,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl From<&Error> for AgentError {
    fn from(e: &Error) -> Self {
        AgentError {
            status: Some(e.status().name().to_string()),
            message: e.message().to_string(),
            details: e.details().cloned(),
        }
    }
}

impl From<&AgentError> for Error {
    fn from(e: &AgentError) -> Self {
        let status = e
            .status
            .as_deref()
            .and_then(Status::from_name)
            .unwrap_or(Status::Internal);
        let err = Error::new(status, e.message.clone());
        match &e.details {
            Some(d) => err.with_details(d.clone()),
            None => err,
        }
    }
}

/// One stored turn of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionSnapshot {
    /// Its id.
    pub snapshot_id: String,
    /// The session it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The snapshot it continues (`""` for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// ISO-8601 creation time.
    pub created_at: String,
    /// ISO-8601 time of the last write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// ISO-8601 time of the last heartbeat of a pending (detached) turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_at: Option<String>,
    /// Its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SnapshotStatus>,
    /// How the turn ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<AgentFinishReason>,
    /// The error of a failed turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AgentError>,
    /// The session state after the turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
}

impl SessionSnapshot {
    /// A snapshot with an id and the current time.
    pub fn new(snapshot_id: impl Into<String>) -> Self {
        SessionSnapshot {
            snapshot_id: snapshot_id.into(),
            session_id: None,
            parent_id: None,
            created_at: super::util::now_iso(),
            updated_at: None,
            heartbeat_at: None,
            status: None,
            finish_reason: None,
            error: None,
            state: None,
        }
    }

    /// The status (`completed` when unset, as stores fill it).
    pub fn status(&self) -> SnapshotStatus {
        self.status.unwrap_or(SnapshotStatus::Completed)
    }

    /// True for a `pending` snapshot whose last heartbeat (else its creation) is older
    /// than `expiry`: its detached turn is taken to be dead. It reads as `expired` and
    /// no longer holds its session's head.
    pub fn heartbeat_expired(&self, expiry: std::time::Duration) -> bool {
        if self.status() != SnapshotStatus::Pending {
            return false;
        }
        let beat = self
            .heartbeat_at
            .as_deref()
            .unwrap_or(self.created_at.as_str());
        let expiry_ms = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX);
        super::util::ms_from_iso(beat)
            .is_some_and(|b| super::util::now_ms().saturating_sub(b) > expiry_ms)
    }

    /// The parent id, `None` when empty.
    pub fn parent(&self) -> Option<&str> {
        self.parent_id.as_deref().filter(|p| !p.is_empty())
    }

    /// The session id (of the snapshot, else of its state).
    pub fn session(&self) -> Option<&str> {
        self.session_id
            .as_deref()
            .or_else(|| self.state.as_ref().and_then(|s| s.session_id.as_deref()))
            .filter(|s| !s.is_empty())
    }
}

/// The end of a turn, as streamed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TurnEnd {
    /// The snapshot the turn was saved as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// How the turn ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<AgentFinishReason>,
    /// When the turn ended `interrupted`: the interrupted `toolRequest` parts, to answer
    /// with [`AgentInput::respond`] / [`AgentInput::restart`] on the same connection
    /// (a genkit-rs addition; Genkit's clients ignore it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<Value>")]
    pub interrupts: Vec<Part>,
}

impl TurnEnd {
    /// The interrupted tool requests (empty unless the turn ended `interrupted`).
    pub fn interrupts(&self) -> &[Part] {
        &self.interrupts
    }
}

/// One streamed piece of an agent invocation: exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentStreamChunk {
    /// A chunk of the model's answer (or of a tool message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub model_chunk: Option<GenerateResponseChunk>,
    /// A JSON Patch (RFC 6902) of the custom state; the first of each turn is one
    /// `replace` at path `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_patch: Option<Vec<Value>>,
    /// An artifact added or replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The end of a turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_end: Option<TurnEnd>,
}

/// The result of an agent invocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentOutput {
    /// The session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The last snapshot (server-managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// The whole state (client-managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
    /// The last model message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub message: Option<Message>,
    /// The session's artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<Artifact>>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<AgentFinishReason>,
    /// The error of a failed invocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AgentError>,
}

impl AgentOutput {
    /// The text of the last model message.
    pub fn text(&self) -> String {
        self.message.as_ref().map(Message::text).unwrap_or_default()
    }
}

/// `/agent-snapshot/{name}` input: exactly one of `snapshotId`, `sessionId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct GetSnapshotRequest {
    /// A snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// A session (its latest snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Leave the state out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_only: Option<bool>,
}

impl GetSnapshotRequest {
    /// By snapshot id.
    pub fn snapshot(id: impl Into<String>) -> Self {
        GetSnapshotRequest {
            snapshot_id: Some(id.into()),
            ..Default::default()
        }
    }

    /// By session id.
    pub fn session(id: impl Into<String>) -> Self {
        GetSnapshotRequest {
            session_id: Some(id.into()),
            ..Default::default()
        }
    }
}

/// `/agent-abort/{name}` input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentAbortRequest {
    /// The snapshot of the detached turn.
    pub snapshot_id: String,
}

/// `/agent-abort/{name}` output: the status before the abort (`pending` = it stopped
/// running work; terminal = it had already ended; none = no such snapshot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AgentAbortResponse {
    /// The snapshot.
    pub snapshot_id: String,
    /// Its status before the abort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SnapshotStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &Messages) -> Vec<String> {
        m.iter().map(Message::text).collect()
    }

    fn same(a: &Messages, i: usize, b: &Messages, j: usize) -> bool {
        Arc::ptr_eq(&a.as_shared()[i], &b.as_shared()[j])
    }

    #[test]
    fn a_turn_shares_the_messages_it_continues() {
        let before: Messages = ["a", "b", "c"].map(Message::user).into_iter().collect();
        // The whole history plus the turn's two messages.
        let after = before.share_prefix(
            ["a", "b", "c", "d", "e"]
                .map(|t| Arc::new(Message::user(t)))
                .to_vec(),
        );
        assert_eq!(texts(&after), ["a", "b", "c", "d", "e"]);
        assert!((0..3).all(|i| same(&before, i, &after, i)));
        // A history limit dropped the first message.
        let limited =
            before.share_prefix(["b", "c", "d"].map(|t| Arc::new(Message::user(t))).to_vec());
        assert!(same(&before, 1, &limited, 0) && same(&before, 2, &limited, 1));
        // A rewritten message ends the sharing.
        let rewritten =
            before.share_prefix(["a", "x", "c"].map(|t| Arc::new(Message::user(t))).to_vec());
        assert!(same(&before, 0, &rewritten, 0));
        assert!(!same(&before, 2, &rewritten, 2));
        assert_eq!(texts(&rewritten), ["a", "x", "c"]);
    }

    #[test]
    fn serializes_as_a_vec_of_messages() {
        let v = vec![Message::user("hi"), Message::model("hello")];
        let m: Messages = v.clone().into();
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            serde_json::to_string(&v).expect("json")
        );
        let back: Messages =
            serde_json::from_str(&serde_json::to_string(&v).expect("json")).expect("parses");
        assert_eq!(back, v);
        let state = SessionState {
            messages: Messages::new(),
            ..Default::default()
        };
        assert_eq!(serde_json::to_string(&state).expect("json"), "{}");
    }
}
