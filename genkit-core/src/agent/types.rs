//! The agent wire types, camelCase exactly as Genkit writes them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Status};
use crate::types::{GenerateResponseChunk, Message, Metadata, Part, Resume};

use super::messages::Messages;

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
