//! Running an action for the CLI or the Dev UI: the same for reflection v1 (HTTP) and v2
//! (WebSocket). The trace and span ids are chosen before the action starts, so they
//! can be announced (headers, `runActionState`) before its first chunk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::action::{ActionRef, RunOptions};
use crate::error::{Error, Result, Status};
use crate::genkit::Genkit;
use crate::telemetry::{RootIds, with_root_ids};

/// The message of a cancelled run, as the JS runtime words it.
pub(crate) const CANCELLED_MESSAGE: &str = "Action was cancelled";

/// Runs in flight, by trace id, for `cancelAction`.
#[derive(Default)]
pub(crate) struct ActiveRuns {
    runs: Mutex<HashMap<String, AbortHandle>>,
}

impl ActiveRuns {
    /// Cancels the run of `trace_id`; false if there is none.
    pub fn cancel(&self, trace_id: &str) -> bool {
        let handle = self
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(trace_id);
        match handle {
            Some(h) => {
                h.abort();
                true
            }
            None => false,
        }
    }

    fn insert(&self, trace_id: &str, handle: AbortHandle) {
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(trace_id.to_owned(), handle);
    }

    fn remove(&self, trace_id: &str) {
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(trace_id);
    }
}

/// A started run: its ids, its chunks (streamed runs) and its outcome.
pub(crate) struct Started {
    pub ids: RootIds,
    pub chunks: Option<mpsc::Receiver<Value>>,
    pub outcome: oneshot::Receiver<Result<Value>>,
}

/// What a run request names.
pub(crate) struct RunRequest {
    pub key: String,
    pub input: Value,
    pub context: Option<Value>,
    pub stream: bool,
}

impl RunRequest {
    /// Reads `{key, input?, context?}`; `stream` comes from elsewhere (query or params).
    pub fn from_json(body: &Value, stream: bool) -> Result<RunRequest> {
        let key = body
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_argument("runAction needs a string `key`"))?;
        Ok(RunRequest {
            key: key.to_owned(),
            input: body.get("input").cloned().unwrap_or(Value::Null),
            context: body.get("context").filter(|c| !c.is_null()).cloned(),
            stream,
        })
    }
}

/// Starts `action` on its own task under fresh root ids.
pub(crate) fn start(
    ai: Genkit,
    action: ActionRef,
    req: RunRequest,
    active: &Arc<ActiveRuns>,
) -> Started {
    let ids = RootIds::new();
    let (chunk_tx, chunk_rx) = if req.stream {
        let (tx, rx) = mpsc::channel(64);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let opts = RunOptions {
        chunks: chunk_tx,
        context: Some(Arc::new(req.context.unwrap_or_else(|| json!({})))),
    };
    let (out_tx, out_rx) = oneshot::channel();
    let run = with_root_ids(ids.clone(), action.run_json(ai, req.input, opts));
    let task = tokio::spawn(run);
    let trace_id = ids.trace_id.clone();
    active.insert(&trace_id, task.abort_handle());
    let active = Arc::clone(active);
    tokio::spawn(async move {
        let outcome = match task.await {
            Ok(r) => r,
            Err(e) if e.is_cancelled() => Err(Error::new(Status::Cancelled, CANCELLED_MESSAGE)),
            Err(e) => Err(Error::internal(format!("the action panicked: {e}"))),
        };
        active.remove(&trace_id);
        // As the JS runtime: the trace is exported before the result is answered, so
        // `genkit trace:get <id>` right after finds it (bounded: a slow telemetry
        // server never holds the answer back for long).
        let _ = tokio::time::timeout(Duration::from_secs(2), crate::telemetry::flush()).await;
        let _ = out_tx.send(outcome);
    });
    Started {
        ids,
        chunks: chunk_rx,
        outcome: out_rx,
    }
}

/// `{"result": .., "telemetry": {"traceId": ..}}`.
pub(crate) fn result_json(result: Value, trace_id: &str) -> Value {
    json!({"result": result, "telemetry": {"traceId": trace_id}})
}

/// The reflection error status `{code, message, details: {stack, traceId?}}`.
pub(crate) fn status_json(err: &Error, trace_id: Option<&str>) -> Value {
    let cancelled = err.status() == Status::Cancelled && err.message() == CANCELLED_MESSAGE;
    let message = if cancelled {
        CANCELLED_MESSAGE.to_owned()
    } else {
        err.to_string()
    };
    let mut details = Map::new();
    details.insert("stack".into(), Value::from(stack(err)));
    if let Some(t) = trace_id {
        details.insert("traceId".into(), Value::from(t));
    }
    json!({"code": err.status().code(), "message": message, "details": details})
}

/// `{"error": status_json}`.
pub(crate) fn error_json(err: &Error, trace_id: Option<&str>) -> Value {
    json!({ "error": status_json(err, trace_id) })
}

/// What the Dev UI shows as the stack: the error and its chain of sources.
fn stack(err: &Error) -> String {
    let mut s = format!("Error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        s.push_str("\n    caused by: ");
        s.push_str(&e.to_string());
        source = e.source();
    }
    if let Some(d) = err.details() {
        s.push_str("\n    details: ");
        s.push_str(&d.to_string());
    }
    s
}
