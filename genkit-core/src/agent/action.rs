//! The registered actions: `/agent/{name}`, `/agent-snapshot/{name}`,
//! `/agent-abort/{name}`.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::runtime::Sink;
use super::types::{
    AgentAbortRequest, AgentAbortResponse, AgentInit, AgentInput, AgentOutput, AgentStreamChunk,
    GetSnapshotRequest, SessionSnapshot,
};
use super::{Agent, AgentInner};
use crate::action::{Action, ActionDesc, ActionKind, RunOptions};
use crate::error::{Error, Result};
use crate::genkit::Genkit;
use crate::schema::schema_of;
use crate::types::from_value;

#[derive(Clone, Copy)]
enum Kind {
    Run,
    Snapshot,
    Abort,
}

struct AgentAction {
    desc: ActionDesc,
    inner: Arc<AgentInner>,
    kind: Kind,
}

pub(super) fn register(
    ai: &Genkit,
    inner: &Arc<AgentInner>,
    description: Option<String>,
    mut metadata: Map<String, Value>,
) -> Result<()> {
    let name = inner.name.clone();
    let mut agent_meta = Map::new();
    agent_meta.insert(
        "stateManagement".into(),
        Value::from(if inner.store.is_some() {
            "server"
        } else {
            "client"
        }),
    );
    if let Some(s) = &inner.state_schema {
        agent_meta.insert("stateSchema".into(), (**s).clone());
    }
    metadata.insert("agent".into(), Value::Object(agent_meta));
    metadata.insert("bidi".into(), Value::Bool(true));
    metadata.insert("initSchema".into(), (*schema_of::<AgentInit>()).clone());
    let mut desc = ActionDesc::new(ActionKind::Agent, name.clone()).with_schemas(
        Some((*schema_of::<AgentInput>()).clone()),
        Some((*schema_of::<AgentOutput>()).clone()),
    );
    desc.stream_schema = Some((*schema_of::<AgentStreamChunk>()).clone());
    desc.metadata = metadata;
    if let Some(d) = description {
        desc = desc.with_description(d);
    }
    let registry = ai.registry();
    registry.register_action(Arc::new(AgentAction {
        desc,
        inner: inner.clone(),
        kind: Kind::Run,
    }))?;
    if inner.store.is_some() {
        let snap = ActionDesc::new(ActionKind::AgentSnapshot, name.clone())
            .with_schemas(
                Some((*schema_of::<GetSnapshotRequest>()).clone()),
                Some((*schema_of::<SessionSnapshot>()).clone()),
            )
            .with_description(format!(
                "Gets snapshot data for {name} by snapshotId or sessionId"
            ));
        registry.register_action(Arc::new(AgentAction {
            desc: snap,
            inner: inner.clone(),
            kind: Kind::Snapshot,
        }))?;
        let abort = ActionDesc::new(ActionKind::AgentAbort, name.clone())
            .with_schemas(
                Some((*schema_of::<AgentAbortRequest>()).clone()),
                Some((*schema_of::<AgentAbortResponse>()).clone()),
            )
            .with_description(format!("Aborts {name} agent by snapshotId"));
        registry.register_action(Arc::new(AgentAction {
            desc: abort,
            inner: inner.clone(),
            kind: Kind::Abort,
        }))?;
    }
    Ok(())
}

/// The input of a JSON run of `/agent/{name}`: an `AgentInput`, or an envelope
/// `{init?, input?|data?}` carrying the init too (Genkit's reflection sends `init`
/// beside `input`).
fn split_input(input: Value) -> Result<(AgentInit, AgentInput)> {
    let is_envelope = input.as_object().is_some_and(|o| {
        !o.is_empty()
            && o.keys()
                .all(|k| matches!(k.as_str(), "init" | "input" | "data"))
    });
    if !is_envelope {
        return Ok((AgentInit::default(), from_value(input)?));
    }
    let Value::Object(mut o) = input else {
        return Err(Error::invalid_argument("agent input must be an object"));
    };
    let init = match o.remove("init") {
        None | Some(Value::Null) => AgentInit::default(),
        Some(v) => from_value(v)?,
    };
    let input = match o.remove("input").or_else(|| o.remove("data")) {
        None | Some(Value::Null) => AgentInput::default(),
        Some(v) => from_value(v)?,
    };
    Ok((init, input))
}

impl Action for AgentAction {
    fn desc(&self) -> &ActionDesc {
        &self.desc
    }

    fn run_json(
        &self,
        ai: Genkit,
        input: Value,
        opts: RunOptions,
    ) -> BoxFuture<'static, Result<Value>> {
        let agent = Agent {
            inner: self.inner.clone(),
            ai,
        };
        let kind = self.kind;
        Box::pin(async move {
            match kind {
                Kind::Run => {
                    let (mut init, input) = split_input(input)?;
                    if agent.has_store() {
                        // As Genkit's reflection runs: a server-managed run ignores
                        // client state.
                        init.state = None;
                    }
                    let sink = opts.chunks.map(Sink::Json).unwrap_or(Sink::None);
                    let out = agent.run_with_sink(init, input, sink, opts.context).await?;
                    Ok(serde_json::to_value(out)?)
                }
                Kind::Snapshot => {
                    let req: GetSnapshotRequest = from_value(input)?;
                    let target = req
                        .snapshot_id
                        .clone()
                        .or_else(|| req.session_id.clone())
                        .unwrap_or_else(|| "unknown".into());
                    match agent.get_snapshot(req).await? {
                        Some(s) => Ok(serde_json::to_value(s)?),
                        None => Err(Error::not_found(format!(
                            "Snapshot '{target}' not found for agent '{}'.",
                            agent.name()
                        ))
                        .with_details(json!({"reason": "SNAPSHOT_NOT_FOUND"}))),
                    }
                }
                Kind::Abort => {
                    let req: AgentAbortRequest = from_value(input)?;
                    Ok(serde_json::to_value(agent.abort(&req.snapshot_id).await?)?)
                }
            }
        })
    }
}
