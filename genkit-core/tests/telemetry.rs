//! Trace export to a Genkit telemetry server: a real HTTP server on 127.0.0.1 receives
//! the `TraceData` POSTs of the seed's flow `research_flow → generate → model →
//! web_search → model`, and every document is checked against Genkit's schema.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use genkit_core::telemetry::{self, GenkitLayer, RootIds};
use genkit_core::{Error, Genkit, Status};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::layer::SubscriberExt;

mod telemetry_app;
use telemetry_app::{app, research};

// ---------------------------------------------------------------- the trace server ----

/// How the in-test telemetry server answers.
#[derive(Clone, Copy, PartialEq)]
enum Reply {
    Ok,
    Fail500,
    Hang,
}

/// One received request.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Value,
}

/// A Genkit telemetry server stand-in: records `POST /api/traces` bodies.
struct TraceServer {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl TraceServer {
    async fn start(reply: Reply) -> TraceServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, reply, rec.clone()));
            }
        });
        TraceServer { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn traces(&self) -> Vec<Value> {
        self.received().into_iter().map(|r| r.body).collect()
    }
}

/// Serves HTTP/1.1 requests on one connection until it closes.
async fn serve(mut stream: TcpStream, reply: Reply, received: Arc<Mutex<Vec<Received>>>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut start = lines.next().unwrap_or("").split(' ');
        let method = start.next().unwrap_or("").to_string();
        let path = start.next().unwrap_or("").to_string();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while buf.len() < body_start + len {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Value = serde_json::from_slice(&buf[body_start..body_start + len])
            .unwrap_or_else(|e| panic!("the exporter sent invalid JSON: {e}"));
        buf.drain(..body_start + len);
        received.lock().unwrap().push(Received {
            method,
            path,
            headers,
            body,
        });
        let response: &[u8] = match reply {
            Reply::Ok => {
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
            }
            Reply::Fail500 => {
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom"
            }
            Reply::Hang => {
                std::future::pending::<()>().await;
                return;
            }
        };
        if stream.write_all(response).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------- checking ----

/// Genkit's `TraceData` definition, compiled once.
fn trace_data_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/genkit-schema.json");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading Genkit's schema at {path}: {e}"));
        let schema: Value = serde_json::from_str(&text).unwrap();
        let root = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "allOf": [{ "$ref": "#/$defs/TraceData" }],
            "$defs": schema["$defs"],
        });
        jsonschema::draft7::new(&root).unwrap()
    })
}

fn assert_valid_trace_data(doc: &Value) {
    let errors: Vec<String> = trace_data_validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "invalid TraceData {doc:#}: {errors:?}");
}

/// Spans of all received documents, merged by trace id as the telemetry server does.
fn merged(traces: &[Value]) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for t in traces {
        assert_valid_trace_data(t);
        let trace_id = t["traceId"].as_str().unwrap().to_string();
        for (id, span) in t["spans"].as_object().unwrap() {
            assert_eq!(span["spanId"], *id);
            assert_eq!(span["traceId"], trace_id);
            out.entry(trace_id.clone()).or_default().push(span.clone());
        }
    }
    out
}

fn named<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["displayName"] == name).collect()
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    &span["attributes"][key]
}

fn json_attr(span: &Value, key: &str) -> Value {
    let s = attr(span, key)
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a JSON string in {span:#}"));
    serde_json::from_str(s).unwrap()
}

fn layer_for(server: &TraceServer) -> GenkitLayer {
    GenkitLayer::builder()
        .server_url(&server.url)
        .realtime(false)
        .build()
}

// ------------------------------------------------------------------------- tests ----

#[tokio::test]
async fn seed_tree_is_exported_as_genkit_trace_data() {
    let server = TraceServer::start(Reply::Ok).await;
    let layer = layer_for(&server);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    let ids = RootIds::new();
    let out = telemetry::with_root_ids(ids.clone(), research(&ai, "Rust"))
        .await
        .unwrap();
    assert_eq!(out, json!("Report: Results for: Rust"));
    layer.flush().await;

    let received = server.received();
    assert!(!received.is_empty());
    for r in &received {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/traces");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["accept"], "application/json");
    }
    let traces = server.traces();
    let by_trace = merged(&traces);
    assert_eq!(by_trace.len(), 1, "one trace: {traces:#?}");
    let spans = &by_trace[&ids.trace_id];
    assert_eq!(spans.len(), 5);

    // The document carrying the root span names the trace.
    let root_doc = traces
        .iter()
        .find(|t| t["spans"].get(&ids.span_id).is_some())
        .unwrap();
    assert_eq!(root_doc["displayName"], "research_flow");
    assert!(root_doc["endTime"].as_f64().unwrap() >= root_doc["startTime"].as_f64().unwrap());

    let flow = named(spans, "research_flow")[0];
    assert_eq!(flow["spanId"], ids.span_id);
    assert!(flow.get("parentSpanId").is_none());
    assert_eq!(attr(flow, "genkit:isRoot"), &json!(true));
    assert_eq!(attr(flow, "genkit:path"), "/{research_flow,t:flow}");
    assert_eq!(attr(flow, "genkit:type"), "action");
    assert_eq!(attr(flow, "genkit:metadata:subtype"), "flow");
    assert_eq!(attr(flow, "genkit:key"), "/flow/research_flow");
    assert_eq!(attr(flow, "genkit:name"), "research_flow");
    assert_eq!(attr(flow, "genkit:input"), r#"{"query":"Rust"}"#);
    assert_eq!(
        attr(flow, "genkit:output"),
        r#""Report: Results for: Rust""#
    );
    assert_eq!(attr(flow, "genkit:state"), "success");
    assert_eq!(flow["status"], json!({ "code": 0 }));
    assert_eq!(
        flow["instrumentationLibrary"],
        json!({ "name": "genkit-tracer", "version": "v1" })
    );
    assert_eq!(flow["spanKind"], "INTERNAL");
    assert_eq!(flow["sameProcessAsParentSpan"], json!({ "value": true }));
    assert_eq!(flow["timeEvents"], json!({ "timeEvent": [] }));

    let generate = named(spans, "generate")[0];
    assert_eq!(generate["parentSpanId"], flow["spanId"]);
    assert_eq!(attr(generate, "genkit:type"), "util");
    assert_eq!(
        attr(generate, "genkit:path"),
        "/{research_flow,t:flow}/{generate,t:util}"
    );
    assert!(attr(generate, "genkit:isRoot").is_null());
    assert_eq!(
        json_attr(generate, "genkit:input")["messages"][0]["content"][0]["text"],
        "Research: Rust"
    );

    let models = named(spans, "scripted");
    assert_eq!(models.len(), 2);
    let tool = named(spans, "web_search")[0];
    for m in &models {
        assert_eq!(m["parentSpanId"], generate["spanId"]);
        assert_eq!(
            attr(m, "genkit:path"),
            "/{research_flow,t:flow}/{generate,t:util}/{scripted,t:action,s:model}"
        );
        assert_eq!(attr(m, "genkit:metadata:subtype"), "model");
        assert_eq!(attr(m, "genkit:key"), "/model/scripted");
        // Token usage travels in the model span's output, as in Genkit JS.
        let output = json_attr(m, "genkit:output");
        assert_eq!(output["usage"]["inputTokens"], 7);
        assert_eq!(output["usage"]["outputTokens"], 3);
    }
    // The model that asked for the tool started before the tool; the second after it.
    let t = |s: &Value, k: &str| s[k].as_f64().unwrap();
    let (first, second) = if t(models[0], "startTime") <= t(models[1], "startTime") {
        (models[0], models[1])
    } else {
        (models[1], models[0])
    };
    assert!(t(first, "endTime") <= t(tool, "startTime"));
    assert!(t(tool, "endTime") <= t(second, "startTime"));
    assert_eq!(
        json_attr(first, "genkit:output")["message"]["content"][0]["toolRequest"]["name"],
        "web_search"
    );
    assert_eq!(
        json_attr(second, "genkit:input")["messages"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    assert_eq!(tool["parentSpanId"], generate["spanId"]);
    assert_eq!(
        attr(tool, "genkit:path"),
        "/{research_flow,t:flow}/{generate,t:util}/{web_search,t:action,s:tool}"
    );
    assert_eq!(attr(tool, "genkit:input"), r#"{"query":"Rust"}"#);
    assert_eq!(attr(tool, "genkit:output"), r#""Results for: Rust""#);
    assert_eq!(attr(tool, "genkit:state"), "success");

    // Ids are lowercase hex of Genkit's lengths; every span id is distinct.
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let mut seen = std::collections::HashSet::new();
    for s in spans {
        assert!(hex(s["spanId"].as_str().unwrap(), 16));
        assert!(hex(s["traceId"].as_str().unwrap(), 32));
        assert!(seen.insert(s["spanId"].clone()));
        assert_eq!(s["displayName"], *attr(s, "genkit:name"));
        assert!(t(s, "endTime") >= t(s, "startTime"));
    }
    assert_eq!(layer.stats().exported, 5);
    assert_eq!(layer.stats().dropped, 0);
}

#[tokio::test]
async fn a_failing_tool_is_the_failure_source_with_an_exception_event() {
    let server = TraceServer::start(Reply::Ok).await;
    let layer = layer_for(&server);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    let err = research(&ai, "fail").await.unwrap_err();
    assert_eq!(err.status(), Status::Unavailable);
    layer.flush().await;

    let by_trace = merged(&server.traces());
    assert_eq!(by_trace.len(), 1);
    let spans = by_trace.values().next().unwrap();
    let tool = named(spans, "web_search")[0];
    assert_eq!(attr(tool, "genkit:state"), "error");
    assert_eq!(attr(tool, "genkit:isFailureSource"), &json!(true));
    assert_eq!(tool["status"]["code"], 2);
    let message = tool["status"]["message"].as_str().unwrap();
    assert!(message.contains("search backend down"), "{message}");
    let events = tool["timeEvents"]["timeEvent"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["annotation"]["description"], "exception");
    assert_eq!(
        events[0]["annotation"]["attributes"]["exception.message"],
        message
    );
    assert!(attr(tool, "exception.message").is_null());

    for name in ["generate", "research_flow"] {
        let s = named(spans, name)[0];
        assert_eq!(attr(s, "genkit:state"), "error", "{name}");
        assert!(attr(s, "genkit:isFailureSource").is_null(), "{name}");
        assert_eq!(s["status"]["code"], 2, "{name}");
        assert!(attr(s, "genkit:output").is_null(), "{name}");
    }
    // The first model call succeeded; the second never ran.
    let models = named(spans, "scripted");
    assert_eq!(models.len(), 1);
    assert_eq!(attr(models[0], "genkit:state"), "success");
}

#[tokio::test]
async fn realtime_mode_also_exports_span_starts_with_end_time_zero() {
    let server = TraceServer::start(Reply::Ok).await;
    let layer = GenkitLayer::builder()
        .server_url(&server.url)
        .realtime(true)
        .build();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    assert_eq!(
        research(&ai, "Rust").await.unwrap(),
        json!("Report: Results for: Rust")
    );
    layer.flush().await;
    let traces = server.traces();
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    for t in &traces {
        assert_valid_trace_data(t);
        for span in t["spans"].as_object().unwrap().values() {
            if span["endTime"] == json!(0.0) {
                starts.push(span.clone());
            } else {
                ends.push(span.clone());
            }
        }
    }
    let names = |v: &[Value]| {
        v.iter()
            .map(|s| s["displayName"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(starts.len(), 5, "{:?} {:?}", names(&starts), names(&ends));
    assert_eq!(ends.len(), 5);
    for s in &starts {
        assert!(attr(s, "genkit:output").is_null());
        assert!(attr(s, "genkit:path").is_string());
        assert!(ends.iter().any(|e| e["spanId"] == s["spanId"]));
    }
}

#[tokio::test]
async fn a_server_answering_500_does_not_affect_calls() {
    let server = TraceServer::start(Reply::Fail500).await;
    let layer = layer_for(&server);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    for _ in 0..3 {
        assert_eq!(
            research(&ai, "Rust").await.unwrap(),
            json!("Report: Results for: Rust")
        );
    }
    layer.flush().await;
    let stats = layer.stats();
    assert_eq!(stats.exported, 0);
    assert_eq!(stats.failed, 15);
    assert!(!server.received().is_empty());
}

#[tokio::test]
async fn a_server_that_is_not_listening_does_not_affect_calls() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let layer = GenkitLayer::builder()
        .server_url(url)
        .realtime(false)
        .build();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    assert_eq!(
        research(&ai, "Rust").await.unwrap(),
        json!("Report: Results for: Rust")
    );
    let err = research(&ai, "fail").await.unwrap_err();
    assert_eq!(err.status(), Status::Unavailable);
    layer.flush().await;
    let stats = layer.stats();
    assert_eq!(stats.exported, 0);
    assert_eq!(stats.failed, 9);
}

#[tokio::test]
async fn a_hanging_server_does_not_affect_calls_and_the_full_queue_drops() {
    let server = TraceServer::start(Reply::Hang).await;
    let layer = GenkitLayer::builder()
        .server_url(&server.url)
        .realtime(false)
        .queue_capacity(8)
        .build();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    for i in 0..20 {
        assert_eq!(
            research(&ai, &format!("q{i}")).await.unwrap(),
            json!(format!("Report: Results for: q{i}"))
        );
    }
    let stats = layer.stats();
    assert_eq!(stats.queued + stats.dropped, 100);
    assert!(stats.dropped > 0, "{stats:?}");
    // At most one batch is held by the sender (waiting on the server) beyond the queue.
    assert!(stats.queued <= 8 + 512, "{stats:?}");
    assert_eq!(stats.exported, 0);
}

#[tokio::test]
async fn without_a_server_url_genkit_spans_are_disabled_and_nothing_is_queued() {
    if std::env::var("GENKIT_TELEMETRY_SERVER").is_ok() {
        panic!("unset GENKIT_TELEMETRY_SERVER to run this test");
    }
    // The global layer (no URL set in this test binary), gated as `init` installs it.
    let layer = telemetry::layer();
    let stats_before = telemetry::stats();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.gated()));
    let ai = Genkit::builder().build().await.unwrap();
    ai.define_flow("probe", |_ai, _input: Value, _cx| async move {
        Ok::<_, Error>(tracing::Span::current().is_disabled())
    })
    .unwrap();
    let disabled = ai
        .run_action("/flow/probe", json!(null), Default::default())
        .await
        .unwrap();
    assert_eq!(disabled, json!(true));
    assert_eq!(telemetry::stats(), stats_before);
    assert_eq!(telemetry::stats().queued, 0);
}

#[tokio::test]
async fn with_a_server_url_the_gated_layer_records_genkit_spans() {
    let server = TraceServer::start(Reply::Ok).await;
    let layer = layer_for(&server);
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(layer.clone().gated()),
    );
    let ai = Genkit::builder().build().await.unwrap();
    ai.define_flow("probe", |_ai, _input: Value, _cx| async move {
        Ok::<_, Error>(tracing::Span::current().is_disabled())
    })
    .unwrap();
    let disabled = ai
        .run_action("/flow/probe", json!(null), Default::default())
        .await
        .unwrap();
    assert_eq!(disabled, json!(false));
    layer.flush().await;
    let by_trace = merged(&server.traces());
    let spans: Vec<&Value> = by_trace.values().flatten().collect();
    assert_eq!(spans.len(), 1);
    assert_eq!(attr(spans[0], "genkit:output"), "false");
}

#[test]
fn root_ids_are_random_lowercase_hex() {
    let a = RootIds::new();
    let b = RootIds::new();
    assert_ne!(a, b);
    for (id, len) in [(&a.trace_id, 32), (&a.span_id, 16), (&b.trace_id, 32)] {
        assert_eq!(id.len(), len);
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert!(id.bytes().any(|c| c != b'0'));
    }
}

#[tokio::test]
async fn the_queue_is_also_bounded_in_bytes() {
    let server = TraceServer::start(Reply::Hang).await;
    let layer = GenkitLayer::builder()
        .server_url(&server.url)
        .realtime(false)
        .queue_bytes(64 * 1024)
        .build();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    // Each call's spans carry the 8 KiB query several times (inputs and outputs).
    let big = "x".repeat(8 * 1024);
    for _ in 0..10 {
        assert_eq!(
            research(&ai, &big).await.unwrap(),
            json!(format!("Report: Results for: {big}"))
        );
    }
    let stats = layer.stats();
    assert_eq!(stats.queued + stats.dropped, 50);
    assert!(stats.dropped > 0, "{stats:?}");
}

/// `init()`, `GENKIT_TELEMETRY_SERVER` (which wins over `set_server_url`) and
/// `GENKIT_ENABLE_REALTIME_TELEMETRY`, in a child process (this test binary re-run with
/// the variables set) so the global subscriber and environment are its own.
#[tokio::test]
async fn init_and_the_genkit_environment_variables_drive_the_global_layer() {
    if std::env::var_os("GENKIT_TELEMETRY_TEST_CHILD").is_some() {
        assert!(telemetry::init());
        assert!(!telemetry::init(), "a second global subscriber is refused");
        telemetry::set_server_url("http://127.0.0.1:9");
        let env_url = std::env::var("GENKIT_TELEMETRY_SERVER").unwrap();
        assert_eq!(telemetry::server_url().as_deref(), Some(env_url.as_str()));
        let ai = app().await;
        let ids = RootIds::new();
        println!("trace {}", ids.trace_id);
        telemetry::with_root_ids(ids, research(&ai, "Rust"))
            .await
            .unwrap();
        telemetry::flush().await;
        assert_eq!(telemetry::stats().exported, 10);
        return;
    }
    let server = TraceServer::start(Reply::Ok).await;
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "init_and_the_genkit_environment_variables_drive_the_global_layer",
            "--nocapture",
        ])
        .env("GENKIT_TELEMETRY_TEST_CHILD", "1")
        .env("GENKIT_TELEMETRY_SERVER", &server.url)
        .env("GENKIT_ENABLE_REALTIME_TELEMETRY", "true")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace "))
        .expect("the child printed its trace id");
    let traces = server.traces();
    let by_trace = merged(&traces);
    assert_eq!(by_trace.keys().collect::<Vec<_>>(), [trace_id]);
    let spans = &by_trace[trace_id];
    let starts = spans.iter().filter(|s| s["endTime"] == json!(0.0)).count();
    assert_eq!((spans.len(), starts), (10, 5));
    // Dev mode's gated layer records every finished span's input and output.
    for s in spans.iter().filter(|s| s["endTime"] != json!(0.0)) {
        for key in ["genkit:input", "genkit:output"] {
            assert!(
                attr(s, key).as_str().is_some_and(|t| !t.is_empty()),
                "{key} on {}: {s:#}",
                s["displayName"]
            );
        }
    }
}

/// Waits (up to 10 s) until the server has received `n` documents.
async fn wait_for_documents(server: &TraceServer, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let traces = server.traces();
        if traces.len() >= n || std::time::Instant::now() > deadline {
            return traces;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_finished_trace_is_sent_unasked_in_one_post() {
    let server = TraceServer::start(Reply::Ok).await;
    let layer = layer_for(&server);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    research(&ai, "Rust").await.unwrap();
    // No flush: the exporter sends on its own, the whole tree in one document.
    let traces = wait_for_documents(&server, 1).await;
    assert_eq!(traces.len(), 1, "{traces:#?}");
    assert_eq!(traces[0]["spans"].as_object().map(|m| m.len()), Some(5));
    assert_eq!(traces[0]["displayName"], "research_flow");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(server.traces().len(), 1, "nothing else was sent");
    assert_eq!(layer.stats().exported, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_under_a_root_still_running_are_sent_without_waiting_for_it() {
    let server = TraceServer::start(Reply::Ok).await;
    let layer = layer_for(&server);
    let subscriber = tracing_subscriber::registry().with(layer.clone());
    let ai = Genkit::builder().build().await.unwrap();
    ai.define_flow("child", |_ai, input: Value, _cx| async move {
        Ok::<_, Error>(input)
    })
    .unwrap();
    let release = Arc::new(tokio::sync::Notify::new());
    let released = release.clone();
    let ai2 = ai.clone();
    ai.define_flow("long", move |_ai, _input: Value, _cx| {
        let (ai, released) = (ai2.clone(), released.clone());
        async move {
            ai.run_action("/flow/child", json!(1), Default::default())
                .await?;
            released.notified().await;
            Ok::<_, Error>(json!("done"))
        }
    })
    .unwrap();
    let run = tokio::spawn(tracing::instrument::WithSubscriber::with_subscriber(
        {
            let ai = ai.clone();
            async move {
                ai.run_action("/flow/long", json!(null), Default::default())
                    .await
            }
        },
        subscriber,
    ));
    // The child finished; its root is still running: the child goes alone, soon.
    let traces = wait_for_documents(&server, 1).await;
    assert_eq!(traces.len(), 1, "{traces:#?}");
    let spans = traces[0]["spans"].as_object().unwrap();
    assert_eq!(spans.len(), 1);
    assert!(spans.values().all(|s| s["displayName"] == "child"));
    release.notify_one();
    assert_eq!(run.await.unwrap().unwrap(), json!("done"));
    let traces = wait_for_documents(&server, 2).await;
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[1]["displayName"], "long");
    assert_eq!(traces[0]["traceId"], traces[1]["traceId"]);
}
