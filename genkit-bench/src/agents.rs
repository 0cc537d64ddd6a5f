//! The agents workload: genkit-rs agents (`Genkit::define_agent` with an
//! `InMemorySessionStore`) on the Gemini plugin against the benchmark mock.
//!
//! * **idle**: `idle` sessions, each after one turn (its snapshot, with the user message
//!   and the answer, held by the store); the process's RSS growth over them.
//! * **active**: `active` sessions (`session-0`, `session-1`, …: the first of the idle
//!   ones, if any, else new ones), each running `turns` turns one after the other (or,
//!   with `turns` 0, turn after turn for the duration); turns per second over the time
//!   all of them took.
//!
//! The runner measures the two in separate processes (`idle` 0 for the active run, `active`
//! 0 for the idle one), so the active run's peak RSS is that of its sessions alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genkit_core::agent::{Agent, AgentInit, AgentInput, InMemorySessionStore};
use genkit_core::{Error, Genkit, Result};
use genkit_googleai::GoogleAi;

use crate::stats::{cpu_seconds, p50_p99, rss_kb};

/// What the agents workload measured.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AgentsResult {
    /// Sessions created.
    pub idle_sessions: usize,
    /// RSS growth over them (KiB).
    pub idle_rss_kb: u64,
    /// Turns completed by the active sessions in the window.
    pub turns: usize,
    /// The window (s).
    pub wall_s: f64,
    /// CPU seconds in the window.
    pub cpu_s: f64,
    /// Turn latency p50 / p99 (ms).
    pub p50_ms: f64,
    /// Turn latency p99 (ms).
    pub p99_ms: f64,
}

async fn turn(agent: &Agent, session: &str) -> Result<()> {
    let out = agent
        .run(
            AgentInit::session(session),
            AgentInput::text("Hello there"),
            None,
            None,
        )
        .await?;
    if out.text().starts_with("done") {
        Ok(())
    } else {
        Err(Error::internal(format!(
            "unexpected agent output: error {:?}, finish {:?}, message {:?}",
            out.error, out.finish_reason, out.message
        )))
    }
}

/// Runs the workload against `base_url`.
pub async fn run(
    base_url: &str,
    idle: usize,
    active: usize,
    turns: usize,
    duration: Duration,
    http2: bool,
) -> Result<AgentsResult> {
    let mut gemini = GoogleAi::new("local").with_base_url(base_url);
    if http2 {
        gemini = gemini.with_http2_prior_knowledge();
    }
    let ai = Genkit::builder()
        .plugin(gemini)
        .model(format!("googleai/{}", crate::workloads::MODEL))
        .without_submitted_actions()
        .build()
        .await?;
    let agent = Arc::new(
        ai.define_agent("benchAgent")
            .system("You are brief.")
            .store(InMemorySessionStore::new())
            .build()?,
    );
    // Warm-up: connection pool, allocator arenas.
    for i in 0..64 {
        turn(&agent, &format!("warm-{i}")).await?;
    }
    let before = rss_kb();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (agent, next) = (agent.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= idle {
                    return Ok::<_, Error>(());
                }
                turn(&agent, &format!("session-{i}")).await?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| Error::internal(e.to_string()))??;
    }
    let idle_rss_kb = rss_kb().saturating_sub(before);

    let lat = Arc::new(Mutex::new(Vec::new()));
    let failed: Arc<Mutex<Option<Error>>> = Arc::default();
    let c0 = cpu_seconds();
    let w0 = Instant::now();
    let deadline = w0 + duration;
    let mut sessions = tokio::task::JoinSet::new();
    for i in 0..active {
        let (agent, lat, failed) = (agent.clone(), lat.clone(), failed.clone());
        sessions.spawn(async move {
            let session = format!("session-{i}");
            let mut done_turns = 0;
            while Instant::now() < deadline && (turns == 0 || done_turns < turns) {
                done_turns += 1;
                let t = Instant::now();
                if let Err(e) = turn(&agent, &session).await {
                    *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    return;
                }
                let done = Instant::now();
                if done <= deadline {
                    lat.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((done - t).as_secs_f64() * 1000.0);
                }
            }
        });
    }
    if turns == 0 {
        tokio::time::sleep_until(deadline.into()).await;
    } else {
        // Every session ran its turns (or the cap passed).
        let _ = tokio::time::timeout_at(deadline.into(), async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
    }
    let wall_s = w0.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds() - c0;
    if let Some(e) = failed.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    let mut lat = std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
    let (p50_ms, p99_ms) = p50_p99(&mut lat);
    Ok(AgentsResult {
        idle_sessions: idle,
        idle_rss_kb,
        turns: lat.len(),
        wall_s,
        cpu_s,
        p50_ms,
        p99_ms,
    })
}
