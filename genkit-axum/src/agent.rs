//! Agents over HTTP, as genkit-fastapi's `serve_agent`: `POST <base>` runs a turn
//! (`{data: AgentInput, init?: AgentInit}`), and with a store `POST <base>/getSnapshot`
//! and `POST <base>/abort`. The JS `remoteAgent` client (`genkit/beta/client`) talks to
//! these routes.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use genkit_core::agent::{Agent, AgentInit, AgentInput, AgentStreamChunk, GetSnapshotRequest};
use genkit_core::types::from_value;
use genkit_core::{Error, Result};
use serde_json::{Map, Value};

use crate::error::error_response_with;
use crate::flow::{Prepared, prepare};
use crate::options::ServeOptions;
use crate::run;

/// A Router serving `agent` at `/<agent name>` (serve_agent's default base path), with
/// default options: `POST /<name>` runs a turn (streaming on `Accept:
/// text/event-stream` or `?stream=true`), and when the agent has a store
/// `POST /<name>/getSnapshot` and `POST /<name>/abort`.
///
/// ```no_run
/// # fn demo(agent: genkit_core::agent::Agent) {
/// let app: axum::Router = axum::Router::new().merge(genkit_axum::agent(agent));
/// # }
/// ```
pub fn agent<S: Clone + Send + Sync + 'static>(agent: Agent) -> Router<S> {
    let base = format!("/{}", agent.name());
    agent_with(agent, &base, ServeOptions::default())
}

/// [`agent`] at another base path (`"/chat"`), with options.
pub fn agent_with<S: Clone + Send + Sync + 'static>(
    agent: Agent,
    base_path: &str,
    opts: ServeOptions,
) -> Router<S> {
    let base = format!("/{}", base_path.trim_matches('/'));
    let shared = Arc::new((agent, opts));
    let s = shared.clone();
    let mut router = Router::new().route(
        &base,
        axum::routing::post(move |req: Request| {
            let s = s.clone();
            async move { turn(&s.0, &s.1, req).await }
        }),
    );
    if shared.0.has_store() {
        let s = shared.clone();
        router = router.route(
            &format!("{base}/getSnapshot"),
            axum::routing::post(move |req: Request| {
                let s = s.clone();
                async move { get_snapshot(&s.0, &s.1, req).await }
            }),
        );
        let s = shared;
        router = router.route(
            &format!("{base}/abort"),
            axum::routing::post(move |req: Request| {
                let s = s.clone();
                async move { abort(&s.0, &s.1, req).await }
            }),
        );
    }
    router
}

fn bad_request(e: &Error) -> Response {
    error_response_with(StatusCode::BAD_REQUEST, e)
}

/// The session id of `?session_id=` or `?thread_id=`.
fn query_session(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (matches!(k, "session_id" | "thread_id") && !v.is_empty()).then(|| v.to_string())
    })
}

/// The input and init of a turn body: `{data|input: AgentInput, init?}`, the shorthand
/// `{message: "text"}`, a bare `{snapshotId|sessionId}`, or `{}`.
fn turn_body(mut env: Map<String, Value>) -> Result<(AgentInput, AgentInit)> {
    let mut init: AgentInit = match env.remove("init") {
        None | Some(Value::Null) => AgentInit::default(),
        Some(v) => from_value(v).map_err(|e| prefixed("init", e))?,
    };
    let data = env.remove("data").or_else(|| env.remove("input"));
    let input = match data {
        Some(Value::String(text)) => AgentInput::text(text),
        Some(Value::Null) => AgentInput::default(),
        Some(v) => from_value(v).map_err(|e| prefixed("data", e))?,
        None => {
            let session = env.remove("sessionId");
            let snapshot = env.remove("snapshotId");
            if session.is_some() || snapshot.is_some() {
                if init.session_id.is_none() && init.snapshot_id.is_none() {
                    init.session_id = session.and_then(|v| v.as_str().map(String::from));
                    init.snapshot_id = snapshot.and_then(|v| v.as_str().map(String::from));
                }
                if !env.is_empty() {
                    return Err(Error::invalid_argument(
                        "the request body must be {\"data\": <AgentInput>, \"init\"?: <AgentInit>}",
                    ));
                }
                AgentInput::default()
            } else if let Some(Value::String(text)) = env.get("message") {
                let input = AgentInput::text(text.clone());
                env.remove("message");
                input
            } else if env
                .keys()
                .any(|k| matches!(k.as_str(), "message" | "resume" | "detach"))
            {
                from_value(Value::Object(std::mem::take(&mut env)))?
            } else if env.is_empty() {
                AgentInput::default()
            } else {
                return Err(Error::invalid_argument(
                    "the request body must be {\"data\": <AgentInput>, \"init\"?: <AgentInit>}",
                ));
            }
        }
    };
    Ok((input, init))
}

fn prefixed(field: &str, e: Error) -> Error {
    Error::invalid_argument(format!("{field}: {}", e.message()))
}

async fn read(
    req: Request,
    opts: &ServeOptions,
) -> std::result::Result<(Prepared, Option<String>), Response> {
    let session = query_session(req.uri().query());
    let prepared = prepare(
        req,
        opts,
        |env| {
            env.get("data")
                .or_else(|| env.get("input"))
                .cloned()
                .unwrap_or(Value::Null)
        },
        |_, _| {},
    )
    .await?;
    Ok((prepared, session))
}

fn owned(context: Option<Arc<Value>>) -> Option<Value> {
    context.map(|c| Arc::try_unwrap(c).unwrap_or_else(|c| (*c).clone()))
}

async fn turn(agent: &Agent, opts: &ServeOptions, req: Request) -> Response {
    let (prepared, session) = match read(req, opts).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let (input, mut init) = match turn_body(prepared.envelope) {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    if init.session_id.is_none() && session.is_some() {
        init.session_id = session;
    }
    let context = owned(prepared.context);
    let agent = agent.clone();
    if prepared.streaming {
        run::respond_stream::<AgentStreamChunk, _, _>(opts.clone(), move |tx| {
            Box::pin(async move { agent.run(init, input, Some(tx), context).await })
        })
    } else {
        // Boxed: an agent run is a large future, kept off the stack.
        let fut = Box::pin(async move { agent.run(init, input, None, context).await });
        run::respond_json(fut, opts).await
    }
}

/// `data` of a getSnapshot / abort body: an object, or a bare snapshot id.
fn lookup(mut env: Map<String, Value>) -> Result<GetSnapshotRequest> {
    match env.remove("data").or_else(|| env.remove("input")) {
        Some(Value::String(id)) => Ok(GetSnapshotRequest::snapshot(id)),
        Some(v @ Value::Object(_)) => from_value(v).map_err(|e| prefixed("data", e)),
        None if env.contains_key("snapshotId") || env.contains_key("sessionId") => {
            from_value(Value::Object(env))
        }
        _ => Err(Error::invalid_argument(
            "the request body must be {\"data\": {\"snapshotId\": <id>} | {\"sessionId\": <id>}}",
        )),
    }
}

async fn get_snapshot(agent: &Agent, opts: &ServeOptions, req: Request) -> Response {
    let (prepared, _) = match read(req, opts).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let request = match lookup(prepared.envelope) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    match run::guarded(Box::pin(agent.get_snapshot(request)), opts).await {
        Ok(Some(snapshot)) => run::respond_json(async { Ok(snapshot) }, opts).await,
        // As serve_agent: a snapshot that does not exist is a bare 404.
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => run::respond_error(&e),
    }
}

async fn abort(agent: &Agent, opts: &ServeOptions, req: Request) -> Response {
    let (prepared, _) = match read(req, opts).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let id = match lookup(prepared.envelope) {
        Ok(GetSnapshotRequest {
            snapshot_id: Some(id),
            ..
        }) if !id.trim().is_empty() => id,
        Ok(_) => return bad_request(&Error::invalid_argument("abort needs data.snapshotId")),
        Err(e) => return bad_request(&e),
    };
    run::respond_json(Box::pin(agent.abort(&id)), opts).await
}
