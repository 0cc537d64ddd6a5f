//! OpenTelemetry export over OTLP (feature `otlp`): the same genkit spans that go to
//! the Genkit telemetry server, sent to any OTLP backend (an OpenTelemetry Collector,
//! Jaeger, Tempo, Cloud Trace's OTLP endpoint, …) over HTTP (protobuf or JSON) or gRPC.
//!
//! [`super::layer()`] turns it on when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, with the standard variables:
//!
//! | variable | meaning |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL; `/v1/traces` is appended for HTTP |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | full traces URL (wins) |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` / `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` | `http/protobuf` (default), `http/json` or `grpc` |
//! | `OTEL_EXPORTER_OTLP_HEADERS` | as the OTLP spec says |
//! | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` | milliseconds one export, and a whole [`flush`](super::flush), may take (default 10 000) |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource |
//! | `OTEL_TRACES_EXPORTER=none` | turns OTLP export off |
//!
//! Spans are queued (bounded; dropped and counted when full) and exported in batches
//! by one background thread, so a slow or absent backend never blocks a call.
//!
//! Each span carries Genkit's `genkit:*` attributes and, on model and tool spans, the
//! OpenTelemetry GenAI ones (`gen_ai.operation.name`, `gen_ai.provider.name`,
//! `gen_ai.request.model`, request parameters, `gen_ai.response.finish_reasons`,
//! `gen_ai.usage.input_tokens` / `output_tokens`, `gen_ai.tool.name`, …; string arrays
//! as OTLP arrays); the README's "Traces in production" lists them all.
//!
//! ```
//! use genkit_core::telemetry::{GenkitLayer, otlp::{OtlpConfig, OtlpProtocol}};
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//!
//! let layer = GenkitLayer::builder()
//!     .otlp(
//!         OtlpConfig::new(OtlpProtocol::Grpc)
//!             .endpoint("http://127.0.0.1:4317")
//!             .service_name("research"),
//!     )
//!     .build();
//! tracing_subscriber::registry().with(layer).init();
//! ```

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use tokio::runtime::Handle;

use super::queue::{GATHER, Progress, SpanQueue};
use super::span_data::{FieldValue, SpanRecord};
use crate::trace::gen_ai::ARRAY_FIELDS;

/// How long one export, and a whole flush, may take when neither the configuration nor
/// the environment says (the OTLP specification's default).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most spans sent in one export.
const MAX_BATCH: usize = 512;

/// The OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// HTTP with protobuf bodies (`http/protobuf`, port 4318).
    HttpProtobuf,
    /// HTTP with JSON bodies (`http/json`).
    HttpJson,
    /// gRPC (`grpc`, port 4317).
    Grpc,
}

impl OtlpProtocol {
    /// Parses an `OTEL_EXPORTER_OTLP_PROTOCOL` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
            "http/json" => Some(OtlpProtocol::HttpJson),
            "grpc" => Some(OtlpProtocol::Grpc),
            _ => None,
        }
    }
}

/// How to export over OTLP. What is not set here comes from the `OTEL_*` variables.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OtlpConfig {
    /// The transport.
    pub protocol: OtlpProtocol,
    /// The endpoint: a base URL (`/v1/traces` is appended for HTTP); `None`: from the
    /// environment, else the OTLP default.
    pub endpoint: Option<String>,
    /// `service.name`; `None`: `OTEL_SERVICE_NAME`, else the SDK's default.
    pub service_name: Option<String>,
    /// How many spans may wait for export before new ones are dropped.
    pub queue_capacity: usize,
    /// How long one export, and a whole flush, may take; `None`:
    /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`
    /// (milliseconds), else 10 s.
    pub timeout: Option<Duration>,
}

impl OtlpConfig {
    /// A configuration for `protocol`, everything else from the environment.
    pub fn new(protocol: OtlpProtocol) -> Self {
        OtlpConfig {
            protocol,
            endpoint: None,
            service_name: None,
            queue_capacity: 16384,
            timeout: None,
        }
    }

    /// The configuration given by the `OTEL_*` variables, when an OTLP endpoint is set
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and
    /// `OTEL_TRACES_EXPORTER` is not `none`.
    pub fn from_env() -> Option<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim() == "none") {
            return None;
        }
        set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"))?;
        let protocol = set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .and_then(|p| OtlpProtocol::parse(&p))
            .unwrap_or(OtlpProtocol::HttpProtobuf);
        let mut config = OtlpConfig::new(protocol);
        config.timeout = timeout_from_vars(var);
        Some(config)
    }

    /// Sets the endpoint (a base URL: `/v1/traces` is appended for HTTP).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Sets `service.name`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the queue's capacity (spans).
    pub fn queue_capacity(mut self, spans: usize) -> Self {
        self.queue_capacity = spans.max(1);
        self
    }

    /// Sets how long one export, and a whole flush, may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the exporter (inside the background thread's runtime).
    fn build(&self) -> Result<opentelemetry_otlp::SpanExporter, String> {
        let builder = opentelemetry_otlp::SpanExporter::builder();
        let built = match self.protocol {
            OtlpProtocol::Grpc => {
                let mut b = builder.with_tonic().with_timeout(self.export_timeout());
                if let Some(e) = &self.endpoint {
                    b = b.with_endpoint(e.clone());
                }
                b.build()
            }
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
                let protocol = if self.protocol == OtlpProtocol::HttpJson {
                    Protocol::HttpJson
                } else {
                    Protocol::HttpBinary
                };
                let timeout = self.export_timeout();
                let mut b = builder
                    .with_http()
                    .with_protocol(protocol)
                    .with_http_client(ReqwestClient::new(timeout))
                    .with_timeout(timeout);
                if let Some(e) = &self.endpoint {
                    b = b.with_endpoint(format!("{}/v1/traces", e.trim_end_matches('/')));
                }
                b.build()
            }
        };
        built.map_err(|e| e.to_string())
    }

    /// The timeout in force: the configured one, else the environment's, else 10 s.
    fn export_timeout(&self) -> Duration {
        self.timeout
            .or_else(|| timeout_from_vars(|name| std::env::var(name).ok()))
            .unwrap_or(DEFAULT_TIMEOUT)
    }

    fn resource(&self) -> Resource {
        let b = Resource::builder();
        match &self.service_name {
            Some(name) => b.with_service_name(name.clone()).build(),
            None => b.build(),
        }
    }
}

/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`: a positive
/// number of milliseconds (other values are ignored, as the specification asks).
fn timeout_from_vars(var: impl Fn(&str) -> Option<String>) -> Option<Duration> {
    [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]
    .into_iter()
    .filter_map(|name| var(name)?.trim().parse::<u64>().ok())
    .find(|ms| *ms > 0)
    .map(Duration::from_millis)
}

/// A finished span, converted on the background thread.
type Queued = Box<(SpanRecord, &'static str, SystemTime)>;

/// What the OTLP exporter has done so far (a snapshot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtlpStats {
    /// Spans dropped because the queue was full.
    pub dropped: u64,
    /// Spans exported.
    pub exported: u64,
    /// Spans whose export failed.
    pub failed: u64,
}

/// The queue to the OTLP background exporter.
pub(crate) struct OtlpSink {
    queue: Arc<SpanQueue<Queued>>,
    capacity: usize,
    progress: Arc<Progress>,
    /// The background thread's runtime (flushes wait on it).
    rt: Handle,
    /// How long one export, and a whole flush, may take.
    timeout: Duration,
}

impl Drop for OtlpSink {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl OtlpSink {
    /// Starts the background thread; `None` if it cannot start.
    pub(crate) fn new(mut config: OtlpConfig) -> Option<Self> {
        let timeout = config.export_timeout();
        config.timeout = Some(timeout);
        let queue = Arc::new(SpanQueue::default());
        let progress = Arc::new(Progress::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let handle = rt.handle().clone();
        let (p, q) = (progress.clone(), queue.clone());
        let capacity = config.queue_capacity.max(1);
        std::thread::Builder::new()
            .name("genkit-otlp".into())
            .spawn(move || rt.block_on(worker(config, q, p)))
            .ok()?;
        Some(OtlpSink {
            queue,
            capacity,
            progress,
            rt: handle,
            timeout,
        })
    }

    /// The process-wide sink configured by the `OTEL_*` variables (started once).
    pub(crate) fn global() -> Option<Arc<OtlpSink>> {
        static GLOBAL: std::sync::OnceLock<Option<Arc<OtlpSink>>> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| OtlpConfig::from_env().and_then(OtlpSink::new).map(Arc::new))
            .clone()
    }

    pub(crate) fn stats(&self) -> OtlpStats {
        OtlpStats {
            dropped: self.progress.dropped(),
            exported: self.progress.exported(),
            failed: self.progress.failed(),
        }
    }

    /// Queues a finished span; drops (and counts) it when the queue is full.
    pub(crate) fn export(&self, record: SpanRecord, fallback_name: &'static str, end: SystemTime) {
        let span = Box::new((record, fallback_name, end));
        match self.queue.push(span, self.capacity) {
            Ok(()) => self.progress.queued_one(),
            Err(_) => self.progress.dropped_one(),
        }
    }

    /// Waits until the spans queued so far have been exported (or failed), for at most
    /// the export timeout in all.
    pub(crate) async fn flush(&self) {
        self.queue.ask_flush();
        self.progress.flush(&self.rt, self.timeout).await;
    }
}

/// The background thread: waits for spans, lets more gather for [`GATHER`] (a flush
/// cuts it short), and exports them in batches of at most [`MAX_BATCH`].
async fn worker(config: OtlpConfig, queue: Arc<SpanQueue<Queued>>, progress: Arc<Progress>) {
    // Built inside the runtime: the gRPC channel needs one.
    let mut exporter = config.build().ok();
    if let Some(e) = &mut exporter {
        e.set_resource(&config.resource());
    }
    loop {
        queue.wait(GATHER, None).await;
        let mut spans = queue.take().into_iter().peekable();
        while spans.peek().is_some() {
            let batch: Vec<SpanData> = spans
                .by_ref()
                .take(MAX_BATCH)
                .map(|s| {
                    let (record, name, end) = *s;
                    to_otel(record, name, end)
                })
                .collect();
            let n = batch.len() as u64;
            let ok = match &exporter {
                Some(e) => e.export(batch).await.is_ok(),
                None => false,
            };
            progress.finished(n, ok);
        }
        if queue.is_closed() && queue.is_empty() {
            break;
        }
    }
    if let Some(e) = exporter {
        let _ = e.shutdown();
    }
}

/// An OpenTelemetry span from a recorded genkit span: same ids, name, times, the
/// `genkit:*` attributes, the error status and an `exception` event. The record's
/// strings move into the span's attributes (no copy of a span's input or output).
fn to_otel(record: SpanRecord, fallback_name: &str, end: SystemTime) -> SpanData {
    let trace_id = TraceId::from_hex(&record.trace_id).unwrap_or(TraceId::INVALID);
    let span_id = SpanId::from_hex(&record.span_id).unwrap_or(SpanId::INVALID);
    let parent = record
        .parent_span_id
        .as_deref()
        .and_then(|p| SpanId::from_hex(p).ok())
        .unwrap_or(SpanId::INVALID);
    let name = record.display_name(fallback_name).to_string();
    let mut events = SpanEvents::default();
    let status = match record.error_message() {
        Some(message) => {
            events.events.push(opentelemetry::trace::Event::new(
                "exception",
                end,
                vec![
                    KeyValue::new("exception.type", "Error"),
                    KeyValue::new("exception.message", message.to_string()),
                ],
                0,
            ));
            Status::error(message.to_string())
        }
        None => Status::Unset,
    };
    let SpanRecord { fields, start, .. } = record;
    let attributes = fields
        .into_iter()
        .filter(|(name, _)| !matches!(*name, "otel.name" | "exception.message"))
        .map(|(name, value)| KeyValue::new(name, otel_value(name, value)))
        .collect();
    SpanData {
        span_context: SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: parent,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Owned(name),
        start_time: start,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status,
        instrumentation_scope: InstrumentationScope::builder("genkit-tracer")
            .with_version("v1")
            .build(),
    }
}

/// A recorded field's value as an OpenTelemetry value (string arrays as arrays).
fn otel_value(name: &str, value: FieldValue) -> Value {
    match value {
        FieldValue::Str(s) if ARRAY_FIELDS.contains(&name) => string_array(&s),
        FieldValue::Str(s) => Value::from(s),
        FieldValue::Bool(b) => Value::from(b),
        FieldValue::I64(i) => Value::from(i),
        FieldValue::U64(u) => i64::try_from(u)
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(u.to_string())),
        FieldValue::F64(f) => Value::from(f),
    }
}

/// A string-array attribute from its JSON text (`["stop"]`); text that is not such an
/// array stays a string.
fn string_array(json: &str) -> Value {
    match serde_json::from_str::<Vec<String>>(json) {
        Ok(items) => Value::Array(Array::String(
            items.into_iter().map(StringValue::from).collect(),
        )),
        Err(_) => Value::from(json.to_string()),
    }
}

/// The OTLP HTTP client: the same reqwest (rustls) client the rest of genkit-rs uses.
#[derive(Debug)]
struct ReqwestClient(reqwest::Client);

impl ReqwestClient {
    fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder().timeout(timeout).build();
        ReqwestClient(client.unwrap_or_default())
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ReqwestClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let (parts, body) = request.into_parts();
        let response = self
            .0
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut builder = opentelemetry_http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let bytes = response.bytes().await?;
        Ok(builder.body(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_selects_otlp_and_its_protocol() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(OtlpConfig::from_vars(vars(&[])).is_none());
        let c = OtlpConfig::from_vars(vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:4318")]));
        assert_eq!(c.map(|c| c.protocol), Some(OtlpProtocol::HttpProtobuf));
        let c = OtlpConfig::from_vars(vars(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://x:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]));
        assert_eq!(c.map(|c| c.protocol), Some(OtlpProtocol::Grpc));
        let c = OtlpConfig::from_vars(vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ]));
        assert_eq!(c.map(|c| c.protocol), Some(OtlpProtocol::HttpJson));
        assert!(
            OtlpConfig::from_vars(vars(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:4318"),
                ("OTEL_TRACES_EXPORTER", "none"),
            ]))
            .is_none()
        );
    }
}
