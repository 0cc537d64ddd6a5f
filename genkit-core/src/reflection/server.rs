//! Reflection API v1: the HTTP server the CLI and the Dev UI call.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::run::{self, ActiveRuns, RunRequest};
use super::runtime_file::{RuntimeFile, RuntimeInfo};
use super::{GenkitSlot, Lifecycle, ReflectionOptions};
use crate::error::{Error, Result};
use crate::genkit::Genkit;

/// The first port tried, and the last, when none is configured (as the JS runtime).
const PORT_RANGE: std::ops::RangeInclusive<u16> = 3100..=3200;
/// Request bodies up to 30 MB (as the JS runtime).
const BODY_LIMIT: usize = 30 * 1024 * 1024;

/// A running server.
#[derive(Debug)]
pub(crate) struct Running {
    pub url: String,
    pub port: u16,
    pub runtime_id: String,
    pub runtime_file: Option<PathBuf>,
    pub file_handle: Option<Arc<RuntimeFile>>,
    pub lifecycle: Arc<Lifecycle>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle").finish_non_exhaustive()
    }
}

struct AppState {
    slot: Arc<GenkitSlot>,
    runtime_id: String,
    active: Arc<ActiveRuns>,
    lifecycle: Arc<Lifecycle>,
}

type Shared = Arc<AppState>;

async fn bind(port: Option<u16>) -> Result<TcpListener> {
    let port = port.or_else(|| {
        std::env::var("GENKIT_REFLECTION_PORT")
            .ok()
            .and_then(|p| p.trim().parse().ok())
    });
    if let Some(p) = port {
        return Ok(TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, p))).await?);
    }
    let mut last = None;
    for p in PORT_RANGE {
        match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, p))).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Error::from(e),
        None => Error::unavailable("no free port for the reflection API"),
    })
}

/// Binds, writes the runtime file once listening, and serves until stopped.
pub(crate) async fn spawn(
    slot: Arc<GenkitSlot>,
    options: ReflectionOptions,
    lifecycle: Arc<Lifecycle>,
) -> Result<Running> {
    let listener = bind(options.port).await?;
    let port = listener.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let runtime_id = options
        .runtime_id
        .or_else(|| {
            std::env::var("GENKIT_RUNTIME_ID")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| format!("{}-{port}", std::process::id()));
    let state = Arc::new(AppState {
        slot,
        runtime_id: runtime_id.clone(),
        active: Arc::default(),
        lifecycle: Arc::clone(&lifecycle),
    });
    let app = router(state);
    let file = match &options.project_root {
        Some(root) => Some(Arc::new(RuntimeFile::write(
            root,
            &RuntimeInfo {
                id: &runtime_id,
                name: options.name.as_deref(),
                url: &url,
                port,
            },
        )?)),
        None => None,
    };
    let task_file = file.clone();
    let task_lifecycle = Arc::clone(&lifecycle);
    tokio::spawn(async move {
        let stop = Arc::clone(&task_lifecycle);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.stop_requested().await })
            .await;
        if let Err(e) = served {
            tracing::warn!(target: "genkit", "reflection API stopped: {e}");
        }
        if let Some(f) = task_file {
            f.remove();
        }
        task_lifecycle.mark_stopped();
    });
    if let Some(f) = &file {
        tokio::spawn(announce_until_found(Arc::clone(f), Arc::clone(&lifecycle)));
    }
    Ok(Running {
        url,
        port,
        runtime_id,
        runtime_file: file.as_ref().map(|f| f.path().to_path_buf()),
        file_handle: file,
        lifecycle,
    })
}

/// How long to wait for a CLI's `/api/notify` before writing the runtime file again.
const ANNOUNCE_AFTER: [std::time::Duration; 5] = [
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(3),
    std::time::Duration::from_secs(5),
    std::time::Duration::from_secs(10),
    std::time::Duration::from_secs(20),
];

/// Re-creates the runtime file a few times, with growing pauses, until a CLI notifies
/// this runtime or it stops: a CLI started at the same moment as the runtime can miss
/// the file's creation (see [`RuntimeFile::announce_again`]). A runtime no CLI is
/// looking for rewrites its file five times in the first 40 s, then never again; a CLI
/// started later finds the file by reading the directory.
async fn announce_until_found(file: Arc<RuntimeFile>, lifecycle: Arc<Lifecycle>) {
    for pause in ANNOUNCE_AFTER {
        tokio::select! {
            () = lifecycle.notified() => return,
            () = lifecycle.stop_requested() => return,
            () = tokio::time::sleep(pause) => file.announce_again(),
        }
    }
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/api/__health", get(health))
        .route("/api/__quitquitquit", get(quit))
        .route("/api/actions", get(actions))
        .route("/api/values", get(values))
        .route("/api/envs", get(envs))
        .route("/api/notify", post(notify))
        .route("/api/runAction", post(run_action))
        .route("/api/cancelAction", post(cancel_action))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(super::guard::guard))
        .layer(axum::middleware::map_response(version_header))
        .with_state(state)
}

async fn version_header(mut res: Response) -> Response {
    res.headers_mut().insert(
        HeaderName::from_static("x-genkit-version"),
        HeaderValue::from_static(super::genkit_version()),
    );
    res
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn instance(state: &AppState) -> std::result::Result<Genkit, Box<Response>> {
    state.slot.get().ok_or_else(|| {
        Box::new(text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the Genkit instance is shutting down",
        ))
    })
}

#[derive(Deserialize)]
struct IdQuery {
    id: Option<String>,
}

async fn health(State(state): State<Shared>, Query(q): Query<IdQuery>) -> Response {
    match q.id {
        Some(id) if id != state.runtime_id => {
            text(StatusCode::SERVICE_UNAVAILABLE, "Invalid runtime ID")
        }
        _ => text(StatusCode::OK, "OK"),
    }
}

async fn quit(State(state): State<Shared>) -> Response {
    state.lifecycle.request_stop();
    text(StatusCode::OK, "OK")
}

/// `/api/actions`: every registered action and every model and embedder the plugins
/// list, keyed by its key.
/// A plugin's listing ([`Plugin::list_actions`](crate::Plugin::list_actions)) is waited
/// for at most 5 s and kept 5 min; on an error or a timeout its fixed list is shown.
pub(crate) async fn list_actions(ai: &Genkit) -> Value {
    let mut out = Map::new();
    for desc in ai.registry().list_listed().await {
        out.insert(desc.key.clone(), desc.to_json());
    }
    Value::Object(out)
}

/// `/api/values?type=`: `defaultModel` or `middleware`; another type is an error.
pub(crate) fn list_values(ai: &Genkit, kind: &str) -> Option<Value> {
    let mut out = Map::new();
    match kind {
        "defaultModel" => {
            // As the JS runtime: the model reference `{name}`.
            if let Some(m) = ai.default_model() {
                out.insert("defaultModel".into(), json!({ "name": m }));
            }
        }
        "middleware" => {
            for m in ai.registry().list_middleware() {
                let desc = m.desc_json();
                let name = desc
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                out.insert(name, desc);
            }
        }
        _ => return None,
    }
    Some(Value::Object(out))
}

async fn actions(State(state): State<Shared>) -> Response {
    match instance(&state) {
        Ok(ai) => json_response(StatusCode::OK, &list_actions(&ai).await),
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
struct TypeQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn values(State(state): State<Shared>, Query(q): Query<TypeQuery>) -> Response {
    let ai = match instance(&state) {
        Ok(ai) => ai,
        Err(r) => return *r,
    };
    let Some(kind) = q.kind else {
        return text(
            StatusCode::BAD_REQUEST,
            "Query parameter \"type\" is required.",
        );
    };
    match list_values(&ai, &kind) {
        Some(v) => json_response(StatusCode::OK, &v),
        None => text(
            StatusCode::BAD_REQUEST,
            format!(
                "'type' {kind} is not supported. Only 'defaultModel' and 'middleware' are supported"
            ),
        ),
    }
}

async fn envs() -> Response {
    json_response(StatusCode::OK, &json!(["dev"]))
}

/// Sets the telemetry server from the CLI, unless `GENKIT_TELEMETRY_SERVER` is set.
pub(crate) fn configure_telemetry(url: Option<&str>) {
    if let Some(url) = url.filter(|u| !u.is_empty())
        && std::env::var_os("GENKIT_TELEMETRY_SERVER").is_none_or(|v| v.is_empty())
    {
        crate::telemetry::set_server_url(url);
    }
}

async fn notify(State(state): State<Shared>, body: Bytes) -> Response {
    state.lifecycle.mark_notified();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    configure_telemetry(body.get("telemetryServerUrl").and_then(Value::as_str));
    if let Some(v) = body.get("reflectionApiSpecVersion").and_then(Value::as_u64)
        && v != u64::from(super::SPEC_VERSION)
    {
        tracing::warn!(
            target: "genkit",
            "the Genkit CLI speaks reflection API {v}, this runtime {}: update one of them",
            super::SPEC_VERSION
        );
    }
    text(StatusCode::OK, "OK")
}

async fn cancel_action(State(state): State<Shared>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(trace_id) = body.get("traceId").and_then(Value::as_str) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "traceId is required"}),
        );
    };
    if state.active.cancel(trace_id) {
        json_response(StatusCode::OK, &json!({"message": "Action cancelled"}))
    } else {
        json_response(
            StatusCode::NOT_FOUND,
            &json!({"message": "Action not found or already completed"}),
        )
    }
}

#[derive(Deserialize)]
struct StreamQuery {
    stream: Option<String>,
}

async fn run_action(
    State(state): State<Shared>,
    Query(q): Query<StreamQuery>,
    body: Bytes,
) -> Response {
    let stream = q.stream.as_deref() == Some("true");
    let parsed = serde_json::from_slice::<Value>(&body)
        .map_err(Error::from)
        .and_then(|b| RunRequest::from_json(&b, stream));
    let req = match parsed {
        Ok(r) => r,
        // Failures before the run starts: HTTP 200 and code 13, as the JS runtime.
        Err(e) => {
            let err = Error::internal(e.message().to_owned());
            return json_response(StatusCode::OK, &run::error_json(&err, None));
        }
    };
    let ai = match instance(&state) {
        Ok(ai) => ai,
        Err(r) => return *r,
    };
    let Some(action) = ai.registry().lookup(&req.key) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("action {} not found", req.key),
        );
    };
    let started = run::start(ai, action, req, &state.active);
    let trace_id = started.ids.trace_id.clone();
    let mut headers = HeaderMap::new();
    let content_type = if stream {
        "text/plain"
    } else {
        "application/json"
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in [
        ("x-genkit-trace-id", started.ids.trace_id.as_str()),
        ("x-genkit-span-id", started.ids.span_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let run::Started {
            mut chunks,
            outcome,
            ..
        } = started;
        if let Some(chunks) = chunks.as_mut() {
            while let Some(chunk) = chunks.recv().await {
                let mut line = chunk.to_string();
                line.push('\n');
                // A client that went away does not stop the run (its trace completes).
                let _ = tx.send(Bytes::from(line)).await;
            }
        }
        let last = match outcome.await {
            Ok(Ok(result)) => run::result_json(result, &trace_id),
            Ok(Err(e)) => run::error_json(&e, Some(&trace_id)),
            Err(_) => run::error_json(&Error::internal("the run was lost"), Some(&trace_id)),
        };
        // The final line has no trailing newline: the CLI parses what is left as the result.
        let _ = tx.send(Bytes::from(last.to_string())).await;
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (StatusCode::OK, headers, Body::from_stream(body)).into_response()
}
