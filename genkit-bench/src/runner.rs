//! The runner: starts the servers and one client process per row, collects their
//! [`ClientResult`]s and writes the markdown report.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::ClientResult;
use crate::report::{Report, Row};

/// How long and how much the runner measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// A handful of calls per row, Rust rows only (the test's mode).
    Smoke,
    /// Under a minute; peers only when already installed.
    Quick,
    /// The full run; installs the peers when missing.
    Full,
}

/// What a mode measures.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Plan {
    /// Mode.
    pub mode: Mode,
    /// Measured overhead calls (sequential).
    pub overhead_calls: usize,
    /// Warm-up calls.
    pub warmup: usize,
    /// Measured seconds per loop row.
    pub loop_duration: Duration,
    /// Loop concurrencies.
    pub concurrencies: Vec<usize>,
    /// Latency of the tool-loop mock per request.
    pub loop_latency_ms: u64,
    /// Streams measured.
    pub stream_calls: usize,
    /// Spawns of the research example.
    pub startup_runs: usize,
    /// Agents: idle sessions created.
    pub idle_sessions: usize,
    /// Agents: active sessions.
    pub active_sessions: usize,
    /// Agents: turns each active session runs.
    pub agent_turns: usize,
    /// Runs of each Rust row, taken in turn (reqwest, genkit-rs, .., reqwest, ..); the
    /// table shows each row's median run. The peers run once (they take minutes).
    pub rust_runs: usize,
    /// Runs of each Rust row of the sequential CPU table (the noisiest measure, and the
    /// cheapest to repeat); as [`Plan::rust_runs`] otherwise.
    pub overhead_runs: usize,
}

impl Plan {
    /// The plan of a mode.
    pub fn of(mode: Mode) -> Plan {
        match mode {
            Mode::Smoke => Plan {
                mode,
                overhead_calls: 5,
                warmup: 2,
                loop_duration: Duration::from_millis(300),
                concurrencies: vec![1, 4],
                loop_latency_ms: 1,
                stream_calls: 2,
                startup_runs: 0,
                idle_sessions: 200,
                active_sessions: 20,
                agent_turns: 3,
                rust_runs: 1,
                overhead_runs: 1,
            },
            Mode::Quick => Plan {
                mode,
                overhead_calls: 300,
                warmup: 30,
                loop_duration: Duration::from_millis(1500),
                concurrencies: vec![1, 256],
                loop_latency_ms: 50,
                stream_calls: 5,
                startup_runs: 5,
                idle_sessions: 2_000,
                active_sessions: 1_000,
                agent_turns: 20,
                rust_runs: 1,
                overhead_runs: 1,
            },
            Mode::Full => Plan {
                mode,
                overhead_calls: 2000,
                warmup: 200,
                loop_duration: Duration::from_secs(5),
                concurrencies: vec![1, 64, 256, 1024],
                loop_latency_ms: 50,
                stream_calls: 300,
                startup_runs: 20,
                idle_sessions: 10_000,
                active_sessions: 1_000,
                agent_turns: 20,
                rust_runs: 3,
                overhead_runs: 7,
            },
        }
    }
}

/// The cache directory for the peers' installs.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("GENKIT_RS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/genkit-rs-cache"))
}

fn peers_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// A server child process.
pub(crate) struct Server {
    child: Child,
    pub(crate) base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_server(exe: &Path, kind: &str, latency_ms: u64) -> Result<Server, String> {
    let mut child = Command::new(exe)
        .args(["serve", kind, "--latency-ms", &latency_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the {kind} server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("server: {e}"))?;
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected server line {line:?}"))?
        .to_string();
    Ok(Server { child, base_url })
}

/// Runs a client command to its end (killed after `timeout`); parses its last line.
pub(crate) fn run_client(mut cmd: Command, timeout: Duration) -> Result<ClientResult, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(format!("timed out after {} s", timeout.as_secs()));
    };
    let last = out.lines().rev().find(|l| l.trim_start().starts_with('{'));
    match (status.success(), last) {
        (true, Some(l)) => {
            serde_json::from_str(l).map_err(|e| format!("bad result line ({e}): {l}"))
        }
        _ => {
            let tail: String = err
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(" / ");
            Err(format!(
                "failed ({status}): {}",
                tail.chars().take(300).collect::<String>()
            ))
        }
    }
}

/// A peer implementation outside Rust.
#[derive(Debug, Clone)]
struct Peer {
    label: &'static str,
    program: PathBuf,
    script: PathBuf,
}

fn js_installed(dir: &Path) -> bool {
    dir.join("node_modules/genkit/package.json").exists()
        && dir
            .join("node_modules/@genkit-ai/google-genai/package.json")
            .exists()
}

fn py_installed(dir: &Path) -> bool {
    let py = dir.join("bin/python");
    py.exists()
        && Command::new(&py)
            .args(["-c", "import genkit, genkit_google_genai"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Installs (full mode) or finds the JS and Python peers; notes why one is missing.
fn peers(plan: &Plan, notes: &mut Vec<String>) -> Vec<Peer> {
    let mut out = Vec::new();
    if plan.mode == Mode::Smoke {
        notes.push("Smoke mode: Rust rows only.".into());
        return out;
    }
    let cache = cache_dir();
    let js = cache.join("bench-js");
    if !js_installed(&js) && plan.mode == Mode::Full {
        let _ = std::fs::create_dir_all(&js);
        if !js.join("package.json").exists() {
            let _ = std::fs::write(
                js.join("package.json"),
                r#"{"name":"genkit-rs-bench-js","private":true}"#,
            );
        }
        eprintln!(
            "installing genkit, @genkit-ai/google-genai and @genkit-ai/express 1.42.0 into {}",
            js.display()
        );
        let _ = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            // express: the peer server of genkit-axum's serve_load bench.
            .args([
                "genkit@1.42.0",
                "@genkit-ai/google-genai@1.42.0",
                "@genkit-ai/express@1.42.0",
            ])
            .current_dir(&js)
            .status();
    }
    if js_installed(&js) {
        // ESM resolves packages next to the script: run a copy inside the install.
        let script = js.join("bench.mjs");
        match std::fs::copy(peers_src().join("js/bench.mjs"), &script) {
            Ok(_) => out.push(Peer {
                label: "Genkit JS",
                program: "node".into(),
                script,
            }),
            Err(e) => notes.push(format!(
                "Genkit JS not measured: cannot copy bench.mjs: {e}"
            )),
        }
    } else {
        notes.push(format!(
            "Genkit JS not measured: not installed in {} (a full run installs it).",
            js.display()
        ));
    }
    let py = cache.join("bench-py");
    if !py_installed(&py) && plan.mode == Mode::Full {
        eprintln!(
            "installing genkit, genkit-google-genai and genkit-fastapi 0.12.0 into {}",
            py.display()
        );
        let _ = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&py)
            .status();
        let _ = Command::new(py.join("bin/pip"))
            .args([
                "install",
                "-q",
                "genkit==0.12.0",
                "genkit-google-genai==0.12.0",
                // The peer server of genkit-axum's serve_load bench.
                "genkit-fastapi==0.12.0",
                "uvicorn",
            ])
            .status();
    }
    if py_installed(&py) {
        out.push(Peer {
            label: "Genkit Python",
            program: py.join("bin/python"),
            script: peers_src().join("python/bench.py"),
        });
    } else {
        notes.push(format!(
            "Genkit Python not measured: not installed in {} (a full run installs it).",
            py.display()
        ));
    }
    out
}

/// The Rust implementations as (label, `--impl` name).
const RUST: [(&str, &str); 6] = [
    ("reqwest (hand-written)", "reqwest"),
    ("genkit-rs, tracing off", "genkit-rs"),
    ("genkit-rs, tracing on", "genkit-rs-traced"),
    ("genkit-rs, export to telemetry server", "genkit-rs-export"),
    ("genkit-rs, export over OTLP", "genkit-rs-otlp"),
    ("rig 0.21", "rig"),
];

struct Ctx<'a> {
    exe: &'a Path,
    plan: &'a Plan,
    peers: &'a [Peer],
    /// The trace sink of the export rows.
    sink: &'a str,
}

impl Ctx<'_> {
    fn rows(
        &self,
        workload: &str,
        base_url: &str,
        concurrency: usize,
        rust: &[(&'static str, &'static str)],
    ) -> Vec<Row> {
        let p = self.plan;
        let common = |c: &mut Command| {
            c.args(["--workload", workload, "--base-url", base_url])
                .args(["--concurrency", &concurrency.to_string()])
                .args([
                    "--calls",
                    &if workload == "stream" {
                        p.stream_calls
                    } else {
                        p.overhead_calls
                    }
                    .to_string(),
                ])
                .args(["--warmup", &p.warmup.to_string()])
                .args(["--duration-s", &p.loop_duration.as_secs_f64().to_string()]);
        };
        let timeout =
            p.loop_duration + Duration::from_secs(if p.mode == Mode::Full { 120 } else { 40 });
        let mut runs: Vec<Vec<Result<ClientResult, String>>> = vec![Vec::new(); rust.len()];
        let n_runs = if workload == "overhead" {
            p.overhead_runs
        } else {
            p.rust_runs
        };
        for run in 0..n_runs.max(1) {
            for ((label, name), results) in rust.iter().zip(&mut runs) {
                let mut c = Command::new(self.exe);
                c.args(["client", "--impl", name])
                    .env(crate::client::SINK_ENV, self.sink);
                common(&mut c);
                eprintln!("  {workload} c={concurrency}: {label} (run {})", run + 1);
                results.push(run_client(c, timeout));
            }
        }
        let mut rows: Vec<Row> = rust
            .iter()
            .zip(runs)
            .map(|((label, _), results)| Row {
                label: label.to_string(),
                result: median_run(workload, results),
            })
            .collect();
        for peer in self.peers {
            let mut c = Command::new(&peer.program);
            c.arg(&peer.script);
            common(&mut c);
            eprintln!("  {workload} c={concurrency}: {}", peer.label);
            rows.push(Row {
                label: peer.label.to_string(),
                result: run_client(c, timeout),
            });
        }
        rows
    }
}

/// The run with the median of the workload's measure (streamed chunks/s, generates/s,
/// else CPU per call); the first error if any run failed.
fn median_run(
    workload: &str,
    results: Vec<Result<ClientResult, String>>,
) -> Result<ClientResult, String> {
    let mut ok = Vec::with_capacity(results.len());
    for r in results {
        ok.push(r?);
    }
    let key = |r: &ClientResult| match workload {
        "stream" => r.chunks_per_s.unwrap_or(0.0),
        "loop" => r.n as f64 / r.wall_s.unwrap_or(1.0).max(1e-9),
        _ => r.cpu_s / (r.n.max(1) as f64),
    };
    ok.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let middle = ok.len() / 2;
    ok.into_iter()
        .nth(middle)
        .ok_or_else(|| "no run".to_string())
}

/// Median wall time of `runs` runs of the research example, or why not measured.
fn startup(exe: &Path, plan: &Plan) -> Result<(f64, usize, PathBuf), String> {
    if plan.startup_runs == 0 {
        return Err("not measured in smoke mode".into());
    }
    let dir = exe.parent().ok_or("no exe dir")?;
    let bin = dir.join("examples/research");
    if !bin.exists() {
        if plan.mode != Mode::Full {
            return Err(format!(
                "{} not built (`cargo build --release --example research`)",
                bin.display()
            ));
        }
        eprintln!("building the research example (release)");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let ok = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--example", "research"])
            .current_dir(root)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !bin.exists() {
            return Err("`cargo build --release --example research` failed".into());
        }
    }
    let mut times = Vec::new();
    for _ in 0..plan.startup_runs {
        let t = Instant::now();
        let status = Command::new(&bin)
            .env_remove("GEMINI_API_KEY")
            .env_remove("GOOGLE_API_KEY")
            .env_remove("GOOGLE_GENAI_API_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !status.success() {
            return Err(format!("{} exited with {status}", bin.display()));
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times.len(), bin))
}

/// The longest the active sessions of the agents workload may take for their turns.
const AGENTS_CAP: Duration = Duration::from_secs(120);

/// The agents workload: the idle sessions in one process, the active sessions in another
/// (so the active run's peak RSS is its sessions' alone, not on top of the idle ones).
fn agents(exe: &Path, plan: &Plan) -> Result<crate::report::Agents, String> {
    let client = |server: &Server, idle: usize, active: usize, http2: bool| {
        let mut c = Command::new(exe);
        c.args([
            "client",
            "--impl",
            "genkit-rs",
            "--workload",
            "agents",
            "--base-url",
            &server.base_url,
        ])
        .args(["--calls", &idle.to_string()])
        .args(["--concurrency", &active.to_string()])
        .args(["--turns", &plan.agent_turns.to_string()])
        // Every active session runs its turns; the duration is only a cap.
        .args(["--duration-s", &AGENTS_CAP.as_secs_f64().to_string()]);
        if http2 {
            c.arg("--http2");
        }
        run_client(c, AGENTS_CAP + Duration::from_secs(120))
    };
    let active = |r: ClientResult| crate::report::AgentsActive {
        turns_per_s: r
            .wall_s
            .filter(|w| *w > 0.0)
            .map(|w| r.n as f64 / w)
            .unwrap_or(0.0),
        p50_ms: r.p50_ms.unwrap_or(0.0),
        p99_ms: r.p99_ms.unwrap_or(0.0),
        cpu_ms_per_turn: if r.n > 0 {
            r.cpu_s * 1000.0 / r.n as f64
        } else {
            0.0
        },
        peak_rss_mib: r.rss_kb as f64 / 1024.0,
    };
    let server = start_server(exe, "loop", 0)?;
    let idle_run = client(&server, plan.idle_sessions, 0, false)?;
    let http1 = active(client(&server, 0, plan.active_sessions, false)?);
    let http2 = client(&server, 0, plan.active_sessions, true).map(active);
    let idle = idle_run.idle_sessions.unwrap_or(0).max(1) as f64;
    Ok(crate::report::Agents {
        idle_sessions: idle_run.idle_sessions.unwrap_or(0),
        rss_mib_per_10k_idle: idle_run.idle_rss_kb.unwrap_or(0) as f64 / 1024.0 * 10_000.0 / idle,
        active_sessions: plan.active_sessions,
        turns_per_session: plan.agent_turns,
        http1,
        http2,
    })
}

/// Runs every benchmark of the plan and returns the report.
pub fn run(exe: &Path, plan: &Plan) -> Result<Report, String> {
    let mut notes = Vec::new();
    let peers = peers(plan, &mut notes);
    // One trace sink (its own process) for the export rows: the telemetry server's
    // `POST /api/traces` and OTLP's `POST /v1/traces`, answered and discarded.
    let sink = start_server(exe, "sink", 0)?;
    let ctx = Ctx {
        exe,
        plan,
        peers: &peers,
        sink: &sink.base_url,
    };
    let mut report = Report::new(plan.clone());
    let rust: Vec<(&str, &str)> = RUST
        .iter()
        .copied()
        .filter(|(_, n)| *n != "rig" || crate::rig_peers::AVAILABLE)
        .collect();
    if !crate::rig_peers::AVAILABLE {
        notes.push("rig not measured: built without `--features rig`.".into());
    }

    eprintln!("overhead");
    {
        let server = start_server(exe, "loop", 0)?;
        report.overhead = ctx.rows("overhead", &server.base_url, 1, &rust);
    }
    eprintln!("tool loop");
    {
        let server = start_server(exe, "loop", plan.loop_latency_ms)?;
        for &c in &plan.concurrencies {
            report
                .tool_loop
                .push((c, ctx.rows("loop", &server.base_url, c, &rust)));
        }
    }
    eprintln!("streaming");
    {
        let server = start_server(exe, "local", 0)?;
        let streaming: Vec<_> = rust.iter().copied().filter(|(_, n)| *n != "rig").collect();
        report.stream = ctx.rows("stream", &server.base_url, 1, &streaming);
        notes.push(
            "rig is not in the streaming rows (its streaming agent API differs; not written)."
                .into(),
        );
    }
    eprintln!("start-up");
    report.startup = startup(exe, plan);
    eprintln!("agents");
    report.agents = agents(exe, plan);
    report.notes.extend(notes);
    Ok(report)
}
