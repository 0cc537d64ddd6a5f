//! The caller's credentials never leave the process: the CLI runs the seed's flow over
//! the reflection API with a request context carrying an API key, and neither the
//! traces exported to a Genkit telemetry server on 127.0.0.1 nor a log of every span
//! field and event hold the key — while the flow itself still reads it. (OTLP:
//! `credentials_are_redacted_in_otlp_spans` in `telemetry_otlp.rs`.)

use std::sync::{Arc, Mutex};

use axum::routing::post;
use genkit_core::reflection::{ReflectionOptions, ReflectionServer};
use genkit_core::telemetry::GenkitLayer;
use genkit_core::{Error, FlowContext, Genkit};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

#[allow(dead_code)]
mod telemetry_app;

const KEY: &str = "Bearer sk-live-0123456789abcdef";
const MARKED: &str = "tenant-secret-42";

/// The seed's app plus `whoami`, a flow returning the context it sees, and a key marked
/// secret by the program.
async fn app() -> Genkit {
    genkit_core::secrets::mark_secret("tenantKey");
    let ai = telemetry_app::app().await;
    ai.define_flow(
        "whoami",
        |_ai: Genkit, _input: Value, cx: FlowContext| async move {
            Ok::<_, Error>(cx.context().cloned().unwrap_or(Value::Null))
        },
    )
    .unwrap();
    ai
}

fn context() -> Value {
    json!({"auth": {"apiKey": KEY}, "tenant": {"id": "t1", "tenantKey": MARKED}})
}

/// Everything a `tracing` subscriber is shown: every span field and event field, as
/// a log printing them would write it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<String>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={}", field.name(), value));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Log {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _cx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut out = self.0.lock().unwrap();
        attrs.record(&mut Line(&mut out));
        out.push('\n');
    }
    fn on_record(
        &self,
        _id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _cx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut out = self.0.lock().unwrap();
        values.record(&mut Line(&mut out));
        out.push('\n');
    }
    fn on_event(&self, event: &tracing::Event<'_>, _cx: tracing_subscriber::layer::Context<'_, S>) {
        let mut out = self.0.lock().unwrap();
        event.record(&mut Line(&mut out));
        out.push('\n');
    }
}

/// A Genkit telemetry server on 127.0.0.1: keeps the bodies of `POST /api/traces`.
async fn trace_server() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let r = received.clone();
    let app = axum::Router::new().route(
        "/api/traces",
        post(move |body: axum::body::Bytes| {
            let r = r.clone();
            async move {
                let doc: Value = serde_json::from_slice(&body).expect("TraceData JSON");
                r.lock().unwrap().push(doc);
                "OK"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// Runs `key` through the reflection API as the CLI does, with the context.
async fn run_as_cli(ai: &Genkit, key: &str, input: Value) -> Value {
    let server = ReflectionServer::start(ai, ReflectionOptions::new().port(0))
        .await
        .unwrap();
    let body = json!({"key": key, "input": input, "context": context()});
    let res = reqwest::Client::new()
        .post(format!("{}/api/runAction", server.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    server.stop().await;
    out
}

#[tokio::test]
async fn credentials_are_redacted_in_exported_traces_and_logs() {
    let (url, received) = trace_server().await;
    let layer = GenkitLayer::builder()
        .server_url(&url)
        .realtime(false)
        .build();
    let log = Log::default();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(layer.clone())
            .with(log.clone()),
    );
    let ai = app().await;

    // The flow sees the whole context.
    let out = run_as_cli(&ai, "/flow/whoami", Value::Null).await;
    assert_eq!(out["result"], context(), "{out}");
    let out = run_as_cli(&ai, "/flow/research_flow", json!({"query": "Rust"})).await;
    assert_eq!(out["result"], "Report: Results for: Rust", "{out}");
    layer.flush().await;

    let docs = received.lock().unwrap().clone();
    let spans: Vec<&Value> = docs
        .iter()
        .flat_map(|d| d["spans"].as_object().unwrap().values())
        .collect();
    // whoami, then research_flow → generate → scripted → web_search → scripted.
    assert_eq!(spans.len(), 6, "{docs:#?}");
    let expected = json!({"auth": "<redacted>", "tenant": {"id": "t1", "tenantKey": "<redacted>"}});
    for span in &spans {
        let recorded = span["attributes"]["genkit:metadata:context"]
            .as_str()
            .unwrap_or_else(|| panic!("no context on {span:#}"));
        assert_eq!(
            serde_json::from_str::<Value>(recorded).unwrap(),
            expected,
            "{}",
            span["displayName"]
        );
    }
    // whoami's output is the flow's own data: what the program returns is its choice.
    let exported = serde_json::to_string(
        &spans
            .iter()
            .filter(|s| s["displayName"] != "whoami")
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(!exported.contains("sk-live"), "{exported}");
    assert!(!exported.contains(MARKED), "{exported}");

    let log = log.0.lock().unwrap().clone();
    assert!(log.contains("genkit:metadata:context"), "{log}");
    let without_whoami_output: String = log
        .lines()
        .filter(|l| !l.starts_with(" genkit:output="))
        .collect();
    assert!(!without_whoami_output.contains("sk-live"), "{log}");
    assert!(!without_whoami_output.contains(MARKED), "{log}");
}
