//! Resuming an interrupted generation: `resume.respond` answers interrupted tool
//! requests, `resume.restart` runs them again; completed ones keep their pending output.

use std::sync::Arc;

use futures::future::try_join_all;
use serde_json::{Map, Value};

use super::tool_loop::{Outcome, Turns, run_one};
use crate::error::{Error, Result};
use crate::types::{Message, Part, Resume, Role, ToolRequest, is_falsy};

fn same_call(req: &ToolRequest, name: &str, r#ref: &Option<String>) -> bool {
    req.name == name && &req.r#ref == r#ref
}

/// Resolves every tool request of the last (model) message and returns the tool
/// message to append.
pub(crate) async fn resolve(
    turns: &Turns<'_>,
    messages: &mut [Arc<Message>],
    resume: Resume,
) -> Result<Message> {
    let Some(last) = messages
        .last_mut()
        .filter(|m| m.role == Role::Model && m.content.iter().any(|p| p.tool_request.is_some()))
        .map(Arc::make_mut)
    else {
        return Err(Error::failed_precondition(
            "Cannot 'resume' generation unless the previous message is a model message with at least one tool request.",
        ));
    };
    let respond = resume.respond.unwrap_or_default();
    let restart = resume.restart.unwrap_or_default();
    let requested = last
        .content
        .iter()
        .filter(|p| p.tool_request.is_some())
        .count();

    let mut used_respond = vec![false; respond.len()];
    let mut used_restart = vec![false; restart.len()];
    let mut responses: Vec<Part> = Vec::new();
    let mut restarts: Vec<Part> = Vec::new();
    for part in last.content.iter_mut() {
        let Some(req) = part.tool_request.clone() else {
            continue;
        };
        let meta = part.metadata.get_or_insert_with(Box::default);
        // a. a completed call's pending output
        if let Some(pending) = meta.get("pendingOutput").filter(|v| !is_falsy(v)).cloned() {
            meta.remove("pendingOutput");
            let mut rest = meta.clone();
            rest.insert("source".into(), Value::from("pending"));
            let mut p = Part::tool_response(req.name.clone(), req.r#ref.clone(), pending);
            p.metadata = Some(rest);
            responses.push(p);
            continue;
        }
        // b. an answer from the caller
        if let Some(answer) = pick(&respond, &mut used_respond, |p| {
            p.tool_response
                .as_ref()
                .is_some_and(|r| r.name == req.name && r.r#ref == req.r#ref)
        }) {
            mark_resolved(meta);
            responses.push(answer.clone());
            continue;
        }
        // c. a restart
        if let Some(again) = pick(&restart, &mut used_restart, |p| {
            p.tool_request
                .as_ref()
                .is_some_and(|r| same_call(r, &req.name, &req.r#ref))
        }) {
            mark_resolved(meta);
            restarts.push(again.clone());
            continue;
        }
        // d. nothing
        let label = match &req.r#ref {
            Some(r) => format!("{}#{r}", req.name),
            None => req.name.clone(),
        };
        return Err(Error::invalid_argument(format!(
            "Unresolved tool request '{label}' was not handled by the 'resume' argument. You must supply replies or restarts for all interrupted tool requests.'"
        )));
    }

    let rerun = try_join_all(
        restarts
            .iter()
            .map(|p| run_one(turns, p, p.metadata.as_deref().cloned())),
    )
    .await?;
    for outcome in rerun {
        match outcome {
            Outcome::Done(response) => responses.push(*response),
            Outcome::Interrupt(_) => {
                return Err(Error::failed_precondition(
                    "One or more tools triggered an interrupt during a restarted execution.",
                ));
            }
            Outcome::Skip => {}
        }
    }
    if responses.len() != requested {
        return Err(Error::failed_precondition(format!(
            "Expected {requested} tool responses but resolved to {}.",
            responses.len()
        )));
    }
    let mut meta = Map::new();
    meta.insert(
        "resumed".into(),
        resume
            .metadata
            .map(Value::Object)
            .unwrap_or(Value::Bool(true)),
    );
    Ok(Message {
        role: Role::Tool,
        content: responses,
        metadata: Some(meta),
    })
}

/// The first entry that `matches` and was not used yet, else the first that matches
/// (Genkit matches by name and ref only, so calls without a ref of one tool would all
/// get the first answer; answers are given out in order instead).
fn pick<'p>(
    entries: &'p [Part],
    used: &mut [bool],
    matches: impl Fn(&Part) -> bool,
) -> Option<&'p Part> {
    let fresh = entries
        .iter()
        .enumerate()
        .position(|(i, p)| !used[i] && matches(p));
    let i = fresh.or_else(|| entries.iter().position(&matches))?;
    used[i] = true;
    Some(&entries[i])
}

/// Moves `interrupt` to `resolvedInterrupt`; a request that never interrupted gets
/// no mark (its metadata stays, possibly `{}`, as in Genkit).
fn mark_resolved(meta: &mut Map<String, Value>) {
    if let Some(old) = meta.remove("interrupt") {
        meta.insert("resolvedInterrupt".into(), old);
    }
}
