//! Reflection API v2: JSON-RPC 2.0 over a WebSocket the runtime dials
//! (`GENKIT_REFLECTION_V2_SERVER`), as the CLI's one-shot mode
//! (`genkit flow:run <flow> '<json>' -- <cmd>`) expects.
//!
//! Runtime → CLI: the `register` request, and the `runActionState` / `streamChunk`
//! notifications of a run. CLI → runtime: `listActions`, `listValues`, `runAction`,
//! `cancelAction` requests and the `configure` notification.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::run::{self, ActiveRuns, RunRequest};
use super::server::{configure_telemetry, list_actions, list_values};
use super::{GenkitSlot, Lifecycle};
use crate::error::Error;

/// JSON-RPC: invalid params (unknown action, unsupported value type, unknown run).
const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: method not found.
const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: server error (a failed run; `data` holds the Genkit status).
const SERVER_ERROR: i64 = -32000;

struct Conn {
    slot: Arc<GenkitSlot>,
    active: Arc<ActiveRuns>,
    out: mpsc::UnboundedSender<Value>,
}

impl Conn {
    fn send(&self, msg: Value) {
        let _ = self.out.send(msg);
    }

    fn respond(&self, id: &Value, result: Value) {
        self.send(json!({"jsonrpc": "2.0", "result": result, "id": id}));
    }

    fn error(&self, id: &Value, code: i64, message: &str, data: Option<Value>) {
        let mut error = json!({"code": code, "message": message});
        if let (Some(d), Some(obj)) = (data, error.as_object_mut()) {
            obj.insert("data".into(), d);
        }
        self.send(json!({"jsonrpc": "2.0", "error": error, "id": id}));
    }

    fn notify(&self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }
}

/// Dials `url` (and re-dials with back-off when the connection drops) until stopped.
pub(crate) fn spawn(
    slot: Arc<GenkitSlot>,
    url: String,
    name: Option<String>,
    lifecycle: Arc<Lifecycle>,
) {
    let active = Arc::new(ActiveRuns::default());
    tokio::spawn(async move {
        let mut attempt = 0u32;
        loop {
            let session = connect_once(&slot, &active, &url, name.as_deref(), &mut attempt);
            tokio::select! {
                () = lifecycle.stop_requested() => break,
                () = session => {}
            }
            let delay = Duration::from_millis((500u64 << attempt.min(4)).min(5000));
            attempt = attempt.saturating_add(1);
            tokio::select! {
                () = lifecycle.stop_requested() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        lifecycle.mark_stopped();
    });
}

async fn connect_once(
    slot: &Arc<GenkitSlot>,
    active: &Arc<ActiveRuns>,
    url: &str,
    name: Option<&str>,
    attempt: &mut u32,
) {
    let ws = match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            tracing::debug!(target: "genkit", "reflection v2: cannot connect to {url}: {e}");
            return;
        }
    };
    *attempt = 0;
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            if sink.send(Message::text(msg.to_string())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let conn = Arc::new(Conn {
        slot: Arc::clone(slot),
        active: Arc::clone(active),
        out: out_tx,
    });
    register(&conn, name);
    while let Some(msg) = stream.next().await {
        let text = match msg {
            Ok(Message::Text(t)) => t.to_string(),
            Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            tracing::debug!(target: "genkit", "reflection v2: unparsable message");
            continue;
        };
        if msg.get("method").is_some() {
            handle_request(&conn, msg);
        } else if let Some(result) = msg.get("result") {
            // The answer to `register`: where traces go.
            configure_telemetry(result.get("telemetryServerUrl").and_then(Value::as_str));
        } else if let Some(e) = msg.get("error") {
            tracing::warn!(target: "genkit", "reflection v2: the CLI answered with an error: {e}");
        }
    }
    drop(conn);
    let _ = writer.await;
}

fn register(conn: &Conn, name: Option<&str>) {
    let id = std::env::var("GENKIT_RUNTIME_ID")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::process::id().to_string());
    let params = json!({
        "id": id,
        "pid": std::process::id(),
        "name": name.unwrap_or(&id),
        "genkitVersion": super::genkit_version(),
        "reflectionApiSpecVersion": super::SPEC_VERSION,
        "envs": ["dev"],
    });
    conn.send(json!({"jsonrpc": "2.0", "id": "1", "method": "register", "params": params}));
}

fn handle_request(conn: &Arc<Conn>, msg: Value) {
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = msg.get("params").cloned().unwrap_or(Value::Null);
    let id = msg.get("id").cloned();
    match (method, id) {
        ("configure", _) => {
            configure_telemetry(params.get("telemetryServerUrl").and_then(Value::as_str));
        }
        ("listActions", Some(id)) => match conn.slot.get() {
            Some(ai) => {
                let conn = conn.clone();
                tokio::spawn(async move {
                    let actions = list_actions(&ai).await;
                    conn.respond(&id, json!({ "actions": actions }));
                });
            }
            None => conn.error(
                &id,
                SERVER_ERROR,
                "the Genkit instance is shutting down",
                None,
            ),
        },
        ("listValues", Some(id)) => {
            let kind = params
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match conn.slot.get().and_then(|ai| list_values(&ai, kind)) {
                Some(values) => conn.respond(&id, json!({"values": values})),
                None => conn.error(
                    &id,
                    INVALID_PARAMS,
                    &format!("'type' {kind} is not supported. Only 'defaultModel' and 'middleware' are supported"),
                    None,
                ),
            }
        }
        ("runAction", Some(id)) => run_action(conn, id, &params),
        ("cancelAction", Some(id)) => {
            let trace_id = params
                .get("traceId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if conn.active.cancel(trace_id) {
                conn.respond(&id, json!({"message": "Action cancelled"}));
            } else {
                conn.error(
                    &id,
                    INVALID_PARAMS,
                    "Action not found or already completed",
                    None,
                );
            }
        }
        // Input streams (bidi actions) are not supported over v2 yet; notifications
        // need no answer.
        (_, None) => {}
        (other, Some(id)) => {
            conn.error(
                &id,
                METHOD_NOT_FOUND,
                &format!("Method not found: {other}"),
                None,
            );
        }
    }
}

fn run_action(conn: &Arc<Conn>, id: Value, params: &Value) {
    let stream = params
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let req = match RunRequest::from_json(params, stream) {
        Ok(r) => r,
        Err(e) => return conn.error(&id, INVALID_PARAMS, e.message(), None),
    };
    let Some(ai) = conn.slot.get() else {
        return conn.error(
            &id,
            SERVER_ERROR,
            "the Genkit instance is shutting down",
            None,
        );
    };
    let Some(action) = ai.registry().lookup(&req.key) else {
        return conn.error(
            &id,
            INVALID_PARAMS,
            &format!("action {} not found", req.key),
            None,
        );
    };
    let started = run::start(ai, action, req, &conn.active);
    let trace_id = started.ids.trace_id.clone();
    conn.notify(
        "runActionState",
        json!({"requestId": id, "state": {"traceId": trace_id}}),
    );
    let conn = Arc::clone(conn);
    tokio::spawn(async move {
        let run::Started {
            mut chunks,
            outcome,
            ..
        } = started;
        if let Some(chunks) = chunks.as_mut() {
            while let Some(chunk) = chunks.recv().await {
                conn.notify("streamChunk", json!({"requestId": id, "chunk": chunk}));
            }
        }
        match outcome.await {
            Ok(Ok(result)) => conn.respond(&id, run::result_json(result, &trace_id)),
            Ok(Err(e)) => {
                let status = run::status_json(&e, Some(&trace_id));
                let message = status["message"].as_str().unwrap_or_default().to_owned();
                conn.error(&id, SERVER_ERROR, &message, Some(status));
            }
            Err(_) => {
                let e = Error::internal("the run was lost");
                conn.error(
                    &id,
                    SERVER_ERROR,
                    e.message(),
                    Some(run::status_json(&e, Some(&trace_id))),
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowContext;
    use crate::genkit::Genkit;
    use futures::stream::{SplitSink, SplitStream};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_tungstenite::WebSocketStream;

    type Ws = WebSocketStream<TcpStream>;

    async fn recv(rx: &mut SplitStream<Ws>) -> Value {
        loop {
            match rx.next().await {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON"),
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        }
    }

    async fn call(tx: &mut SplitSink<Ws, Message>, id: u64, method: &str, params: Value) {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        tx.send(Message::text(msg.to_string())).await.expect("send");
    }

    /// The CLI's side of one-shot mode: a WebSocket server the runtime dials.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn speaks_json_rpc_to_the_cli() {
        let ai = Genkit::builder()
            .without_submitted_actions()
            .model("m")
            .build()
            .await
            .expect("build");
        ai.define_flow("echo", |_ai, input: Value, cx: FlowContext| async move {
            if input == json!("boom") {
                return Err(Error::failed_precondition("no boom"));
            }
            cx.send_chunk(json!({"n": 1})).await?;
            cx.send_chunk(json!({"n": 2})).await?;
            Ok::<_, Error>(input)
        })
        .expect("flow");

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "ws://localhost:{}",
            listener.local_addr().expect("addr").port()
        );
        let lifecycle = Lifecycle::new();
        spawn(
            Arc::new(GenkitSlot::new(&ai)),
            url,
            Some("app".into()),
            Arc::clone(&lifecycle),
        );
        let (tcp, _) = listener.accept().await.expect("accept");
        let ws = tokio_tungstenite::accept_async(tcp)
            .await
            .expect("handshake");
        let (mut tx, mut rx) = ws.split();

        // register, answered with the telemetry server.
        let reg = recv(&mut rx).await;
        assert_eq!(reg["method"], json!("register"));
        assert_eq!(reg["params"]["pid"], json!(std::process::id()));
        assert_eq!(reg["params"]["name"], json!("app"));
        assert_eq!(reg["params"]["reflectionApiSpecVersion"], json!(1));
        assert_eq!(
            reg["params"]["genkitVersion"],
            json!(super::super::genkit_version())
        );
        let answer = json!({"jsonrpc": "2.0", "id": reg["id"], "result": {}});
        tx.send(Message::text(answer.to_string()))
            .await
            .expect("send");

        call(&mut tx, 1, "listActions", json!({})).await;
        let res = recv(&mut rx).await;
        assert_eq!(res["id"], json!(1));
        assert_eq!(
            res["result"]["actions"]["/flow/echo"]["key"],
            json!("/flow/echo")
        );

        call(&mut tx, 2, "listValues", json!({"type": "defaultModel"})).await;
        let res = recv(&mut rx).await;
        assert_eq!(
            res["result"],
            json!({"values": {"defaultModel": {"name": "m"}}})
        );
        call(&mut tx, 3, "listValues", json!({"type": "prompt"})).await;
        assert_eq!(recv(&mut rx).await["error"]["code"], json!(INVALID_PARAMS));

        // A streamed run: state (trace id) first, then chunks, then the result.
        let params = json!({"key": "/flow/echo", "input": {"a": 1}, "stream": true});
        call(&mut tx, 4, "runAction", params).await;
        let state = recv(&mut rx).await;
        assert_eq!(state["method"], json!("runActionState"));
        assert_eq!(state["params"]["requestId"], json!(4));
        let trace = state["params"]["state"]["traceId"]
            .as_str()
            .expect("trace")
            .to_owned();
        assert_eq!(trace.len(), 32);
        for n in [1, 2] {
            let chunk = recv(&mut rx).await;
            assert_eq!(chunk["method"], json!("streamChunk"));
            assert_eq!(chunk["params"], json!({"requestId": 4, "chunk": {"n": n}}));
        }
        let done = recv(&mut rx).await;
        assert_eq!(done["id"], json!(4));
        assert_eq!(
            done["result"],
            json!({"result": {"a": 1}, "telemetry": {"traceId": trace}})
        );

        // A failed run: JSON-RPC error with the Genkit status in `data`.
        call(
            &mut tx,
            5,
            "runAction",
            json!({"key": "/flow/echo", "input": "boom"}),
        )
        .await;
        assert_eq!(recv(&mut rx).await["method"], json!("runActionState"));
        let err = recv(&mut rx).await;
        assert_eq!(err["id"], json!(5));
        assert_eq!(err["error"]["code"], json!(SERVER_ERROR));
        assert_eq!(err["error"]["data"]["code"], json!(9));
        assert_eq!(
            err["error"]["data"]["message"],
            json!("FAILED_PRECONDITION: no boom")
        );
        assert!(err["error"]["data"]["details"]["traceId"].is_string());

        call(&mut tx, 6, "runAction", json!({"key": "/flow/nope"})).await;
        let err = recv(&mut rx).await;
        assert_eq!(
            err["error"]["message"],
            json!("action /flow/nope not found")
        );
        call(&mut tx, 7, "cancelAction", json!({"traceId": trace})).await;
        assert_eq!(recv(&mut rx).await["error"]["code"], json!(INVALID_PARAMS));
        call(&mut tx, 8, "nope", json!({})).await;
        assert_eq!(
            recv(&mut rx).await["error"]["code"],
            json!(METHOD_NOT_FOUND)
        );

        lifecycle.request_stop();
        lifecycle.wait_stopped().await;
    }
}
