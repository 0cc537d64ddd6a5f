//! The reflection API v1 over real HTTP on 127.0.0.1, against an in-process runtime,
//! compared field by field with fixtures recorded from the real Genkit JS runtime
//! (`tests/fixtures/reflection/`, recorded by `js-app/record.sh` from npm genkit 1.42
//! serving the same scripted model, tool and flow as `runtime()` here).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use genkit::prelude::*;
use genkit::reflection::{ReflectionOptions, ReflectionServer, project_root};
use genkit::{FlowContext, GenerateRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---------------------------------------------------------------------------------
// The runtime: the Rust twin of js-app/app.cjs.

#[derive(Deserialize, Serialize, JsonSchema)]
struct SearchInput {
    query: String,
}

async fn scripted(req: Arc<GenerateRequest>, cx: ModelContext) -> Result<GenerateResponse> {
    let req = serde_json::to_value(&*req)?;
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or(Value::Null);
    let parts = last["content"].as_array().cloned().unwrap_or_default();
    let tool_output = parts
        .iter()
        .find_map(|p| p.get("toolResponse").map(|t| t["output"].clone()));
    let response = match tool_output {
        None => {
            let prompt: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
            let query = prompt.trim_start_matches("Research: ");
            cx.send_chunk(GenerateResponseChunk::from_text("Searching."))
                .await;
            json!({
                "message": {"role": "model", "content": [
                    {"toolRequest": {"name": "web_search", "ref": "0", "input": {"query": query}}}
                ]},
                "finishReason": "stop"
            })
        }
        Some(output) => {
            let text = format!("Found: {}", output.as_str().unwrap_or_default());
            cx.send_chunk(GenerateResponseChunk::from_text(text.clone()))
                .await;
            json!({"message": {"role": "model", "content": [{"text": text}]}, "finishReason": "stop"})
        }
    };
    Ok(serde_json::from_value(response)?)
}

async fn runtime() -> Genkit {
    let ai = Genkit::builder()
        .without_submitted_actions()
        .model("scripted")
        .build()
        .await
        .expect("build");
    let mut supports = ModelSupports::default();
    supports.multiturn = Some(true);
    supports.tools = Some(true);
    supports.system_role = Some(true);
    supports.media = Some(false);
    ai.define_model("scripted", ModelInfo::new("Scripted", supports), scripted)
        .expect("model");
    let web_search = ai
        .define_tool(
            "web_search",
            "Search the web for a query.",
            |input: SearchInput, _cx| async move {
                if input.query == "fail" {
                    return Err(Error::failed_precondition("no results for fail"));
                }
                Ok(format!("Results for: {}", input.query))
            },
        )
        .expect("tool");
    ai.define_flow(
        "research_flow",
        move |ai: Genkit, input: SearchInput, cx: FlowContext| {
            let web_search = web_search.clone();
            async move {
                let mut stream = ai
                    .generate()
                    .prompt(format!("Research: {}", input.query))
                    .tools([web_search])
                    .stream();
                while let Some(chunk) = stream.next().await {
                    cx.send_chunk(chunk?).await?;
                }
                Ok::<_, Error>(stream.response().await?.text())
            }
        },
    )
    .expect("flow");
    // Waits until its input says go: for cancellation and early-header tests.
    ai.define_flow(
        "wait_flow",
        |_ai: Genkit, input: Value, _cx: FlowContext| async move {
            if input == json!("forever") {
                std::future::pending::<()>().await;
            }
            Ok::<_, Error>(input)
        },
    )
    .expect("flow");
    ai
}

async fn server(ai: &Genkit) -> ReflectionServer {
    ReflectionServer::start(
        ai,
        ReflectionOptions::new().port(0).runtime_id("test-runtime"),
    )
    .await
    .expect("reflection server")
}

// ---------------------------------------------------------------------------------
// A small HTTP/1.1 client (the test crate has no HTTP client dependency).

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

fn host(base: &str) -> &str {
    base.trim_start_matches("http://")
}

async fn send(base: &str, method: &str, path: &str, body: Option<&Value>) -> TcpStream {
    let mut s = TcpStream::connect(host(base)).await.expect("connect");
    let body = body.map(Value::to_string).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        host(base),
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    s
}

/// Reads the status line and headers only (the body may still be coming).
async fn read_head(s: &mut TcpStream) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut byte).await.expect("read");
        assert!(n > 0, "connection closed before the headers");
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = buf[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, rest)
}

async fn read_rest(
    mut s: TcpStream,
    status: u16,
    headers: Vec<(String, String)>,
    mut raw: Vec<u8>,
) -> Resp {
    s.read_to_end(&mut raw).await.expect("read body");
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(&raw) } else { raw };
    Resp {
        status,
        headers,
        body: String::from_utf8(body).expect("utf-8 body"),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..i]).trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[i + 2..i + 2 + size]);
        raw = &raw[i + 2 + size + 2..];
    }
    out
}

async fn request(base: &str, method: &str, path: &str, body: Option<&Value>) -> Resp {
    let mut s = send(base, method, path, body).await;
    let (status, headers, rest) = read_head(&mut s).await;
    read_rest(s, status, headers, rest).await
}

async fn get(base: &str, path: &str) -> Resp {
    request(base, "GET", path, None).await
}

async fn post(base: &str, path: &str, body: &Value) -> Resp {
    request(base, "POST", path, Some(body)).await
}

// ---------------------------------------------------------------------------------
// Fixtures.

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reflection")
}

/// A recorded exchange: `{request, status, headers, body}`.
fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn fixture_body(name: &str) -> Value {
    let f = fixture(name);
    serde_json::from_str(f["body"].as_str().expect("body")).expect("fixture body JSON")
}

/// A JSON schema without what only differs by generator (`$schema`, `title`,
/// `description`, `additionalProperties`): the shape both runtimes must agree on.
fn schema_shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "$schema" | "title" | "description" | "additionalProperties"
                    )
                })
                .map(|(k, v)| (k.clone(), schema_shape(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(schema_shape).collect()),
        other => other.clone(),
    }
}

/// Fields the JS runtime lists that ours does not yet (reported to the lead: the
/// model and `/util/generate` descriptions live in model.rs and generate/util.rs). Any
/// other difference fails.
const KNOWN_GAPS: &[&str] = &[];

/// Every field the JS entry has, the Rust entry has with the same value (schemas by
/// shape, metadata as a superset). Returns the differences.
fn entry_differences(key: &str, js: &Value, rs: &Value, compare_schemas: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    for (field, jv) in js.as_object().expect("JS entry") {
        let Some(rv) = rs.get(field) else {
            diffs.push(format!("{key}: {field}"));
            continue;
        };
        match field.as_str() {
            "inputSchema" | "outputSchema" if compare_schemas => {
                if schema_shape(rv) != schema_shape(jv) {
                    diffs.push(format!("{key}: {field} is {rv}, JS has {jv}"));
                }
            }
            "inputSchema" | "outputSchema" => {
                if !rv.is_object() {
                    diffs.push(format!("{key}: {field} is not a JSON schema: {rv}"));
                }
            }
            "metadata" => superset_differences(&format!("{key}: metadata"), jv, rv, &mut diffs),
            _ => {
                if rv != jv {
                    diffs.push(format!("{key}: {field} is {rv}, JS has {jv}"));
                }
            }
        }
    }
    diffs
}

fn superset_differences(at: &str, expected: &Value, actual: &Value, diffs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => superset_differences(&format!("{at}.{k}"), ev, av, diffs),
                    None => diffs.push(format!("{at}.{k}")),
                }
            }
        }
        _ if actual != expected => diffs.push(format!("{at} is {actual}, JS has {expected}")),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------
// /api/actions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_match_the_js_runtime_field_by_field() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let res = get(srv.url(), "/api/actions").await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let ours = res.json();
    let js = fixture_body("actions.json");
    let mut diffs = Vec::new();
    for (key, js_entry) in js.as_object().expect("JS actions") {
        // JS registers every tool twice (`/tool/` and the multipart `/tool.v2/`).
        if key.starts_with("/tool.v2/") {
            continue;
        }
        let entry = ours
            .get(key)
            .unwrap_or_else(|| panic!("{key} is not listed: {ours}"));
        // /util/generate and the model carry the whole data model's schemas, which zod
        // and schemars spell differently; ours are checked against genkit-schema.json
        // elsewhere.
        let compare_schemas = key.starts_with("/flow/") || key.starts_with("/tool/");
        diffs.extend(entry_differences(key, js_entry, entry, compare_schemas));
    }
    let unexpected: Vec<&String> = diffs
        .iter()
        .filter(|d| !KNOWN_GAPS.contains(&d.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "differences from the JS runtime: {unexpected:#?}"
    );
    for (key, entry) in ours.as_object().expect("our actions") {
        assert_eq!(entry["key"], json!(key), "an entry's key is its map key");
        assert!(entry["name"].is_string(), "{key}: name");
    }
    assert!(ours.get("/flow/wait_flow").is_some());
}

// ---------------------------------------------------------------------------------
// /api/runAction

fn run_body(key: &str, input: Value) -> Value {
    json!({"key": key, "input": input})
}

fn assert_run_headers(res: &Resp, js: &Value) {
    assert_eq!(
        res.status,
        js["status"].as_u64().map(|s| s as u16).unwrap_or(0)
    );
    assert_eq!(
        res.header("content-type"),
        js["headers"]["content-type"].as_str(),
        "content-type"
    );
    assert_eq!(
        res.header("transfer-encoding"),
        Some("chunked"),
        "headers are flushed before the body is known"
    );
    let trace = res.header("x-genkit-trace-id").expect("trace id header");
    assert_eq!(trace.len(), 32);
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()));
    let span = res.header("x-genkit-span-id").expect("span id header");
    assert_eq!(span.len(), 16);
    assert!(res.header("x-genkit-version").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_action_plain_matches_the_js_runtime() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let js = fixture("run-plain.json");
    let res = post(srv.url(), "/api/runAction", &js["request"]["body"]).await;
    assert_run_headers(&res, &js);
    let body = res.json();
    let js_body = fixture_body("run-plain.json");
    assert_eq!(body["result"], js_body["result"]);
    assert_eq!(
        body["telemetry"]["traceId"].as_str(),
        res.header("x-genkit-trace-id")
    );
    assert_eq!(
        body.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        js_body
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_action_streamed_matches_the_js_runtime_line_by_line() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let js = fixture("run-stream.json");
    let res = post(
        srv.url(),
        "/api/runAction?stream=true",
        &js["request"]["body"],
    )
    .await;
    assert_run_headers(&res, &js);
    assert!(
        !res.body.ends_with('\n'),
        "no trailing newline: {:?}",
        res.body
    );
    let ours: Vec<Value> = res
        .body
        .split('\n')
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let theirs: Vec<Value> = js["body"]
        .as_str()
        .expect("body")
        .split('\n')
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}");
    let (last, chunks) = ours.split_last().expect("lines");
    let (js_last, js_chunks) = theirs.split_last().expect("lines");
    assert_eq!(chunks, js_chunks, "the raw chunks, one per line");
    assert_eq!(last["result"], js_last["result"]);
    assert_eq!(
        last["telemetry"]["traceId"].as_str(),
        res.header("x-genkit-trace-id")
    );
}

fn assert_error_like(ours: &Value, js: &Value, trace: Option<&str>) {
    let (e, je) = (&ours["error"], &js["error"]);
    assert_eq!(e["code"], je["code"], "code: {ours}");
    assert_eq!(e["message"], je["message"], "message");
    assert!(e["details"]["stack"].is_string(), "details.stack");
    assert_eq!(e["details"]["traceId"].as_str(), trace, "details.traceId");
    assert_eq!(
        je["details"]["traceId"].is_string(),
        trace.is_some(),
        "the JS runtime has a trace id here too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_action_errors_match_the_js_runtime() {
    let ai = runtime().await;
    let srv = server(&ai).await;

    let js = fixture("run-error.json");
    let res = post(srv.url(), "/api/runAction", &js["request"]["body"]).await;
    assert_run_headers(&res, &js);
    assert_error_like(
        &res.json(),
        &fixture_body("run-error.json"),
        res.header("x-genkit-trace-id"),
    );

    let js = fixture("run-error-stream.json");
    let res = post(
        srv.url(),
        "/api/runAction?stream=true",
        &js["request"]["body"],
    )
    .await;
    assert_run_headers(&res, &js);
    let lines: Vec<&str> = res.body.split('\n').collect();
    let js_lines: Vec<&str> = js["body"].as_str().expect("body").split('\n').collect();
    assert_eq!(
        lines.len(),
        js_lines.len(),
        "chunks before the error: {lines:?}"
    );
    let last: Value = serde_json::from_str(lines[lines.len() - 1]).expect("error line");
    let js_last: Value = serde_json::from_str(js_lines[js_lines.len() - 1]).expect("js line");
    assert_error_like(&last, &js_last, res.header("x-genkit-trace-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_error_answer_not_a_crash() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let js = fixture("run-bad-input.json");
    let res = post(srv.url(), "/api/runAction", &js["request"]["body"]).await;
    assert_eq!(
        res.status, 200,
        "as the JS runtime: HTTP 200 with an error body"
    );
    let body = res.json();
    let js_body = fixture_body("run-bad-input.json");
    assert_eq!(
        body["error"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        js_body["error"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    );
    // JS answers 13 (its schema check runs before the trace starts); ours is the
    // error's own status, INVALID_ARGUMENT, as the Python runtime answers.
    assert_eq!(body["error"]["code"], json!(3), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("INVALID_ARGUMENT")),
        "{body}"
    );
    // The runtime still serves.
    let res = post(
        srv.url(),
        "/api/runAction",
        &run_body("/flow/wait_flow", json!(1)),
    )
    .await;
    assert_eq!(res.json()["result"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_action_is_404_text_as_in_js() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let js = fixture("run-unknown.json");
    let res = post(srv.url(), "/api/runAction", &js["request"]["body"]).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, js["body"].as_str().expect("body"));
    // Not JSON at all: a body without a key is an error answer, too.
    let res = post(srv.url(), "/api/runAction", &json!({"input": 1})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["error"]["code"], json!(13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_headers_arrive_before_the_action_finishes() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let mut s = send(
        srv.url(),
        "POST",
        "/api/runAction?stream=true",
        Some(&run_body("/flow/wait_flow", json!("forever"))),
    )
    .await;
    // The flow never ends: reading its headers proves they were flushed early.
    let (status, headers, _) = read_head(&mut s).await;
    assert_eq!(status, 200);
    let trace = headers
        .iter()
        .find(|(k, _)| k == "x-genkit-trace-id")
        .map(|(_, v)| v.clone())
        .expect("trace id header");
    assert!(headers.iter().any(|(k, _)| k == "x-genkit-span-id"));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "text/plain")
    );

    // Cancel it by trace id: the stream ends with code 1.
    let res = post(srv.url(), "/api/cancelAction", &json!({"traceId": trace})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({"message": "Action cancelled"}));
    let rest = read_rest(s, status, headers, Vec::new()).await;
    let err: Value = serde_json::from_str(&rest.body).expect("error line");
    assert_eq!(err["error"]["code"], json!(1));
    assert_eq!(err["error"]["message"], json!("Action was cancelled"));
    assert_eq!(err["error"]["details"]["traceId"], json!(trace));

    // Cancelled already: 404 as the JS runtime words it.
    let js = fixture("cancel-unknown.json");
    let res = post(srv.url(), "/api/cancelAction", &json!({"traceId": trace})).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json(), fixture_body("cancel-unknown.json"));
    assert_eq!(js["status"], json!(404));
    let res = post(srv.url(), "/api/cancelAction", &json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json(), json!({"error": "traceId is required"}));
}

// ---------------------------------------------------------------------------------
// The other endpoints.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_the_runtime_id() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let ok = get(srv.url(), "/api/__health?id=test-runtime").await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "OK"));
    let plain = get(srv.url(), "/api/__health").await;
    assert_eq!(plain.status, 200);
    let bad = get(srv.url(), "/api/__health?id=nope").await;
    let js = fixture("health-bad-id.json");
    assert_eq!(bad.status, 503);
    assert_eq!(bad.body, js["body"].as_str().expect("body"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_x_genkit_version() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let responses = [
        get(srv.url(), "/api/__health").await,
        get(srv.url(), "/api/__health?id=nope").await,
        get(srv.url(), "/api/actions").await,
        get(srv.url(), "/api/envs").await,
        get(srv.url(), "/api/values?type=defaultModel").await,
        get(srv.url(), "/api/values").await,
        post(srv.url(), "/api/notify", &json!({})).await,
        post(srv.url(), "/api/cancelAction", &json!({})).await,
        post(
            srv.url(),
            "/api/runAction",
            &run_body("/flow/nope", json!(1)),
        )
        .await,
        post(
            srv.url(),
            "/api/runAction",
            &run_body("/flow/wait_flow", json!(1)),
        )
        .await,
    ];
    for r in responses {
        assert_eq!(
            r.header("x-genkit-version"),
            Some(genkit::reflection::genkit_version()),
            "{r:?}"
        );
    }
    assert!(genkit::reflection::genkit_version().starts_with("rust/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envs_values_and_notify_match_the_js_runtime() {
    let ai = runtime().await;
    let srv = server(&ai).await;
    let envs = get(srv.url(), "/api/envs").await;
    assert_eq!(envs.json(), fixture_body("envs.json"));
    let model = get(srv.url(), "/api/values?type=defaultModel").await;
    assert_eq!(model.status, 200);
    assert_eq!(model.json(), fixture_body("values-default-model.json"));
    let mw = get(srv.url(), "/api/values?type=middleware").await;
    assert_eq!(mw.json(), fixture_body("values-middleware.json"));
    assert_eq!(get(srv.url(), "/api/values").await.status, 400);
    assert_eq!(get(srv.url(), "/api/values?type=prompt").await.status, 400);
    let js = fixture("notify.json");
    let notify = post(srv.url(), "/api/notify", &js["request"]["body"]).await;
    assert_eq!((notify.status, notify.body.as_str()), (200, "OK"));
}

// ---------------------------------------------------------------------------------
// Runtime file and shutdown.

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genkit-reflection-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_file_is_written_once_listening_and_removed_by_quitquitquit() {
    let root = temp_dir("file");
    let runtimes = root.join(".genkit/runtimes");
    // A stale file from a dead process: left alone, and no obstacle.
    std::fs::create_dir_all(&runtimes).expect("dir");
    let stale = runtimes.join("999999-3100-1.json");
    std::fs::write(
        &stale,
        r#"{"id":"999999-3100","pid":999999,"reflectionServerUrl":"http://127.0.0.1:1","timestamp":"2020-01-01T00:00:00.000Z","reflectionApiSpecVersion":1}"#,
    )
    .expect("stale");

    let ai = runtime().await;
    let srv = ReflectionServer::start(&ai, ReflectionOptions::new().port(0).project_root(&root))
        .await
        .expect("server");
    let path = srv.runtime_file().expect("runtime file").to_path_buf();
    assert_eq!(path.parent(), Some(runtimes.as_path()));
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    let pid = std::process::id();
    assert!(
        name.starts_with(&format!("{pid}-{}-", srv.port())),
        "{name}"
    );
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let js: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join("runtime-file.json")).expect("fixture"),
    )
    .expect("fixture json");
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        keys(&info),
        keys(&js),
        "same fields, same order, no `name: null`"
    );
    assert_eq!(info["id"], json!(format!("{pid}-{}", srv.port())));
    assert_eq!(info["id"].as_str(), Some(srv.runtime_id()));
    assert_eq!(info["pid"], json!(pid));
    assert_eq!(info["reflectionServerUrl"], json!(srv.url()));
    assert_eq!(info["reflectionApiSpecVersion"], json!(1));
    assert_eq!(
        info["genkitVersion"],
        json!(genkit::reflection::genkit_version())
    );
    let ts = info["timestamp"].as_str().expect("timestamp");
    assert_eq!(
        ts.len(),
        js["timestamp"].as_str().map(str::len).unwrap_or(0),
        "{ts}"
    );
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    // The runtime answers at the URL it announced, with the id it announced.
    let health = get(srv.url(), &format!("/api/__health?id={}", srv.runtime_id())).await;
    assert_eq!(health.status, 200);

    let quit = get(srv.url(), "/api/__quitquitquit").await;
    assert_eq!((quit.status, quit.body.as_str()), (200, "OK"));
    srv.stopped().await;
    assert!(!path.exists(), "removed on a clean stop");
    assert!(
        stale.exists(),
        "another process's file is not ours to remove"
    );
    assert!(
        TcpStream::connect(host(srv.url())).await.is_err(),
        "no longer listening"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_removes_the_runtime_file() {
    let root = temp_dir("stop");
    let ai = runtime().await;
    let srv = ReflectionServer::start(
        &ai,
        ReflectionOptions::new()
            .port(0)
            .project_root(&root)
            .name("my-app"),
    )
    .await
    .expect("server");
    let path = srv.runtime_file().expect("file").to_path_buf();
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(info["name"], json!("my-app"));
    srv.stop().await;
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&root);
}

/// The file's identity: a rewrite (a new file renamed into place) gives a new inode.
fn inode(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_file_is_written_again_until_a_cli_notifies_then_left_alone() {
    let root = temp_dir("announce");
    let ai = runtime().await;
    let srv = ReflectionServer::start(&ai, ReflectionOptions::new().port(0).project_root(&root))
        .await
        .expect("server");
    let path = srv.runtime_file().expect("file").to_path_buf();
    let text = std::fs::read_to_string(&path).expect("read");
    let first = inode(&path).expect("written");
    // No CLI has notified: after 2 s a new file replaces it (a watcher that missed the
    // first creation sees this one), with the same name and content.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let second = loop {
        match inode(&path) {
            Some(i) if i != first => break i,
            _ if std::time::Instant::now() > deadline => panic!("never written again"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    // Once a CLI notifies, the file stays as it is.
    let js = fixture("notify.json");
    let notify = post(srv.url(), "/api/notify", &js["request"]["body"]).await;
    assert_eq!(notify.status, 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        inode(&path),
        Some(second),
        "rewritten after the CLI notified"
    );
    srv.stop().await;
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_runtime_never_writes_its_file_again() {
    let root = temp_dir("announce-stop");
    let ai = runtime().await;
    let srv = ReflectionServer::start(&ai, ReflectionOptions::new().port(0).project_root(&root))
        .await
        .expect("server");
    let path = srv.runtime_file().expect("file").to_path_buf();
    srv.stop().await;
    assert!(!path.exists());
    // Past the first two rewrite times (2 s, then 3 s more).
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(!path.exists(), "a stopped runtime's file came back");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn project_root_uses_the_clis_markers_else_the_working_directory() {
    let base = temp_dir("root");
    let deep = base.join("a/b/c");
    std::fs::create_dir_all(&deep).expect("dirs");
    // Cargo.toml is not a marker for the CLI, so not for us either.
    std::fs::write(base.join("a/Cargo.toml"), "").expect("write");
    let no_marker = project_root(&deep);
    assert!(
        no_marker == deep || !no_marker.starts_with(&base),
        "no marker under {base:?}: the cwd (or a marker above the temp dir): {no_marker:?}"
    );
    for marker in genkit::reflection::ROOT_MARKERS {
        let dir = base.join("a/b");
        std::fs::write(dir.join(marker), "").expect("marker");
        assert_eq!(project_root(&deep), dir, "{marker}");
        std::fs::remove_file(dir.join(marker)).expect("rm");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// The Dev UI and CLI run an agent like any action: `/agent/{name}` with an
/// `AgentInput`, streamed as `{modelChunk}` … `{turnEnd}` lines, then the
/// `AgentOutput` (the shapes Genkit Python's runtime gives).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_runs_through_run_action() {
    let ai = runtime().await;
    ai.define_agent("myAgent")
        .system("You are a helpful assistant.")
        .tools(["web_search"])
        .store(genkit::agent::InMemorySessionStore::new())
        .build()
        .expect("agent");
    let srv = server(&ai).await;
    let actions = get(srv.url(), "/api/actions").await;
    let listed: Value = serde_json::from_str(&actions.body).expect("actions json");
    for key in [
        "/agent/myAgent",
        "/agent-snapshot/myAgent",
        "/agent-abort/myAgent",
    ] {
        assert!(listed.get(key).is_some(), "{key} listed");
    }
    let input = json!({"message": {"role": "user", "content": [{"text": "Research: agents"}]}});
    let res = post(
        srv.url(),
        "/api/runAction?stream=true",
        &run_body("/agent/myAgent", input),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let lines: Vec<Value> = res
        .body
        .split('\n')
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let (last, chunks) = lines.split_last().expect("lines");
    assert!(
        chunks
            .iter()
            .any(|c| c["modelChunk"]["content"][0]["text"] == "Searching."),
        "{chunks:#?}"
    );
    let turn_end = chunks
        .iter()
        .find_map(|c| c.get("turnEnd"))
        .expect("turnEnd chunk");
    let output = &last["result"];
    assert_eq!(output["finishReason"], "stop", "{output}");
    assert_eq!(
        output["message"]["content"][0]["text"],
        "Found: Results for: agents"
    );
    assert_eq!(turn_end["snapshotId"], output["snapshotId"]);
    let snapshot_id = output["snapshotId"].as_str().expect("snapshot id");

    // The snapshot action reads the turn back.
    let res = post(
        srv.url(),
        "/api/runAction",
        &run_body(
            "/agent-snapshot/myAgent",
            json!({"snapshotId": snapshot_id}),
        ),
    )
    .await;
    let snap: Value = serde_json::from_str(&res.body).expect("json");
    assert_eq!(snap["result"]["snapshotId"], snapshot_id, "{snap}");
    assert_eq!(snap["result"]["status"], "completed");
    assert_eq!(
        snap["result"]["state"]["messages"].as_array().map(Vec::len),
        Some(4)
    );
}
