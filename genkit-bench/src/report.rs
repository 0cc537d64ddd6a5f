//! The markdown report.

use std::fmt::Write;
use std::path::PathBuf;

use crate::client::ClientResult;
use crate::runner::{Mode, Plan};

/// One implementation's result in one table.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Row {
    /// Implementation label.
    pub label: String,
    /// Its numbers, or why it has none.
    pub result: Result<ClientResult, String>,
}

/// The agents numbers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Agents {
    /// Idle sessions created.
    pub idle_sessions: usize,
    /// RSS growth per 10,000 idle sessions (MiB), scaled from `idle_sessions`.
    pub rss_mib_per_10k_idle: f64,
    /// Active sessions.
    pub active_sessions: usize,
    /// Turns each active session ran.
    pub turns_per_session: usize,
    /// The active sessions over HTTP/1.1: one connection per call in flight.
    pub http1: AgentsActive,
    /// The active sessions over HTTP/2 (h2c, as `GoogleAi::with_http2_prior_knowledge`;
    /// Gemini itself negotiates HTTP/2): one connection.
    pub http2: Result<AgentsActive, String>,
}

/// The numbers of the active sessions' run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentsActive {
    /// Turns per second with the active sessions.
    pub turns_per_s: f64,
    /// Turn latency p50 (ms).
    pub p50_ms: f64,
    /// Turn latency p99 (ms).
    pub p99_ms: f64,
    /// CPU per turn (ms).
    pub cpu_ms_per_turn: f64,
    /// Peak RSS of the active sessions' process (MiB; the idle sessions run in another).
    pub peak_rss_mib: f64,
}

/// Everything measured in one run.
#[derive(Debug)]
#[non_exhaustive]
pub struct Report {
    /// The plan it ran.
    pub plan: Plan,
    /// Overhead rows.
    pub overhead: Vec<Row>,
    /// Loop rows per concurrency.
    pub tool_loop: Vec<(usize, Vec<Row>)>,
    /// Streaming rows.
    pub stream: Vec<Row>,
    /// Research example: (median ms, runs, binary).
    pub startup: Result<(f64, usize, PathBuf), String>,
    /// Agents.
    pub agents: Result<Agents, String>,
    /// Notes (what was skipped and why).
    pub notes: Vec<String>,
}

fn f(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(f).unwrap_or_else(|| "–".into())
}

fn find<'a>(rows: &'a [Row], label_start: &str) -> Option<&'a ClientResult> {
    rows.iter()
        .find(|r| r.label.starts_with(label_start))
        .and_then(|r| r.result.as_ref().ok())
}

fn cpu_ms_per_call(r: &ClientResult) -> Option<f64> {
    (r.n > 0).then(|| r.cpu_s * 1000.0 / r.n as f64)
}

fn throughput(r: &ClientResult) -> Option<f64> {
    r.wall_s.filter(|w| *w > 0.0).map(|w| r.n as f64 / w)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

impl Report {
    /// An empty report for `plan`.
    pub fn new(plan: Plan) -> Report {
        Report {
            plan,
            overhead: Vec::new(),
            tool_loop: Vec::new(),
            stream: Vec::new(),
            startup: Err("not measured".into()),
            agents: Err("not measured".into()),
            notes: Vec::new(),
        }
    }

    /// The loop rows at a concurrency.
    pub fn loop_at(&self, c: usize) -> Option<&[Row]> {
        self.tool_loop
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, r)| r.as_slice())
    }

    /// The report as markdown tables.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let base = find(&self.overhead, "reqwest");
        let base_cpu = base.and_then(cpu_ms_per_call);
        let _ = writeln!(
            s,
            "### 1. Overhead: one generate with one tool round (2 HTTP exchanges), sequential, bench mock, server latency 0 ms\n"
        );
        let _ = writeln!(
            s,
            "| implementation | calls | median ms | p99 ms | CPU ms / call | CPU vs reqwest | peak RSS MiB |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for row in &self.overhead {
            match &row.result {
                Ok(r) => {
                    let cpu = cpu_ms_per_call(r);
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} | {} | {} |",
                        row.label,
                        r.n,
                        opt(r.p50_ms),
                        opt(r.p99_ms),
                        opt(cpu),
                        opt(ratio(cpu, base_cpu)) + "×",
                        f(r.rss_kb as f64 / 1024.0)
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        s,
                        "| {} | not measured: {} | | | | | |",
                        row.label,
                        e.replace('|', "/")
                    );
                }
            }
        }
        let _ = writeln!(
            s,
            "\n### 2. Tool loop: 3 tool turns × 2 parallel tool calls, then the answer (4 HTTP exchanges), bench mock, server latency {} ms, {} s window per row after a warm-up\n",
            self.plan.loop_latency_ms,
            self.plan.loop_duration.as_secs_f64()
        );
        let _ = writeln!(
            s,
            "| implementation | in flight | generates/s | p50 ms | p99 ms | peak RSS MiB | CPU s | CPU ms / generate |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
        for (c, rows) in &self.tool_loop {
            for row in rows {
                match &row.result {
                    Ok(r) if r.n == 0 => {
                        let _ = writeln!(
                            s,
                            "| {} | {} | 0 (none completed in the window) | – | – | {} | {} | – |",
                            row.label,
                            c,
                            f(r.rss_kb as f64 / 1024.0),
                            f(r.cpu_s),
                        );
                    }
                    Ok(r) => {
                        let _ = writeln!(
                            s,
                            "| {} | {} | {} | {} | {} | {} | {} | {} |",
                            row.label,
                            c,
                            opt(throughput(r)),
                            opt(r.p50_ms),
                            opt(r.p99_ms),
                            f(r.rss_kb as f64 / 1024.0),
                            f(r.cpu_s),
                            opt(cpu_ms_per_call(r))
                        );
                    }
                    Err(e) => {
                        let _ = writeln!(
                            s,
                            "| {} | {} | not measured: {} | | | | | |",
                            row.label,
                            c,
                            e.replace('|', "/")
                        );
                    }
                }
            }
        }
        let _ = writeln!(
            s,
            "\n### 3. Streaming: one answer of ~500 one-word chunks, server pace 0 ms\n"
        );
        let _ = writeln!(
            s,
            "| implementation | streams | time to first chunk ms | chunks/s | CPU ms / stream |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        for row in &self.stream {
            match &row.result {
                Ok(r) => {
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} |",
                        row.label,
                        r.n,
                        opt(r.ttfc_ms),
                        opt(r.chunks_per_s),
                        opt(cpu_ms_per_call(r))
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        s,
                        "| {} | not measured: {} | | | |",
                        row.label,
                        e.replace('|', "/")
                    );
                }
            }
        }
        let _ = writeln!(
            s,
            "\n### 4. Agents: `define_agent` + `InMemorySessionStore`, one model call per turn, bench mock, latency 0 ms\n"
        );
        let _ = writeln!(s, "| measure | HTTP/1.1 | HTTP/2 (h2c) |");
        let _ = writeln!(s, "|---|---|---|");
        match &self.agents {
            Ok(a) => {
                let _ = writeln!(
                    s,
                    "| RSS per 10,000 idle sessions (MiB; {} sessions after one turn each, own process) | {} | |",
                    a.idle_sessions,
                    f(a.rss_mib_per_10k_idle)
                );
                let both = |what: &dyn Fn(&AgentsActive) -> String| match &a.http2 {
                    Ok(h2) => format!("{} | {}", what(&a.http1), what(h2)),
                    Err(e) => format!("{} | not measured: {e}", what(&a.http1)),
                };
                let _ = writeln!(
                    s,
                    "| turns/s with {} active sessions × {} turns | {} |",
                    a.active_sessions,
                    a.turns_per_session,
                    both(&|x| f(x.turns_per_s))
                );
                let _ = writeln!(
                    s,
                    "| turn latency p50 / p99 (ms) | {} |",
                    both(&|x| format!("{} / {}", f(x.p50_ms), f(x.p99_ms)))
                );
                let _ = writeln!(s, "| CPU ms / turn | {} |", both(&|x| f(x.cpu_ms_per_turn)));
                let _ = writeln!(
                    s,
                    "| peak RSS with the active sessions (MiB; own process, no idle sessions) | {} |",
                    both(&|x| f(x.peak_rss_mib))
                );
            }
            Err(e) => {
                let _ = writeln!(s, "| RSS per 10,000 idle sessions | not measured: {e} | |");
                let _ = writeln!(
                    s,
                    "| turns/s with 1,000 active sessions | not measured: {e} | |"
                );
            }
        }
        let _ = writeln!(
            s,
            "\n### 5. Start-up of the seed's program (`research` example, built binary, local server in-process, whole run)\n"
        );
        let _ = writeln!(s, "| measure | value |");
        let _ = writeln!(s, "|---|---|");
        match &self.startup {
            Ok((ms, n, _)) => {
                let _ = writeln!(
                    s,
                    "| research example, median of {n} runs (ms) | {} |",
                    f(*ms)
                );
            }
            Err(e) => {
                let _ = writeln!(s, "| research example | not measured: {e} |");
            }
        }
        s.push_str(&self.ratios());
        s.push_str(&self.targets());
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nNotes:\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }

    fn ratios(&self) -> String {
        let mut s = String::new();
        let labels = ["genkit-rs, tracing on", "Genkit JS", "Genkit Python", "rig"];
        let _ = writeln!(
            s,
            "\n### Ratios genkit-rs (tracing on) : Genkit JS : Genkit Python : rig\n"
        );
        let _ = writeln!(
            s,
            "| measure | genkit-rs | Genkit JS | Genkit Python | rig |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        let mut line = |name: &str, vals: Vec<Option<f64>>| {
            let first = vals[0];
            let cells: Vec<String> = vals
                .iter()
                .map(|v| match ratio(*v, first) {
                    Some(r) => f(r),
                    None => "–".into(),
                })
                .collect();
            let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
        };
        line(
            "overhead CPU per call",
            labels
                .iter()
                .map(|l| find(&self.overhead, l).and_then(cpu_ms_per_call))
                .collect(),
        );
        line(
            "overhead median latency",
            labels
                .iter()
                .map(|l| find(&self.overhead, l).and_then(|r| r.p50_ms))
                .collect(),
        );
        let largest = self
            .tool_loop
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| *c <= 256)
            .max();
        if let Some((c, rows)) = largest.and_then(|c| self.loop_at(c).map(|r| (c, r))) {
            line(
                &format!("loop throughput at {c} in flight"),
                labels
                    .iter()
                    .map(|l| find(rows, l).and_then(throughput))
                    .collect(),
            );
            line(
                &format!("loop peak RSS at {c} in flight"),
                labels
                    .iter()
                    .map(|l| find(rows, l).map(|r| r.rss_kb as f64))
                    .collect(),
            );
            line(
                &format!("loop CPU per generate at {c} in flight"),
                labels
                    .iter()
                    .map(|l| find(rows, l).and_then(cpu_ms_per_call))
                    .collect(),
            );
        }
        line(
            "streaming chunks/s",
            labels
                .iter()
                .map(|l| find(&self.stream, l).and_then(|r| r.chunks_per_s))
                .collect(),
        );
        s
    }

    fn targets(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\n### Targets (developers' guide)\n");
        let _ = writeln!(s, "| target | measured | met |");
        let _ = writeln!(s, "|---|---|---|");
        let verdict = |ok: Option<bool>| match ok {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        let base = find(&self.overhead, "reqwest").and_then(cpu_ms_per_call);
        let traced = find(&self.overhead, "genkit-rs, tracing on").and_then(cpu_ms_per_call);
        let r = ratio(traced, base);
        let _ = writeln!(
            s,
            "| CPU per generate (tracing on) ≤ 1.5× hand-written | {}× ({} vs {} ms) | {} |",
            opt(r),
            opt(traced),
            opt(base),
            verdict(r.map(|r| r <= 1.5))
        );
        self.loop_targets(&mut s, "genkit-rs, tracing on", "", &verdict);
        self.export_targets(&mut s, verdict);
        match &self.startup {
            Ok((ms, _, _)) => {
                let _ = writeln!(
                    s,
                    "| research example start-up < 50 ms | {} ms | {} |",
                    f(*ms),
                    verdict(Some(*ms < 50.0))
                );
            }
            Err(_) => {
                let _ = writeln!(
                    s,
                    "| research example start-up < 50 ms | not measured | – |"
                );
            }
        }
        s
    }
}

impl Report {
    /// The 256-in-flight targets of the row `label`: throughput ≥ 0.9× and peak RSS
    /// ≤ 1.5× hand-written (`what` goes after "256 in flight" in the target's name).
    fn loop_targets(
        &self,
        s: &mut String,
        label: &str,
        what: &str,
        verdict: &dyn Fn(Option<bool>) -> &'static str,
    ) {
        let Some(rows) = self.loop_at(256) else {
            return;
        };
        let b = find(rows, "reqwest");
        let g = find(rows, label);
        let t = ratio(g.and_then(throughput), b.and_then(throughput));
        let m = ratio(g.map(|r| r.rss_kb as f64), b.map(|r| r.rss_kb as f64));
        let _ = writeln!(
            s,
            "| throughput at 256 in flight{what} ≥ 0.9× hand-written | {}× | {} |",
            opt(t),
            verdict(t.map(|t| t >= 0.9))
        );
        let _ = writeln!(
            s,
            "| peak RSS at 256 in flight{what} ≤ 1.5× hand-written | {}× | {} |",
            opt(m),
            verdict(m.map(|m| m <= 1.5))
        );
    }

    /// Issue 19's targets for the export rows: CPU per generate ≤ 1.3× untraced
    /// genkit-rs and ≤ 1.5× hand-written; at 256 in flight throughput ≥ 0.9× and peak
    /// RSS ≤ 1.5× hand-written; streamed chunks/s ≥ 0.9× hand-written.
    fn export_targets(&self, s: &mut String, verdict: impl Fn(Option<bool>) -> &'static str) {
        let verdict: &dyn Fn(Option<bool>) -> &'static str = &verdict;
        let base = find(&self.overhead, "reqwest").and_then(cpu_ms_per_call);
        let off = find(&self.overhead, "genkit-rs, tracing off").and_then(cpu_ms_per_call);
        for (label, short) in [
            ("genkit-rs, export to telemetry server", "telemetry server"),
            ("genkit-rs, export over OTLP", "OTLP"),
        ] {
            let cpu = find(&self.overhead, label).and_then(cpu_ms_per_call);
            let (vs_off, vs_base) = (ratio(cpu, off), ratio(cpu, base));
            let _ = writeln!(
                s,
                "| CPU per generate, export to {short}, ≤ 1.3× tracing off | {}× ({} vs {} ms) | {} |",
                opt(vs_off),
                opt(cpu),
                opt(off),
                verdict(vs_off.map(|r| r <= 1.3))
            );
            let _ = writeln!(
                s,
                "| CPU per generate, export to {short}, ≤ 1.5× hand-written | {}× | {} |",
                opt(vs_base),
                verdict(vs_base.map(|r| r <= 1.5))
            );
            self.loop_targets(s, label, &format!(", export to {short},"), verdict);
            let c = ratio(
                find(&self.stream, label).and_then(|r| r.chunks_per_s),
                find(&self.stream, "reqwest").and_then(|r| r.chunks_per_s),
            );
            let _ = writeln!(
                s,
                "| streamed chunks/s, export to {short}, ≥ 0.9× hand-written | {}× | {} |",
                opt(c),
                verdict(c.map(|c| c >= 0.9))
            );
        }
    }
}

/// Whether a mode writes BENCHMARKS.md by default.
pub fn writes_benchmarks_md(mode: Mode) -> bool {
    mode != Mode::Smoke
}
