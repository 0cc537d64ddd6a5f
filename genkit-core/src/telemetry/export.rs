//! The exporter: a bounded queue of finished spans and one background thread that
//! POSTs them to the telemetry server as Genkit `TraceData`, one per trace (a trace's
//! spans wait briefly for its root, so that a trace is usually one POST).
//!
//! The caller's side is a `try_send`: when the queue is full the span is dropped and
//! counted, so a slow, failing or absent server never blocks or fails a user's call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use serde::ser::{Serialize, SerializeMap, Serializer};
use tokio::runtime::Handle;

use super::config;
use super::queue::{GATHER, Progress, SpanQueue};
use super::span_data::{SpanRecord, millis};

/// Default number of spans the queue holds before it drops.
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 16384;
/// Default for the most bytes (approximately: the spans' string fields) the queue holds
/// before it drops.
pub(crate) const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// How many POSTs (of different traces) may be in flight at once.
const CONCURRENT_POSTS: usize = 8;
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
    /// A finished span under a root that is still running: it may wait (briefly) to be
    /// sent with the root, in one POST.
    pub(crate) wait_for_root: bool,
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
    started: OnceLock<Option<Handle>>,
    shared: Arc<Shared>,
}

/// What the callers and the background thread share.
#[derive(Default)]
struct Shared {
    /// Bytes of the spans accepted and not yet sent.
    queued_bytes: AtomicUsize,
    /// Spans accepted and not yet sent.
    queued_spans: AtomicUsize,
    progress: Progress,
    queue: SpanQueue<SpanOut>,
}

impl Shared {
    /// Gives back the budget of spans that left the queue.
    fn release(&self, spans: &[SpanOut]) {
        let bytes: usize = spans.iter().map(|s| s.bytes).sum();
        self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.queued_spans.fetch_sub(spans.len(), Ordering::AcqRel);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.shared.queue.close();
    }
}

impl Exporter {
    pub(crate) fn new(target: Target, capacity: usize, max_bytes: usize) -> Self {
        Exporter {
            target,
            capacity: capacity.max(1),
            max_bytes,
            started: OnceLock::new(),
            shared: Arc::default(),
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
        let p = &self.shared.progress;
        ExportStats {
            queued: p.queued(),
            dropped: p.dropped(),
            exported: p.exported(),
            failed: p.failed(),
        }
    }

    /// Starts the background thread on first use; its runtime's handle.
    fn start(&self) -> Option<&Handle> {
        self.started
            .get_or_init(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                let handle = rt.handle().clone();
                let shared = self.shared.clone();
                let target = self.target.clone();
                std::thread::Builder::new()
                    .name("genkit-telemetry".into())
                    .spawn(move || rt.block_on(worker(target, shared, gather_time())))
                    .ok()?;
                Some(handle)
            })
            .as_ref()
    }

    /// Queues a span; drops (and counts) it when the queue is full (in spans or in
    /// bytes). Never blocks.
    pub(crate) fn send(&self, span: SpanOut) {
        let shared = &self.shared;
        if self.start().is_none() {
            shared.progress.dropped_one();
            return;
        }
        let bytes = span.bytes;
        let over_bytes =
            shared.queued_bytes.fetch_add(bytes, Ordering::AcqRel) + bytes > self.max_bytes;
        let over_spans = shared.queued_spans.fetch_add(1, Ordering::AcqRel) >= self.capacity;
        if over_bytes || over_spans {
            shared.release(std::slice::from_ref(&span));
            shared.progress.dropped_one();
            return;
        }
        match shared.queue.push(span, usize::MAX) {
            Ok(()) => shared.progress.queued_one(),
            Err(span) => {
                shared.release(std::slice::from_ref(&span));
                shared.progress.dropped_one();
            }
        }
    }

    /// Waits until every span queued before this call has been sent (or failed), for
    /// at most [`POST_TIMEOUT`] in all.
    pub(crate) async fn flush(&self) {
        if let Some(rt) = self.started.get().and_then(Option::as_ref) {
            self.shared.queue.ask_flush();
            self.shared.progress.flush(rt, POST_TIMEOUT).await;
        }
    }
}

/// How long finished spans wait for their trace's root span before they are sent
/// anyway (a root that lives longer, or one in another process).
const LINGER: Duration = Duration::from_millis(500);
/// The most bytes (approximately) of finished spans waiting for their roots; past it
/// the longest-waiting traces' spans are sent without their roots.
const MAX_WAITING_BYTES: usize = 2 * 1024 * 1024;

/// In dev mode (`GENKIT_ENV=dev`, or realtime export) spans go at once, for the Dev
/// UI; otherwise they gather for [`GATHER`].
fn gather_time() -> Duration {
    if crate::reflection::is_dev() || super::config::realtime_from_env() {
        Duration::ZERO
    } else {
        GATHER
    }
}

/// The background thread. It sleeps until spans arrive, lets more gather (see
/// [`gather_time`]), then sends every finished trace, one POST per trace; a finished
/// span whose root is still running waits for it (at most [`LINGER`]), so a trace is
/// usually one POST. A flush sends everything at once.
async fn worker(target: Target, shared: Arc<Shared>, gather: Duration) {
    let Some(sender) = Sender::new(target, shared.clone()) else {
        return;
    };
    let mut waiting = Waiting::default();
    loop {
        let deadline = waiting.oldest().map(|t| t + LINGER);
        let everything = shared.queue.wait(gather, deadline).await;
        let mut ready = waiting.take_ready(shared.queue.take());
        if everything {
            ready.extend(waiting.take_all());
        } else if let Some(cutoff) = Instant::now().checked_sub(LINGER) {
            ready.extend(waiting.take_older_than(cutoff));
        }
        ready.extend(waiting.take_over(MAX_WAITING_BYTES));
        sender.post(ready).await;
        if shared.queue.is_closed() && shared.queue.is_empty() {
            return;
        }
    }
}

/// Finished spans waiting for their trace's root, by trace id.
#[derive(Default)]
struct Waiting {
    traces: HashMap<String, (Instant, Vec<SpanOut>)>,
    /// Their approximate size.
    bytes: usize,
}

impl Waiting {
    /// When the longest-waiting trace started waiting.
    fn oldest(&self) -> Option<Instant> {
        self.traces.values().map(|(since, _)| *since).min()
    }

    /// Keeps the spans that wait for their root and returns what is ready to send:
    /// roots, each with every span of its trace that waited for it, and spans that do
    /// not wait (realtime span starts, spans of realtime mode).
    fn take_ready(&mut self, spans: Vec<SpanOut>) -> Vec<SpanOut> {
        let mut ready = Vec::with_capacity(spans.len());
        let now = Instant::now();
        for span in spans {
            if span.wait_for_root {
                self.bytes += span.bytes;
                self.traces
                    .entry(span.record.trace_id.clone())
                    .or_insert_with(|| (now, Vec::new()))
                    .1
                    .push(span);
                continue;
            }
            if span.end.is_some()
                && span.record.parent_span_id.is_none()
                && let Some((_, spans)) = self.traces.remove(&span.record.trace_id)
            {
                self.bytes -= spans.iter().map(|s| s.bytes).sum::<usize>();
                ready.extend(spans);
            }
            ready.push(span);
        }
        ready
    }

    /// Everything that has waited since before `cutoff`.
    fn take_older_than(&mut self, cutoff: Instant) -> Vec<SpanOut> {
        let mut ready = Vec::new();
        self.traces.retain(|_, (since, spans)| {
            if *since <= cutoff {
                ready.append(spans);
                false
            } else {
                true
            }
        });
        self.bytes -= ready.iter().map(|s| s.bytes).sum::<usize>();
        ready
    }

    /// The longest-waiting traces' spans, until what waits is at most `max` bytes:
    /// under many long traces at once, memory stays bounded at the cost of more POSTs.
    fn take_over(&mut self, max: usize) -> Vec<SpanOut> {
        let mut ready = Vec::new();
        if self.bytes <= max {
            return ready;
        }
        let mut by_age: Vec<(Instant, String)> = self
            .traces
            .iter()
            .map(|(id, (since, _))| (*since, id.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, id) in by_age {
            if self.bytes <= max {
                break;
            }
            if let Some((_, spans)) = self.traces.remove(&id) {
                self.bytes -= spans.iter().map(|s| s.bytes).sum::<usize>();
                ready.extend(spans);
            }
        }
        ready
    }

    fn take_all(&mut self) -> Vec<SpanOut> {
        self.bytes = 0;
        self.traces
            .drain()
            .flat_map(|(_, (_, spans))| spans)
            .collect()
    }
}

/// The background thread's side: what it needs to send spans and count them.
struct Sender {
    client: reqwest::Client,
    target: Target,
    shared: Arc<Shared>,
    /// The endpoint, parsed once per server URL.
    endpoint: Mutex<Option<(Arc<str>, reqwest::Url)>>,
}

impl Sender {
    fn new(target: Target, shared: Arc<Shared>) -> Option<Sender> {
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        Some(Sender {
            client,
            target,
            shared,
            endpoint: Mutex::new(None),
        })
    }

    /// `{server}/api/traces`, parsed once per server URL.
    fn endpoint(&self) -> Option<reqwest::Url> {
        let url = self.target.url()?;
        let mut cached = self.endpoint.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((u, parsed)) if Arc::ptr_eq(u, &url) || **u == *url => Some(parsed.clone()),
            _ => {
                let parsed = reqwest::Url::parse(&format!("{url}/api/traces")).ok()?;
                *cached = Some((url, parsed.clone()));
                Some(parsed)
            }
        }
    }

    /// Groups spans by trace id (in arrival order) and POSTs one `TraceData` per trace.
    async fn post(&self, spans: Vec<SpanOut>) {
        if spans.is_empty() {
            return;
        }
        self.shared.release(&spans);
        let progress = &self.shared.progress;
        let by_trace = group_by_trace(spans);
        let Some(endpoint) = self.endpoint() else {
            let n: usize = by_trace.iter().flatten().map(Vec::len).sum();
            progress.finished(n as u64, false);
            return;
        };
        // Traces go concurrently (a server that answers slowly is not a queue that
        // grows); the documents of one trace in order (realtime: a span's start before
        // its end).
        futures::stream::iter(by_trace)
            .for_each_concurrent(CONCURRENT_POSTS, |docs| async {
                for doc in docs {
                    let n = doc.len() as u64;
                    let ok = self.post_one(&endpoint, &doc).await;
                    progress.finished(n, ok);
                }
            })
            .await;
    }

    /// POSTs one `TraceData`; whether the server took it.
    async fn post_one(&self, endpoint: &reqwest::Url, spans: &[SpanOut]) -> bool {
        // Sized for the spans' fields plus escaping, so the body is rarely regrown.
        let approx: usize = spans.iter().map(|s| s.bytes).sum();
        let mut body = Vec::with_capacity(approx + approx / 4);
        if serde_json::to_writer(&mut body, &TraceDataOut(spans)).is_err() {
            return false;
        }
        self.client
            .post(endpoint.clone())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .is_ok_and(|resp| resp.status().is_success())
    }
}

/// Spans grouped by trace id, traces in order of first arrival, each as the
/// `TraceData` documents to send in order. A span's start and its end (realtime mode)
/// go in separate documents: one `TraceData` holds a span once.
fn group_by_trace(spans: Vec<SpanOut>) -> Vec<Vec<Vec<SpanOut>>> {
    let mut traces: Vec<Vec<Vec<SpanOut>>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for span in spans {
        let Some(&i) = index.get(&span.record.trace_id) else {
            index.insert(span.record.trace_id.clone(), traces.len());
            traces.push(vec![vec![span]]);
            continue;
        };
        let docs = &mut traces[i];
        match docs.last_mut() {
            Some(doc) if !doc.iter().any(|s| s.record.span_id == span.record.span_id) => {
                doc.push(span)
            }
            _ => docs.push(vec![span]),
        }
    }
    traces
}

/// Genkit's `TraceData` for spans of one trace (at least one): `{traceId, displayName?,
/// startTime?, endTime?, spans: {spanId: SpanData}}`, the optional parts copied from
/// the root span. Written straight from the records, without copying their fields.
pub(crate) struct TraceDataOut<'a>(pub(crate) &'a [SpanOut]);

impl Serialize for TraceDataOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(first) = self.0.first() {
            map.serialize_entry("traceId", &first.record.trace_id)?;
        }
        if let Some(root) = self.0.iter().find(|s| s.record.parent_span_id.is_none()) {
            map.serialize_entry("displayName", root.record.display_name(root.name))?;
            map.serialize_entry("startTime", &millis(root.record.start))?;
            map.serialize_entry("endTime", &root.end.map(millis).unwrap_or(0.0))?;
        }
        map.serialize_entry("spans", &SpansOut(self.0))?;
        map.end()
    }
}

struct SpansOut<'a>(&'a [SpanOut]);

impl Serialize for SpansOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for span in self.0 {
            map.serialize_entry(
                &span.record.span_id,
                &span.record.span_data(span.name, span.end),
            )?;
        }
        map.end()
    }
}
