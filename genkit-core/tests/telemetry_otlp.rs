//! OTLP export (feature `otlp`): the seed's spans received by real OTLP receivers on
//! 127.0.0.1 that decode the OTLP protobuf — over HTTP (`/v1/traces`) and over gRPC
//! (the collector's `TraceService`) — with every span's input and output and the
//! `gen_ai.*` attributes of model spans, from a user's subscriber and from dev mode's
//! gated layer; configuration by the standard `OTEL_*` variables (in a child process,
//! so the environment is its own), timeouts included, against a collector that never
//! answers.
//!
//! Run with `cargo test -p genkit-core --features otlp --test telemetry_otlp`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genkit_core::telemetry::otlp::{OtlpConfig, OtlpProtocol};
use genkit_core::telemetry::{self, GenkitLayer, RootIds};
use genkit_core::{GenerateResponse, GenerationUsage, ModelInfo, Status as GenkitStatus};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message as _;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::layer::SubscriberExt;

mod telemetry_app;
use telemetry_app::{app, research};

type Requests = Arc<Mutex<Vec<ExportTraceServiceRequest>>>;

// ------------------------------------------------------------- OTLP/HTTP receiver ----

/// An OTLP/HTTP receiver: decodes `POST /v1/traces` protobuf bodies.
async fn http_receiver() -> (String, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Requests::default();
    let r = requests.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_http(stream, r.clone()));
        }
    });
    (url, requests)
}

async fn serve_http(mut stream: TcpStream, requests: Requests) {
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
        let start = lines.next().unwrap_or("").to_string();
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
        assert!(start.starts_with("POST /v1/traces "), "{start}");
        assert_eq!(headers["content-type"], "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(&buf[body_start..body_start + len])
            .expect("an OTLP ExportTraceServiceRequest");
        buf.drain(..body_start + len);
        requests.lock().unwrap().push(request);
        let body = ExportTraceServiceResponse::default().encode_to_vec();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(&body).await.is_err()
        {
            return;
        }
    }
}

// ------------------------------------------------------------- OTLP/gRPC receiver ----

struct Collector(Requests);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// An OTLP/gRPC receiver: the collector's `TraceService` on a tonic server.
async fn grpc_receiver() -> (String, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Requests::default();
    let service = TraceServiceServer::new(Collector(requests.clone()));
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    (url, requests)
}

// ---------------------------------------------------------------------- checking ----

/// Every received span with its resource's `service.name` and scope name.
fn spans(requests: &Requests) -> Vec<(String, String, Span)> {
    let mut out = Vec::new();
    for req in requests.lock().unwrap().iter() {
        for rs in &req.resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| string_attr(&r.attributes, "service.name"))
                .unwrap_or_default();
            for ss in &rs.scope_spans {
                let scope = ss
                    .scope
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                if let Some(s) = &ss.scope {
                    assert_eq!(s.version, "v1");
                }
                for span in &ss.spans {
                    out.push((service.clone(), scope.clone(), span.clone()));
                }
            }
        }
    }
    out
}

fn value<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn string_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    match value(attrs, key) {
        Some(any_value::Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the seed's tree in OTLP spans: ids, parents, names and genkit attributes.
fn assert_seed_tree(spans: &[Span], ids: &RootIds) {
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let by_name = |name: &str| -> Vec<&Span> { spans.iter().filter(|s| s.name == name).collect() };
    for s in spans {
        assert_eq!(hex(&s.trace_id), ids.trace_id);
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
        assert_eq!(s.kind, 1, "SPAN_KIND_INTERNAL");
    }
    let flow = by_name("research_flow")[0];
    assert_eq!(hex(&flow.span_id), ids.span_id);
    assert!(flow.parent_span_id.is_empty());
    assert_eq!(
        value(&flow.attributes, "genkit:isRoot"),
        Some(&any_value::Value::BoolValue(true))
    );
    assert_eq!(
        string_attr(&flow.attributes, "genkit:path").as_deref(),
        Some("/{research_flow,t:flow}")
    );
    assert_eq!(
        string_attr(&flow.attributes, "genkit:input").as_deref(),
        Some(r#"{"query":"Rust"}"#)
    );
    let generate = by_name("generate")[0];
    assert_eq!(generate.parent_span_id, flow.span_id);
    for name in ["scripted", "web_search"] {
        for s in by_name(name) {
            assert_eq!(s.parent_span_id, generate.span_id, "{name}");
        }
    }
    assert_eq!(by_name("scripted").len(), 2);
    assert_eq!(
        string_attr(&by_name("web_search")[0].attributes, "genkit:path").as_deref(),
        Some("/{research_flow,t:flow}/{generate,t:util}/{web_search,t:action,s:tool}")
    );
}

fn int_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match value(attrs, key) {
        Some(any_value::Value::IntValue(i)) => Some(*i),
        _ => None,
    }
}

fn double_attr(attrs: &[KeyValue], key: &str) -> Option<f64> {
    match value(attrs, key) {
        Some(any_value::Value::DoubleValue(d)) => Some(*d),
        _ => None,
    }
}

fn string_array_attr(attrs: &[KeyValue], key: &str) -> Option<Vec<String>> {
    match value(attrs, key) {
        Some(any_value::Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(|v| match &v.value {
                Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Every span carries its input and output as JSON text (what the Dev UI shows for each
/// step); the model spans also carry the OpenTelemetry GenAI attributes of the call,
/// and only they do.
fn assert_inputs_outputs_and_gen_ai(spans: &[Span]) {
    for s in spans {
        for key in ["genkit:input", "genkit:output"] {
            let text = string_attr(&s.attributes, key)
                .unwrap_or_else(|| panic!("{key} on {}: {:#?}", s.name, s.attributes));
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{key} of {} is JSON: {e}", s.name));
        }
        if !matches!(s.name.as_str(), "scripted" | "web_search") {
            assert!(
                !s.attributes.iter().any(|kv| kv.key.starts_with("gen_ai.")),
                "{}: {:#?}",
                s.name,
                s.attributes
            );
        }
    }
    let tool = spans.iter().find(|s| s.name == "web_search").unwrap();
    for (key, expected) in [
        ("gen_ai.operation.name", "execute_tool"),
        ("gen_ai.tool.name", "web_search"),
        ("gen_ai.tool.type", "function"),
    ] {
        assert_eq!(
            string_attr(&tool.attributes, key).as_deref(),
            Some(expected)
        );
    }
    assert_eq!(
        string_attr(&tool.attributes, "genkit:input").as_deref(),
        Some(r#"{"query":"Rust"}"#)
    );
    let generate = spans.iter().find(|s| s.name == "generate").unwrap();
    let input: serde_json::Value =
        serde_json::from_str(&string_attr(&generate.attributes, "genkit:input").unwrap()).unwrap();
    assert_eq!(input["tools"], json!(["web_search"]));
    assert_eq!(input["config"]["temperature"], json!(0.25));
    let models: Vec<&Span> = spans.iter().filter(|s| s.name == "scripted").collect();
    assert_eq!(models.len(), 2);
    for m in models {
        let a = &m.attributes;
        let s = |key| string_attr(a, key);
        assert_eq!(s("gen_ai.operation.name").as_deref(), Some("chat"));
        assert_eq!(s("gen_ai.request.model").as_deref(), Some("scripted"));
        // A model named without a plugin prefix has no known provider.
        assert_eq!(s("gen_ai.provider.name"), None);
        assert_eq!(double_attr(a, "gen_ai.request.temperature"), Some(0.25));
        assert_eq!(int_attr(a, "gen_ai.request.max_tokens"), Some(64));
        assert_eq!(double_attr(a, "gen_ai.request.top_p"), Some(0.9));
        assert_eq!(
            string_array_attr(a, "gen_ai.request.stop_sequences"),
            Some(vec!["END".to_string()])
        );
        assert_eq!(
            string_array_attr(a, "gen_ai.response.finish_reasons"),
            Some(vec!["stop".to_string()])
        );
        assert_eq!(int_attr(a, "gen_ai.usage.input_tokens"), Some(7));
        assert_eq!(int_attr(a, "gen_ai.usage.output_tokens"), Some(3));
        assert_eq!(s("gen_ai.response.model").as_deref(), Some("scripted-001"));
        assert_eq!(s("gen_ai.response.id").as_deref(), Some("r-1"));
        assert_eq!(s("error.type"), None);
        // Absent from the config: not sent.
        assert_eq!(value(a, "gen_ai.request.top_k"), None);
        assert_eq!(value(a, "gen_ai.request.seed"), None);
    }
}

fn otlp_layer(protocol: OtlpProtocol, url: &str) -> GenkitLayer {
    GenkitLayer::builder()
        .realtime(false)
        .otlp(
            OtlpConfig::new(protocol)
                .endpoint(url)
                .service_name("genkit-rs-test"),
        )
        .build()
}

// ------------------------------------------------------------------------- tests ----

#[tokio::test]
async fn http_protobuf_receiver_gets_the_seed_tree() {
    let (url, requests) = http_receiver().await;
    let layer = otlp_layer(OtlpProtocol::HttpProtobuf, &url);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    let ids = RootIds::new();
    let out = telemetry::with_root_ids(ids.clone(), research(&ai, "Rust"))
        .await
        .unwrap();
    assert_eq!(out, json!("Report: Results for: Rust"));
    layer.flush().await;
    let received = spans(&requests);
    for (service, scope, _) in &received {
        assert_eq!(service, "genkit-rs-test");
        assert_eq!(scope, "genkit-tracer");
    }
    let spans: Vec<Span> = received.into_iter().map(|(_, _, s)| s).collect();
    assert_seed_tree(&spans, &ids);
    assert_inputs_outputs_and_gen_ai(&spans);
    let stats = layer.otlp_stats().unwrap();
    assert_eq!((stats.exported, stats.dropped, stats.failed), (5, 0, 0));
    // No Genkit telemetry server was configured: nothing went there.
    assert_eq!(layer.stats().queued, 0);
}

#[tokio::test]
async fn grpc_receiver_gets_the_seed_tree_and_errors() {
    let (url, requests) = grpc_receiver().await;
    let layer = otlp_layer(OtlpProtocol::Grpc, &url);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    let ai = app().await;
    let ids = RootIds::new();
    telemetry::with_root_ids(ids.clone(), research(&ai, "Rust"))
        .await
        .unwrap();
    let failed = RootIds::new();
    let err = telemetry::with_root_ids(failed.clone(), research(&ai, "fail"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), GenkitStatus::Unavailable);
    layer.flush().await;

    let all: Vec<Span> = spans(&requests).into_iter().map(|(_, _, s)| s).collect();
    let ok: Vec<Span> = all
        .iter()
        .filter(|s| hex(&s.trace_id) == ids.trace_id)
        .cloned()
        .collect();
    assert_seed_tree(&ok, &ids);
    assert_inputs_outputs_and_gen_ai(&ok);
    let tool = all
        .iter()
        .find(|s| hex(&s.trace_id) == failed.trace_id && s.name == "web_search")
        .expect("the failed trace's tool span");
    let status = tool.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(status.message.contains("search backend down"), "{status:?}");
    assert_eq!(
        value(&tool.attributes, "genkit:isFailureSource"),
        Some(&any_value::Value::BoolValue(true))
    );
    assert_eq!(tool.events.len(), 1);
    assert_eq!(tool.events[0].name, "exception");
    assert_eq!(
        string_attr(&tool.events[0].attributes, "exception.message").as_deref(),
        Some(status.message.as_str())
    );
}

#[tokio::test]
async fn a_missing_receiver_does_not_affect_calls() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    for protocol in [OtlpProtocol::HttpProtobuf, OtlpProtocol::Grpc] {
        let layer = otlp_layer(protocol, &url);
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
        let ai = app().await;
        assert_eq!(
            research(&ai, "Rust").await.unwrap(),
            json!("Report: Results for: Rust")
        );
        layer.flush().await;
        let stats = layer.otlp_stats().unwrap();
        assert_eq!((stats.exported, stats.failed), (0, 5), "{protocol:?}");
    }
}

/// `telemetry::layer()` configured only by `OTEL_*` variables, in a child process (this
/// test binary re-run with the variables set), for HTTP/protobuf and gRPC; and dev mode:
/// `telemetry::init()`'s gated global layer, exporting over OTLP from the same variables.
#[tokio::test]
async fn otel_environment_variables_configure_the_default_layer() {
    if let Ok(mode) = std::env::var("GENKIT_OTLP_TEST_CHILD") {
        let ai = app().await;
        let ids = RootIds {
            trace_id: std::env::var("GENKIT_OTLP_TEST_TRACE").unwrap(),
            span_id: "00f067aa0ba902b7".into(),
        };
        if mode == "init" {
            // Dev mode: the gated layer is the whole global subscriber.
            assert!(telemetry::init());
            telemetry::with_root_ids(ids, research(&ai, "Rust"))
                .await
                .unwrap();
            telemetry::flush().await;
            return;
        }
        let layer = telemetry::layer();
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
        telemetry::with_root_ids(ids, research(&ai, "Rust"))
            .await
            .unwrap();
        layer.flush().await;
        assert_eq!(layer.otlp_stats().map(|s| s.exported), Some(5));
        return;
    }
    for (mode, protocol, (url, requests)) in [
        ("layer", "http/protobuf", http_receiver().await),
        ("layer", "grpc", grpc_receiver().await),
        ("init", "http/protobuf", http_receiver().await),
    ] {
        let ids = RootIds {
            trace_id: RootIds::new().trace_id,
            span_id: "00f067aa0ba902b7".into(),
        };
        let exe = std::env::current_exe().unwrap();
        let out = tokio::process::Command::new(exe)
            .args([
                "--exact",
                "otel_environment_variables_configure_the_default_layer",
                "--nocapture",
            ])
            .env("GENKIT_OTLP_TEST_CHILD", mode)
            .env("GENKIT_OTLP_TEST_TRACE", &ids.trace_id)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env("OTEL_SERVICE_NAME", "research-from-env")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env_remove("OTEL_TRACES_EXPORTER")
            .env_remove("OTEL_EXPORTER_OTLP_TIMEOUT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .env_remove("GENKIT_ENV")
            .env_remove("GENKIT_TELEMETRY_SERVER")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{mode} {protocol}: child failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let received = spans(&requests);
        assert!(!received.is_empty(), "{mode} {protocol}: nothing received");
        for (service, _, _) in &received {
            assert_eq!(service, "research-from-env", "{mode} {protocol}");
        }
        let spans: Vec<Span> = received.into_iter().map(|(_, _, s)| s).collect();
        assert_seed_tree(&spans, &ids);
        assert_inputs_outputs_and_gen_ai(&spans);
    }
}

/// Dev mode's layer (gated: the whole subscriber's filter, as `telemetry::init` installs
/// it) and a user's subscriber (the layer beside another one) export the same tree, each
/// span with its input and output.
#[tokio::test]
async fn dev_mode_and_a_user_subscriber_export_every_input_and_output() {
    for gated in [true, false] {
        let (url, requests) = http_receiver().await;
        let layer = otlp_layer(OtlpProtocol::HttpProtobuf, &url);
        let ids = RootIds::new();
        let ai = app().await;
        let run = telemetry::with_root_ids(ids.clone(), research(&ai, "Rust"));
        if gated {
            let _guard = tracing::subscriber::set_default(
                tracing_subscriber::registry().with(layer.clone().gated()),
            );
            tracing::callsite::rebuild_interest_cache();
            run.await.unwrap();
        } else {
            let _guard = tracing::subscriber::set_default(
                tracing_subscriber::registry()
                    .with(tracing_subscriber::filter::LevelFilter::INFO)
                    .with(layer.clone()),
            );
            tracing::callsite::rebuild_interest_cache();
            run.await.unwrap();
        }
        layer.flush().await;
        let spans: Vec<Span> = spans(&requests).into_iter().map(|(_, _, s)| s).collect();
        assert_seed_tree(&spans, &ids);
        assert_inputs_outputs_and_gen_ai(&spans);
    }
}

/// A model named `plugin/model` reports its provider (the semantic conventions' name
/// for well-known plugins, else the prefix) and the model without the prefix; a config
/// `version` names the model requested; a failed call carries `error.type`.
#[tokio::test]
async fn model_spans_name_their_provider_and_their_errors() {
    let (url, requests) = http_receiver().await;
    let layer = otlp_layer(OtlpProtocol::HttpProtobuf, &url);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    tracing::callsite::rebuild_interest_cache();
    let ai = genkit_core::Genkit::builder().build().await.unwrap();
    for name in ["openai/gpt-test", "ollama/llama-test"] {
        ai.define_model(name, ModelInfo::default(), |req, _| async move {
            if req.messages.iter().any(|m| m.text() == "fail") {
                return Err(genkit_core::Error::new(
                    GenkitStatus::ResourceExhausted,
                    "quota",
                ));
            }
            let mut r = GenerateResponse::from_text("hi");
            let mut usage = GenerationUsage::default();
            usage.input_tokens = Some(11);
            usage.cached_content_tokens = Some(4);
            r.usage = Some(usage);
            Ok(r)
        })
        .unwrap();
    }
    let request = |text: &str, config: serde_json::Value| {
        json!({
            "messages": [{"role": "user", "content": [{"text": text}]}],
            "config": config,
        })
    };
    let run = |key: &'static str, input| ai.run_action(key, input, Default::default());
    run(
        "/model/openai/gpt-test",
        request("hello", json!({"topK": 40, "seed": 7})),
    )
    .await
    .unwrap();
    run(
        "/model/ollama/llama-test",
        request("hello", json!({"version": "llama-test-q4", "topP": 0.5})),
    )
    .await
    .unwrap();
    let err = run("/model/openai/gpt-test", request("fail", json!(null)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), GenkitStatus::ResourceExhausted);
    layer.flush().await;

    let spans: Vec<Span> = spans(&requests).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let openai: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "openai/gpt-test")
        .collect();
    let in_state = |state: &str| {
        openai
            .iter()
            .find(|s| string_attr(&s.attributes, "genkit:state").as_deref() == Some(state))
            .map(|s| &s.attributes)
            .unwrap()
    };
    let a = in_state("success");
    assert_eq!(
        string_attr(a, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        string_attr(a, "gen_ai.request.model").as_deref(),
        Some("gpt-test")
    );
    assert_eq!(double_attr(a, "gen_ai.request.top_k"), Some(40.0));
    assert_eq!(int_attr(a, "gen_ai.request.seed"), Some(7));
    assert_eq!(int_attr(a, "gen_ai.usage.input_tokens"), Some(11));
    assert_eq!(int_attr(a, "gen_ai.usage.cache_read.input_tokens"), Some(4));
    // Not reported by the model: not sent.
    assert_eq!(value(a, "gen_ai.usage.output_tokens"), None);
    assert_eq!(value(a, "gen_ai.response.model"), None);

    let a = in_state("error");
    assert_eq!(
        string_attr(a, "error.type").as_deref(),
        Some("RESOURCE_EXHAUSTED")
    );
    assert_eq!(
        string_attr(a, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(value(a, "gen_ai.response.finish_reasons"), None);

    let ollama = spans
        .iter()
        .find(|s| s.name == "ollama/llama-test")
        .unwrap();
    let a = &ollama.attributes;
    assert_eq!(
        string_attr(a, "gen_ai.provider.name").as_deref(),
        Some("ollama")
    );
    assert_eq!(
        string_attr(a, "gen_ai.request.model").as_deref(),
        Some("llama-test-q4")
    );
    assert_eq!(double_attr(a, "gen_ai.request.top_p"), Some(0.5));
    assert_eq!(value(a, "gen_ai.request.top_k"), None);
}

// ------------------------------------------------------------ a silent collector ----

/// A collector that accepts connections and reads whatever is sent, but never answers.
async fn silent_collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    url
}

/// The timeout the children run with (milliseconds).
const TIMEOUT_MS: u64 = 3000;

/// `OTEL_EXPORTER_OTLP_TIMEOUT`, and `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` over it, bound
/// each export over HTTP and gRPC, and `telemetry::flush()` returns within that timeout
/// although two batches are held by a collector that never answers. In child processes
/// (the timeout is read from the environment).
#[tokio::test]
async fn otel_timeout_variables_bound_each_export_and_the_whole_flush() {
    if std::env::var_os("GENKIT_OTLP_TIMEOUT_CHILD").is_some() {
        let layer = telemetry::layer();
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
        let ai = app().await;
        // Two batches: the first is taken (and held by the collector) while the
        // second run's spans wait in the queue.
        research(&ai, "Rust").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        research(&ai, "Rust").await.unwrap();
        let started = Instant::now();
        telemetry::flush().await;
        println!("flush_ms {}", started.elapsed().as_millis());
        // Every export fails at the timeout: all ten spans, long before the 10 s default
        // would have failed even the first batch.
        while layer.otlp_stats().map(|s| s.failed) != Some(10)
            && started.elapsed() < Duration::from_secs(9)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "failed {:?}",
            layer.otlp_stats().map(|s| (s.failed, s.exported))
        );
        return;
    }
    let url = silent_collector().await;
    let timeout = TIMEOUT_MS.to_string();
    let mut children = Vec::new();
    for protocol in ["http/protobuf", "grpc"] {
        for traces_specific in [false, true] {
            let exe = std::env::current_exe().unwrap();
            let mut cmd = tokio::process::Command::new(exe);
            cmd.args([
                "--exact",
                "otel_timeout_variables_bound_each_export_and_the_whole_flush",
                "--nocapture",
            ])
            .env("GENKIT_OTLP_TIMEOUT_CHILD", "1")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env_remove("OTEL_TRACES_EXPORTER")
            .env_remove("GENKIT_TELEMETRY_SERVER")
            .env_remove("GENKIT_ENV");
            if traces_specific {
                // The traces-specific variable wins over the general one.
                cmd.env("OTEL_EXPORTER_OTLP_TIMEOUT", "60000")
                    .env("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", &timeout);
            } else {
                cmd.env("OTEL_EXPORTER_OTLP_TIMEOUT", &timeout)
                    .env_remove("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
            }
            children.push((protocol, traces_specific, cmd.output()));
        }
    }
    for (protocol, traces_specific, child) in children {
        let out = child.await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let what = format!("{protocol} (traces-specific variable: {traces_specific})");
        assert!(
            out.status.success(),
            "{what}: child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let flush_ms: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("flush_ms "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{what}: no flush time in:\n{stdout}"));
        eprintln!("{what}: flush returned after {flush_ms} ms");
        // It waited for the silent collector, up to the timeout and not beyond: two
        // batches one after the other would have taken nearly twice as long.
        assert!(
            (TIMEOUT_MS * 4 / 5..TIMEOUT_MS * 3 / 2).contains(&flush_ms),
            "{what}: flush took {flush_ms} ms with a {TIMEOUT_MS} ms timeout"
        );
        assert!(
            stdout.contains("failed Some((10, 0))"),
            "{what}: every export failed at the timeout:\n{stdout}"
        );
    }
}

/// The caller's credentials in the request context reach OTLP as `"<redacted>"` (see
/// `genkit_core::secrets`); the flow still runs with them.
#[tokio::test]
async fn credentials_are_redacted_in_otlp_spans() {
    let (url, requests) = grpc_receiver().await;
    let layer = otlp_layer(OtlpProtocol::Grpc, &url);
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(layer.clone()));
    genkit_core::secrets::mark_secret("tenantKey");
    let ai = app().await;
    let context = json!({"auth": {"apiKey": "Bearer sk-live-0123"}, "tenant": {"id": "t1", "tenantKey": "tk-42"}});
    let out = ai
        .run_action(
            "/flow/research_flow",
            json!({"query": "Rust"}),
            genkit_core::RunOptions::default().with_context(context),
        )
        .await
        .unwrap();
    assert_eq!(out, json!("Report: Results for: Rust"));
    layer.flush().await;

    let received = spans(&requests);
    assert_eq!(received.len(), 5);
    for (_, _, span) in &received {
        let recorded = string_attr(&span.attributes, "genkit:metadata:context")
            .unwrap_or_else(|| panic!("no context on {}", span.name));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&recorded).unwrap(),
            json!({"auth": "<redacted>", "tenant": {"id": "t1", "tenantKey": "<redacted>"}}),
            "{}",
            span.name
        );
        let all = format!("{:?}", span.attributes);
        assert!(!all.contains("sk-live") && !all.contains("tk-42"), "{all}");
    }
}
