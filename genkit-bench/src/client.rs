//! The client process: runs one workload with one Rust implementation and prints one
//! JSON line ([`ClientResult`]). The runner starts one per row so that peak RSS and CPU
//! time belong to that row alone; the JS and Python peers print the same line.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::stats::{cpu_seconds, p50_p99, peak_rss_kb};
use crate::workloads::{Impl, Side, long_prompt};

/// What one client process measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientResult {
    /// Implementation name.
    #[serde(rename = "impl")]
    pub imp: String,
    /// `overhead`, `loop` or `stream`.
    pub workload: String,
    /// Generates in flight.
    pub concurrency: usize,
    /// Completed calls measured.
    pub n: usize,
    /// Wall seconds of the measured phase.
    #[serde(default)]
    pub wall_s: Option<f64>,
    /// CPU seconds (user + system, whole process) of the measured phase.
    pub cpu_s: f64,
    /// Median latency (ms).
    #[serde(default)]
    pub p50_ms: Option<f64>,
    /// 99th percentile latency (ms).
    #[serde(default)]
    pub p99_ms: Option<f64>,
    /// Median time to first chunk (ms).
    #[serde(default)]
    pub ttfc_ms: Option<f64>,
    /// Chunks per second over the streams.
    #[serde(default)]
    pub chunks_per_s: Option<f64>,
    /// Peak RSS of the process (KiB).
    pub rss_kb: u64,
    /// In-flight provider rows: peak RSS after the first generate, before the load (KiB).
    #[serde(default)]
    pub start_rss_kb: Option<u64>,
    /// Agents: sessions created and left idle.
    #[serde(default)]
    pub idle_sessions: Option<usize>,
    /// Agents: RSS growth over the idle sessions (KiB).
    #[serde(default)]
    pub idle_rss_kb: Option<u64>,
}

/// What a client process runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientArgs {
    /// The implementation.
    pub imp: Impl,
    /// `overhead`, `loop` or `stream`.
    pub workload: String,
    /// The server.
    pub base_url: String,
    /// Generates in flight (loop).
    pub concurrency: usize,
    /// Measured calls (overhead, stream).
    pub calls: usize,
    /// Warm-up calls.
    pub warmup: usize,
    /// Measured duration (loop); for agents with `turns`, a cap.
    pub duration: Duration,
    /// Agents: turns per active session (0: as many as fit in `duration`).
    pub turns: usize,
    /// Agents: HTTP/2 from the first byte (`GoogleAi::with_http2_prior_knowledge`).
    pub http2: bool,
}

/// The value after `flag`.
pub fn value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The number after `flag`, or `default`.
pub fn num<T: std::str::FromStr>(
    args: &[String],
    flag: &str,
    default: T,
) -> std::result::Result<T, String> {
    match value(args, flag) {
        Some(v) => v.parse().map_err(|_| format!("{flag}: not a number: {v}")),
        None => Ok(default),
    }
}

impl ClientArgs {
    /// Parses `--impl NAME --workload W --base-url URL [--concurrency N] [--calls N]
    /// [--warmup N] [--duration-s S] [--turns N] [--http2]`.
    pub fn from_args(args: &[String]) -> std::result::Result<ClientArgs, String> {
        let name = value(args, "--impl").ok_or("--impl is required")?;
        let imp = Impl::parse(&name).ok_or_else(|| format!("unknown --impl {name}"))?;
        Ok(ClientArgs {
            imp,
            workload: value(args, "--workload").ok_or("--workload is required")?,
            base_url: value(args, "--base-url").ok_or("--base-url is required")?,
            concurrency: num(args, "--concurrency", 1)?,
            calls: num(args, "--calls", 100)?,
            warmup: num(args, "--warmup", 10)?,
            duration: Duration::from_secs_f64(num(args, "--duration-s", 3.0)?),
            turns: num(args, "--turns", 0)?,
            http2: args.iter().any(|a| a == "--http2"),
        })
    }
}

/// The warm-up before a measured window of `window`: a quarter of it, 0.2 to 2 s.
pub fn warm_up(window: Duration) -> Duration {
    (window / 4).clamp(Duration::from_millis(200), Duration::from_secs(2))
}

/// Runs the workload.
pub async fn run(a: ClientArgs) -> Result<ClientResult> {
    let side = if a.workload == "agents" {
        None
    } else {
        Some(Side::new(a.imp, &a.base_url).await?)
    };
    let mut r = ClientResult {
        imp: a.imp.name().to_string(),
        workload: a.workload.clone(),
        concurrency: a.concurrency,
        ..Default::default()
    };
    match a.workload.as_str() {
        "overhead" => {
            let side = side.as_ref().ok_or_else(|| Error::internal("no client"))?;
            for _ in 0..a.warmup {
                side.overhead().await?;
            }
            let mut lat = Vec::with_capacity(a.calls);
            let c0 = cpu_seconds();
            let w0 = Instant::now();
            for _ in 0..a.calls {
                let t = Instant::now();
                side.overhead().await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            flush_export().await?;
            r.wall_s = Some(w0.elapsed().as_secs_f64());
            r.cpu_s = cpu_seconds() - c0;
            let (p50, p99) = p50_p99(&mut lat);
            r.n = lat.len();
            (r.p50_ms, r.p99_ms) = (Some(p50), Some(p99));
        }
        "loop" => {
            let side = side.as_ref().ok_or_else(|| Error::internal("no client"))?;
            for _ in 0..a.warmup.min(5) {
                side.tool_loop().await?;
            }
            let lat = Arc::new(Mutex::new(Vec::new()));
            let failed: Arc<Mutex<Option<Error>>> = Arc::default();
            // Steady state: the workers run a warm-up period first; the window counts
            // the generates that complete inside it.
            let window_start = Instant::now() + warm_up(a.duration);
            let deadline = window_start + a.duration;
            for _ in 0..a.concurrency {
                let (side, lat, failed) = (side.clone(), lat.clone(), failed.clone());
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        if let Err(e) = side.tool_loop().await {
                            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                            return;
                        }
                        let done = Instant::now();
                        if done >= window_start && done <= deadline {
                            lat.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push((done - t).as_secs_f64() * 1000.0);
                        }
                    }
                });
            }
            tokio::time::sleep_until(window_start.into()).await;
            let c0 = cpu_seconds();
            let w0 = Instant::now();
            tokio::time::sleep_until(deadline.into()).await;
            r.wall_s = Some(w0.elapsed().as_secs_f64());
            r.cpu_s = cpu_seconds() - c0;
            if let Some(e) = failed.lock().unwrap_or_else(|e| e.into_inner()).take() {
                return Err(e);
            }
            if let Some(layer) = EXPORT_LAYER.get() {
                let s = layer.stats();
                let o = layer.otlp_stats().unwrap_or_default();
                if s.dropped + o.dropped > 0 {
                    return Err(Error::internal(format!(
                        "export: {} spans dropped",
                        s.dropped + o.dropped
                    )));
                }
            }
            let mut lat = std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
            let (p50, p99) = p50_p99(&mut lat);
            r.n = lat.len();
            (r.p50_ms, r.p99_ms) = (Some(p50), Some(p99));
        }
        "stream" => {
            let side = side.as_ref().ok_or_else(|| Error::internal("no client"))?;
            let prompt = long_prompt();
            side.stream(&prompt).await?;
            let mut ttfc = Vec::new();
            let mut chunks = 0usize;
            let c0 = cpu_seconds();
            let w0 = Instant::now();
            for _ in 0..a.calls {
                let (first, n) = side.stream(&prompt).await?;
                ttfc.push(first);
                chunks += n;
            }
            flush_export().await?;
            let wall = w0.elapsed().as_secs_f64();
            r.cpu_s = cpu_seconds() - c0;
            r.wall_s = Some(wall);
            r.n = a.calls;
            let (p50, _) = p50_p99(&mut ttfc);
            r.ttfc_ms = Some(p50);
            r.chunks_per_s = Some(chunks as f64 / wall.max(1e-9));
        }
        "agents" => {
            let a = crate::agents::run(
                &a.base_url,
                a.calls,
                a.concurrency,
                a.turns,
                a.duration,
                a.http2,
            )
            .await?;
            r.n = a.turns;
            r.wall_s = Some(a.wall_s);
            r.cpu_s = a.cpu_s;
            (r.p50_ms, r.p99_ms) = (Some(a.p50_ms), Some(a.p99_ms));
            r.idle_sessions = Some(a.idle_sessions);
            r.idle_rss_kb = Some(a.idle_rss_kb);
        }
        other => return Err(Error::invalid_argument(format!("unknown workload {other}"))),
    }
    r.rss_kb = peak_rss_kb();
    Ok(r)
}

/// The environment variable through which the runner gives export rows its sink's URL.
pub const SINK_ENV: &str = "GENKIT_BENCH_SINK";

static EXPORT_LAYER: std::sync::OnceLock<genkit_core::telemetry::GenkitLayer> =
    std::sync::OnceLock::new();

/// Installs the subscriber of an export row: `telemetry::layer()` as users add it,
/// sending to the sink named by [`SINK_ENV`], to its `/api/traces` (`otlp == false`) or
/// over OTLP/HTTP protobuf to its `/v1/traces`.
pub fn install_export_tracing(otlp: bool) -> std::result::Result<(), String> {
    use genkit_core::telemetry::{
        GenkitLayer,
        otlp::{OtlpConfig, OtlpProtocol},
    };
    use tracing_subscriber::layer::SubscriberExt;
    let sink = std::env::var(SINK_ENV).map_err(|_| format!("{SINK_ENV} is not set"))?;
    let layer = if otlp {
        GenkitLayer::builder()
            .otlp(OtlpConfig::new(OtlpProtocol::HttpProtobuf).endpoint(sink))
            .build()
    } else {
        GenkitLayer::builder().server_url(sink).build()
    };
    let _ = EXPORT_LAYER.set(layer.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).map_err(|e| e.to_string())
}

/// Waits for the export row's layer to send what it has queued (nothing for other
/// rows), so the measured CPU includes the export of every measured call. Fails when
/// a span was dropped or its export failed.
pub async fn flush_export() -> Result<()> {
    let Some(layer) = EXPORT_LAYER.get() else {
        return Ok(());
    };
    layer.flush().await;
    let server = layer.stats();
    let (dropped, failed) = match layer.otlp_stats() {
        Some(o) => (server.dropped + o.dropped, server.failed + o.failed),
        None => (server.dropped, server.failed),
    };
    if dropped + failed > 0 {
        return Err(Error::internal(format!(
            "export: {dropped} spans dropped, {failed} failed"
        )));
    }
    Ok(())
}

/// Installs the "tracing on" subscriber: the registry with a layer that does nothing but
/// enables target `genkit`, so every genkit span is created, entered and closed (and
/// genkit serializes what it records on spans) at the cost any subscriber pays.
pub fn install_noop_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::{Layer, filter};
    struct Noop;
    impl<S: tracing::Subscriber> Layer<S> for Noop {}
    let layer = Noop.with_filter(filter::filter_fn(|m| m.target() == "genkit"));
    let subscriber = tracing_subscriber::registry().with(layer);
    let _ = tracing::subscriber::set_global_default(subscriber);
}
