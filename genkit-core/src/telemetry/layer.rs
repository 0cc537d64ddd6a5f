//! The `tracing` layer that turns finished genkit spans into Genkit trace data.

use std::sync::Arc;
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::export::{
    DEFAULT_QUEUE_CAPACITY, ExportStats, Exporter, MAX_QUEUED_BYTES, SpanOut, Target,
};
use super::ids;
use super::span_data::{Recorder, SpanRecord};

/// The `tracing` layer that turns finished genkit spans (target `genkit`) into Genkit
/// `TraceData` and exports them: to the Genkit telemetry server (the Dev UI's trace
/// store) and, with the `otlp` feature and `OTEL_*` configuration, over OTLP.
///
/// Get the default one with [`super::layer`]; build one with its own server and queue
/// with [`GenkitLayer::builder`]. Other spans and events are ignored.
#[derive(Clone)]
pub struct GenkitLayer {
    pub(crate) inner: Arc<Inner>,
    /// Acts as the subscriber's filter (see [`GenkitLayer::gated`]).
    gate: bool,
}

pub(crate) struct Inner {
    pub(crate) exporter: Arc<Exporter>,
    pub(crate) realtime: bool,
    #[cfg(feature = "otlp")]
    pub(crate) otlp: Option<Arc<super::otlp::OtlpSink>>,
}

impl Inner {
    /// Whether any sink wants spans now (cheap).
    fn active(&self) -> bool {
        #[cfg(feature = "otlp")]
        if self.otlp.is_some() {
            return true;
        }
        self.exporter.target.active()
    }
}

impl std::fmt::Debug for GenkitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenkitLayer")
            .field("realtime", &self.inner.realtime)
            .field("gated", &self.gate)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl GenkitLayer {
    /// Starts building a layer.
    pub fn builder() -> GenkitLayerBuilder {
        GenkitLayerBuilder::default()
    }

    /// What this layer's exporter to the telemetry server has done so far.
    pub fn stats(&self) -> ExportStats {
        self.inner.exporter.stats()
    }

    /// What this layer's OTLP exporter has done so far (`None` without OTLP).
    #[cfg(feature = "otlp")]
    pub fn otlp_stats(&self) -> Option<super::otlp::OtlpStats> {
        self.inner.otlp.as_ref().map(|o| o.stats())
    }

    /// Waits until every span finished before this call has been sent to the telemetry
    /// server and, with OTLP, to the OTLP backend (or failed). Both are flushed
    /// together, each for at most its export timeout in all (see [`super::flush`]).
    pub async fn flush(&self) {
        let server = self.inner.exporter.flush();
        #[cfg(feature = "otlp")]
        {
            let otlp = async {
                if let Some(o) = &self.inner.otlp {
                    o.flush().await;
                }
            };
            futures::join!(server, otlp);
        }
        #[cfg(not(feature = "otlp"))]
        server.await;
    }

    /// This layer as the whole subscriber's filter, for a subscriber with no other
    /// layer (what [`super::init`] installs): genkit spans are enabled only while a sink
    /// wants them, so with no telemetry server URL (and no OTLP) they are disabled and
    /// cost one `enabled` check; every other span and event is disabled.
    ///
    /// Do not use it in a subscriber with other layers: they would see nothing.
    pub fn gated(self) -> Self {
        GenkitLayer {
            inner: self.inner,
            gate: true,
        }
    }
}

/// Builds a [`GenkitLayer`].
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct GenkitLayerBuilder {
    server_url: Option<String>,
    queue_capacity: Option<usize>,
    queue_bytes: Option<usize>,
    realtime: Option<bool>,
    #[cfg(feature = "otlp")]
    otlp: Option<super::otlp::OtlpConfig>,
    /// Use the process-wide OTLP exporter configured by `OTEL_*`.
    #[cfg(feature = "otlp")]
    otlp_from_env: bool,
}

impl GenkitLayerBuilder {
    /// Sends to this telemetry server instead of the global URL
    /// ([`super::set_server_url`] / `GENKIT_TELEMETRY_SERVER`).
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// How many finished spans may wait for export before new ones are dropped
    /// (default 16384; the queue is also bounded in bytes, see
    /// [`GenkitLayerBuilder::queue_bytes`]).
    pub fn queue_capacity(mut self, spans: usize) -> Self {
        self.queue_capacity = Some(spans);
        self
    }

    /// How many bytes (approximately: the spans' inputs, outputs and other fields) may
    /// wait for export before new spans are dropped (default 64 MiB).
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = Some(bytes);
        self
    }

    /// Also export spans when they start, with `endTime` 0 (default: the
    /// `GENKIT_ENABLE_REALTIME_TELEMETRY=true` environment variable).
    pub fn realtime(mut self, on: bool) -> Self {
        self.realtime = Some(on);
        self
    }

    /// Also exports over OTLP with this configuration (feature `otlp`).
    #[cfg(feature = "otlp")]
    pub fn otlp(mut self, config: super::otlp::OtlpConfig) -> Self {
        self.otlp = Some(config);
        self
    }

    /// Uses the process-wide OTLP exporter configured by the `OTEL_*` variables, if
    /// they configure one (what [`super::layer`] does).
    #[cfg(feature = "otlp")]
    pub(crate) fn otlp_from_env(mut self) -> Self {
        self.otlp_from_env = true;
        self
    }

    /// The layer.
    pub fn build(self) -> GenkitLayer {
        let exporter = match (&self.server_url, self.queue_capacity, self.queue_bytes) {
            (None, None, None) => Exporter::global(),
            (url, cap, bytes) => {
                let target = match url {
                    Some(u) => Target::Fixed(Arc::from(u.trim().trim_end_matches('/'))),
                    None => Target::Global,
                };
                Arc::new(Exporter::new(
                    target,
                    cap.unwrap_or(DEFAULT_QUEUE_CAPACITY),
                    bytes.unwrap_or(MAX_QUEUED_BYTES),
                ))
            }
        };
        GenkitLayer {
            gate: false,
            inner: Arc::new(Inner {
                exporter,
                realtime: self
                    .realtime
                    .unwrap_or_else(super::config::realtime_from_env),
                #[cfg(feature = "otlp")]
                otlp: match self.otlp {
                    Some(config) => super::otlp::OtlpSink::new(config).map(Arc::new),
                    None if self.otlp_from_env => super::otlp::OtlpSink::global(),
                    None => None,
                },
            }),
        }
    }
}

fn is_genkit_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.target() == "genkit"
}

impl<S> Layer<S> for GenkitLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if !self.gate {
            tracing::subscriber::Interest::always()
        } else if is_genkit_span(meta) {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        !self.gate || (is_genkit_span(meta) && self.inner.active())
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_genkit_span(attrs.metadata()) || !self.inner.active() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let parent = span.scope().skip(1).find_map(|s| {
            s.extensions()
                .get::<SpanRecord>()
                .map(|r| (r.trace_id.clone(), r.span_id.clone()))
        });
        let (trace_id, span_id, parent_span_id) = match parent {
            Some((trace_id, parent_id)) => (trace_id, ids::span_id(), Some(parent_id)),
            None => match ids::take_root_ids() {
                Some(root) => (root.trace_id, root.span_id, None),
                None => (ids::trace_id(), ids::span_id(), None),
            },
        };
        let mut record = SpanRecord {
            trace_id,
            span_id,
            parent_span_id,
            start: SystemTime::now(),
            fields: Vec::with_capacity(16),
            start_exported: false,
        };
        attrs.record(&mut Recorder(&mut record));
        span.extensions_mut().insert(record);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(record) = ext.get_mut::<SpanRecord>() {
            values.record(&mut Recorder(record));
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.inner.realtime {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut ext = span.extensions_mut();
        let Some(record) = ext.get_mut::<SpanRecord>() else {
            return;
        };
        if record.start_exported {
            return;
        }
        record.start_exported = true;
        if self.inner.exporter.target.active() {
            self.inner.exporter.send(SpanOut {
                bytes: record.approx_bytes(),
                record: record.clone(),
                name: span.name(),
                end: None,
                wait_for_root: false,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(record) = span.extensions_mut().remove::<SpanRecord>() else {
            return;
        };
        let end = SystemTime::now();
        let to_server = self.inner.exporter.target.active();
        #[cfg(feature = "otlp")]
        if let Some(otlp) = &self.inner.otlp {
            if !to_server {
                otlp.export(record, span.name(), end);
                return;
            }
            otlp.export(record.clone(), span.name(), end);
        }
        if to_server {
            self.inner.exporter.send(SpanOut {
                bytes: record.approx_bytes(),
                // Realtime mode shows each span as it ends; otherwise a span may wait
                // to go with its root, in one POST.
                wait_for_root: !self.inner.realtime && record.parent_span_id.is_some(),
                record,
                name: span.name(),
                end: Some(end),
            });
        }
    }
}
