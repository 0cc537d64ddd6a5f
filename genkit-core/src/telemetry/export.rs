//! The exporter: a bounded queue of finished spans and one background thread that
//! POSTs them to the telemetry server as Genkit `TraceData`, one per trace id per batch.
//!
//! The caller's side is a `try_send`: when the queue is full the span is dropped and
//! counted, so a slow, failing or absent server never blocks or fails a user's call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::config;
use super::queue::{Progress, next_batch};
use super::span_data::SpanRecord;

/// Default number of spans the queue holds before it drops.
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 4096;
/// Default for the most bytes (approximately: the spans' string fields) the queue holds
/// before it drops.
pub(crate) const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// Most spans sent in one batch.
const MAX_BATCH: usize = 512;
/// How long one POST, and a whole flush, may take.
pub(crate) const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// One finished (or, in realtime mode, just started) span, ready to send. It is
/// converted to JSON on the background thread, off the caller's path.
pub(crate) struct SpanOut {
    pub(crate) record: SpanRecord,
    /// The `tracing` span name (used when the span has no `genkit:name`).
    pub(crate) name: &'static str,
    /// `None`: the span has only started (realtime export, `endTime` 0).
    pub(crate) end: Option<SystemTime>,
    /// Approximate size, counted against the queue's byte budget.
    pub(crate) bytes: usize,
}

/// What an exporter has done so far (a snapshot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans accepted into the queue.
    pub queued: u64,
    /// Spans dropped because the queue was full (in spans, or in bytes: 64 MiB), or
    /// because the exporter could not start.
    pub dropped: u64,
    /// Spans the server accepted (2xx).
    pub exported: u64,
    /// Spans whose POST failed (server down, error status, timeout).
    pub failed: u64,
}

/// Where an exporter sends to.
#[derive(Clone)]
pub(crate) enum Target {
    /// The global URL ([`super::set_server_url`] / `GENKIT_TELEMETRY_SERVER`).
    Global,
    /// A fixed URL.
    Fixed(Arc<str>),
}

impl Target {
    fn url(&self) -> Option<Arc<str>> {
        match self {
            Target::Global => config::global_url(),
            Target::Fixed(u) => Some(u.clone()),
        }
    }

    pub(crate) fn active(&self) -> bool {
        match self {
            Target::Global => config::global_active(),
            Target::Fixed(_) => true,
        }
    }
}

/// Sends spans to a Genkit telemetry server off the hot path.
pub(crate) struct Exporter {
    pub(crate) target: Target,
    capacity: usize,
    max_bytes: usize,
    started: OnceLock<Option<Started>>,
    /// Bytes of the spans waiting in the queue.
    queued_bytes: Arc<AtomicUsize>,
    progress: Arc<Progress>,
}

/// The running background thread: its queue and its runtime.
struct Started {
    tx: mpsc::Sender<SpanOut>,
    rt: Handle,
}

impl Exporter {
    pub(crate) fn new(target: Target, capacity: usize, max_bytes: usize) -> Self {
        Exporter {
            target,
            capacity: capacity.max(1),
            max_bytes,
            started: OnceLock::new(),
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            progress: Arc::new(Progress::default()),
        }
    }

    /// The exporter behind [`super::layer`].
    pub(crate) fn global() -> Arc<Exporter> {
        static GLOBAL: OnceLock<Arc<Exporter>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                Arc::new(Exporter::new(
                    Target::Global,
                    DEFAULT_QUEUE_CAPACITY,
                    MAX_QUEUED_BYTES,
                ))
            })
            .clone()
    }

    pub(crate) fn stats(&self) -> ExportStats {
        let p = &self.progress;
        ExportStats {
            queued: p.queued(),
            dropped: p.dropped(),
            exported: p.exported(),
            failed: p.failed(),
        }
    }

    /// The queue's sender, starting the background thread on first use.
    fn sender(&self) -> Option<&mpsc::Sender<SpanOut>> {
        self.started
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel(self.capacity);
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                let handle = rt.handle().clone();
                let queued_bytes = self.queued_bytes.clone();
                let progress = self.progress.clone();
                let target = self.target.clone();
                std::thread::Builder::new()
                    .name("genkit-telemetry".into())
                    .spawn(move || rt.block_on(worker(rx, target, queued_bytes, progress)))
                    .ok()?;
                Some(Started { tx, rt: handle })
            })
            .as_ref()
            .map(|s| &s.tx)
    }

    /// Queues a span; drops (and counts) it when the queue is full. Never blocks.
    pub(crate) fn send(&self, span: SpanOut) {
        let Some(tx) = self.sender() else {
            self.progress.dropped_one();
            return;
        };
        let bytes = span.bytes;
        let queued = &self.queued_bytes;
        if queued.fetch_add(bytes, Ordering::AcqRel) + bytes > self.max_bytes {
            queued.fetch_sub(bytes, Ordering::AcqRel);
            self.progress.dropped_one();
            return;
        }
        match tx.try_send(span) {
            Ok(()) => self.progress.queued_one(),
            Err(_) => {
                queued.fetch_sub(bytes, Ordering::AcqRel);
                self.progress.dropped_one();
            }
        }
    }

    /// Waits until every span queued before this call has been sent (or failed), for
    /// at most [`POST_TIMEOUT`] in all.
    pub(crate) async fn flush(&self) {
        if let Some(started) = self.started.get().and_then(Option::as_ref) {
            self.progress.flush(&started.rt, POST_TIMEOUT).await;
        }
    }
}

/// The background thread: a small runtime that drains the queue in batches.
async fn worker(
    mut rx: mpsc::Receiver<SpanOut>,
    target: Target,
    queued_bytes: Arc<AtomicUsize>,
    progress: Arc<Progress>,
) {
    let Ok(client) = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .no_proxy()
        .build()
    else {
        return;
    };
    while let Some(batch) = next_batch(&mut rx, MAX_BATCH).await {
        for s in &batch {
            queued_bytes.fetch_sub(s.bytes, Ordering::AcqRel);
        }
        post_batch(&client, &target, batch, &progress).await;
    }
}

/// Groups a batch by trace id (in arrival order) and POSTs one `TraceData` per trace.
async fn post_batch(
    client: &reqwest::Client,
    target: &Target,
    batch: Vec<SpanOut>,
    progress: &Progress,
) {
    let mut traces: Vec<(String, Vec<SpanOut>)> = Vec::new();
    for span in batch {
        // A span's start and end (realtime mode) go in separate documents.
        let group = traces.iter_mut().rev().find(|(t, spans)| {
            *t == span.record.trace_id
                && !spans
                    .iter()
                    .any(|s| s.record.span_id == span.record.span_id)
        });
        match group {
            Some((_, spans)) => spans.push(span),
            None => traces.push((span.record.trace_id.clone(), vec![span])),
        }
    }
    let Some(url) = target.url() else {
        let n: usize = traces.iter().map(|(_, s)| s.len()).sum();
        progress.finished(n as u64, false);
        return;
    };
    let endpoint = format!("{url}/api/traces");
    for (trace_id, spans) in traces {
        let n = spans.len() as u64;
        let body = trace_data(trace_id, spans);
        let ok = match client
            .post(&endpoint)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
        {
            Ok(resp) => resp.status().is_success(),
            Err(_) => false,
        };
        progress.finished(n, ok);
    }
}

/// Genkit's `TraceData` for spans of one trace: `{traceId, displayName?, startTime?,
/// endTime?, spans: {spanId: SpanData}}`, the optional parts copied from the root span.
pub(crate) fn trace_data(trace_id: String, spans: Vec<SpanOut>) -> Value {
    let mut out = Map::new();
    out.insert("traceId".into(), Value::String(trace_id));
    let mut by_id = Map::new();
    for span in spans {
        let data = span.record.to_span_data(span.name, span.end);
        if span.record.parent_span_id.is_none() {
            for key in ["displayName", "startTime", "endTime"] {
                if let Some(v) = data.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
        }
        by_id.insert(span.record.span_id, data);
    }
    out.insert("spans".into(), Value::Object(by_id));
    Value::Object(out)
}
