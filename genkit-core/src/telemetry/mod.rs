//! Trace export: genkit spans to the Genkit telemetry server (the Dev UI's trace store)
//! and, with the `otlp` feature, to any OpenTelemetry backend over OTLP.
//!
//! Every action run is a `tracing` span with Genkit's attributes (see
//! [`crate::trace`]). [`layer()`] is the `tracing_subscriber` layer that records those
//! spans and, when each one closes, converts it to Genkit's `SpanData` and queues it for
//! export. One background thread POSTs queued spans to `{server}/api/traces` as
//! `TraceData`, one per trace id per batch; the queue is bounded and drops (and counts)
//! when full, so a slow, failing or absent server never blocks or fails a call.
//!
//! The server is `GENKIT_TELEMETRY_SERVER`, else the URL given to [`set_server_url`]
//! (the reflection server does this on `POST /api/notify`). With no URL, nothing is
//! built or sent; with [`GenkitLayer::gated`] (what [`init`] installs) genkit
//! spans are then disabled altogether.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//!
//! // Your own subscriber, with Genkit's trace export added:
//! tracing_subscriber::registry()
//!     .with(genkit_core::telemetry::layer())
//!     .init();
//! genkit_core::telemetry::set_server_url("http://127.0.0.1:4033");
//! ```

mod config;
mod export;
mod ids;
mod layer;
#[cfg(feature = "otlp")]
pub mod otlp;
mod queue;
mod span_data;

pub use config::{server_url, set_server_url};
pub use export::ExportStats;
pub use ids::{RootIds, with_root_ids};
pub use layer::{GenkitLayer, GenkitLayerBuilder};

use tracing_subscriber::layer::SubscriberExt;

/// The tracing layer that turns finished genkit spans into Genkit `TraceData` and
/// exports them to the global telemetry server URL (and, with the `otlp` feature,
/// over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let subscriber = tracing_subscriber::registry().with(genkit_core::telemetry::layer());
/// # drop(subscriber);
/// ```
pub fn layer() -> GenkitLayer {
    let builder = GenkitLayer::builder();
    #[cfg(feature = "otlp")]
    let builder = builder.otlp_from_env();
    builder.build()
}

/// Installs a global subscriber with [`layer()`] (gated: see [`GenkitLayer::gated`]) when none is installed yet (used in dev mode,
/// `GENKIT_ENV=dev`). Returns false if a global subscriber was already installed: add
/// `genkit::telemetry::layer()` to it yourself.
pub fn init() -> bool {
    let subscriber = tracing_subscriber::registry().with(layer().gated());
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

/// Waits until the spans finished so far have been sent by the exporters behind
/// [`layer()`] (the telemetry server's and, with `otlp`, the `OTEL_*`-configured one),
/// or failed. Call it before a short-lived process exits. The exporters are flushed
/// together, each for at most its export timeout in all, however many spans are
/// waiting: a server that never answers holds `flush` for 10 s (the telemetry server's
/// timeout; OTLP: `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// 10 s by default), whichever is longer.
pub async fn flush() {
    let server = export::Exporter::global();
    #[cfg(feature = "otlp")]
    {
        let otlp = otlp::OtlpSink::global();
        let otlp = async {
            if let Some(o) = &otlp {
                o.flush().await;
            }
        };
        futures::join!(server.flush(), otlp);
    }
    #[cfg(not(feature = "otlp"))]
    server.flush().await;
}

/// What the global exporter (the one behind [`layer()`]) has done so far: spans queued,
/// dropped because the queue was full, exported and failed.
pub fn stats() -> ExportStats {
    export::Exporter::global().stats()
}
