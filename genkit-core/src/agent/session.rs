//! The running session as tools see it: custom state and artifacts.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::types::{AgentStreamChunk, Artifact};
use crate::error::Result;

tokio::task_local! {
    static CURRENT: Session;
}

#[derive(Default)]
struct Shared {
    session_id: Option<String>,
    custom: Option<Value>,
    artifacts: Vec<Artifact>,
    /// customPatch / artifact chunks not streamed yet.
    events: Vec<AgentStreamChunk>,
}

/// The session of the agent turn running on this task: tools read and change the
/// agent's custom state and artifacts through it, and each change is streamed
/// (`customPatch`, `artifact`) and saved with the turn.
///
/// ```no_run
/// # use genkit_core::agent::current_session;
/// # fn demo() -> genkit_core::Result<()> {
/// if let Some(session) = current_session() {
///     session.update_custom(|count: Option<u32>| count.unwrap_or(0) + 1)?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Session {
    shared: Arc<Mutex<Shared>>,
}

/// The session of the agent turn running on this task (inside a tool called by an
/// agent), if any.
pub fn current_session() -> Option<Session> {
    CURRENT.try_with(Session::clone).ok()
}

impl Session {
    pub(crate) fn new(
        session_id: Option<String>,
        custom: Option<Value>,
        artifacts: Vec<Artifact>,
    ) -> Self {
        Session {
            shared: Arc::new(Mutex::new(Shared {
                session_id,
                custom,
                artifacts,
                events: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `fut` with this session as the current one (not an `async fn`, which would hold
    /// `fut` twice).
    pub(crate) fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<F> {
        CURRENT.scope(self.clone(), fut)
    }

    /// The session id.
    pub fn id(&self) -> Option<String> {
        self.lock().session_id.clone()
    }

    /// The custom state as JSON.
    pub fn custom_json(&self) -> Option<Value> {
        self.lock().custom.clone()
    }

    /// The custom state as `T` (`None` when unset); INVALID_ARGUMENT when it does not fit.
    pub fn custom<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        match self.custom_json() {
            None | Some(Value::Null) => Ok(None),
            Some(v) => crate::types::from_value(v).map(Some),
        }
    }

    /// Replaces the custom state (streamed as a `customPatch`).
    pub fn set_custom<T: Serialize>(&self, value: &T) -> Result<()> {
        let v = serde_json::to_value(value)?;
        let mut s = self.lock();
        s.custom = Some(v.clone());
        s.events.push(AgentStreamChunk {
            custom_patch: Some(vec![json!({"op": "replace", "path": "", "value": v})]),
            ..Default::default()
        });
        Ok(())
    }

    /// Updates the custom state with `f`.
    pub fn update_custom<T: Serialize + DeserializeOwned>(
        &self,
        f: impl FnOnce(Option<T>) -> T,
    ) -> Result<()> {
        let next = f(self.custom::<T>()?);
        self.set_custom(&next)
    }

    /// Adds an artifact, replacing one with the same name (streamed as `artifact`).
    pub fn add_artifact(&self, artifact: Artifact) {
        let mut s = self.lock();
        s.events.push(AgentStreamChunk {
            artifact: Some(artifact.clone()),
            ..Default::default()
        });
        let mut state = super::types::SessionState {
            artifacts: std::mem::take(&mut s.artifacts),
            ..Default::default()
        };
        state.put_artifact(artifact);
        s.artifacts = state.artifacts;
    }

    /// The session's artifacts.
    pub fn artifacts(&self) -> Vec<Artifact> {
        self.lock().artifacts.clone()
    }

    pub(crate) fn take_events(&self) -> Vec<AgentStreamChunk> {
        std::mem::take(&mut self.lock().events)
    }

    pub(crate) fn parts(&self) -> (Option<Value>, Vec<Artifact>) {
        let s = self.lock();
        (s.custom.clone(), s.artifacts.clone())
    }

    pub(crate) fn restore(&self, custom: Option<Value>, artifacts: Vec<Artifact>) {
        let mut s = self.lock();
        s.custom = custom;
        s.artifacts = artifacts;
        s.events.clear();
    }
}
