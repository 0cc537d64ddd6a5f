//! Provider rows at many generates in flight: a provider plugin against its own
//! hand-written reqwest exchange of the same API, `concurrency` workers each running
//! generates back to back (one tool round each) against the provider's local look-alike
//! with a latency per model call, in a process of its own per row.
//!
//! Measured per row: generates per second completed in the window, their median
//! latency, the process's peak RSS and its CPU time per generate. Rows of one provider
//! run back to back, alternating implementations, `reps` times; the table gives the
//! medians and the guide's targets (CPU ≤ 1.5x, throughput ≥ 0.9x, peak RSS ≤ 1.5x of
//! the hand-written exchange).

use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genkit_core::{Error, Result};

use crate::client::{ClientResult, warm_up};
use crate::runner::{run_client, start_server};
use crate::stats::{cpu_seconds, p50_p99, peak_rss_kb};

/// Generates in flight.
pub const CONCURRENCY: usize = 256;
/// Latency of the look-alike per model call (ms).
pub const LATENCY_MS: u64 = 50;
/// The heading of the in-flight table inside a provider's section.
pub const SUB_HEADING: &str = "#### Tool round at 256 generates in flight";

/// Runs `concurrency` workers calling `call` back to back: a warm-up, then a measured
/// window of `duration` counting the generates that complete inside it.
pub async fn measure<F, Fut>(
    imp: &str,
    concurrency: usize,
    duration: Duration,
    call: F,
) -> Result<ClientResult>
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    call().await?;
    let start_rss_kb = Some(peak_rss_kb());
    let lat = Arc::new(Mutex::new(Vec::new()));
    let failed: Arc<Mutex<Option<Error>>> = Arc::default();
    let window_start = Instant::now() + warm_up(duration);
    let deadline = window_start + duration;
    for _ in 0..concurrency {
        let (call, lat, failed) = (call.clone(), lat.clone(), failed.clone());
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let t = Instant::now();
                if let Err(e) = call().await {
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
    let wall_s = w0.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds() - c0;
    if let Some(e) = failed.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    let mut lat = std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
    let (p50, p99) = p50_p99(&mut lat);
    Ok(ClientResult {
        imp: imp.to_string(),
        workload: "tool-round-in-flight".into(),
        concurrency,
        n: lat.len(),
        wall_s: Some(wall_s),
        cpu_s,
        p50_ms: Some(p50),
        p99_ms: Some(p99),
        rss_kb: peak_rss_kb(),
        start_rss_kb,
        ..Default::default()
    })
}

/// One implementation's runs.
#[derive(Debug, Clone)]
pub struct Runs {
    /// Implementation name (as the client takes it).
    pub imp: String,
    /// Its label in the table.
    pub label: String,
    /// One result per run.
    pub runs: Vec<ClientResult>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Runs {
    fn per_s(r: &ClientResult) -> f64 {
        r.n as f64 / r.wall_s.unwrap_or(f64::NAN)
    }
    fn cpu_ms(r: &ClientResult) -> f64 {
        r.cpu_s * 1000.0 / r.n.max(1) as f64
    }
    /// Median generates per second.
    pub fn per_s_median(&self) -> f64 {
        median(self.runs.iter().map(Self::per_s).collect())
    }
    /// Median p50 latency (ms).
    pub fn p50_median(&self) -> f64 {
        median(self.runs.iter().filter_map(|r| r.p50_ms).collect())
    }
    /// Median peak RSS (MiB).
    pub fn rss_median(&self) -> f64 {
        median(self.runs.iter().map(|r| r.rss_kb as f64 / 1024.0).collect())
    }
    /// Median peak RSS after the first generate, before the load (MiB).
    pub fn start_rss_median(&self) -> f64 {
        median(
            self.runs
                .iter()
                .filter_map(|r| r.start_rss_kb)
                .map(|kb| kb as f64 / 1024.0)
                .collect(),
        )
    }
    /// Median CPU per generate (ms).
    pub fn cpu_median(&self) -> f64 {
        median(self.runs.iter().map(Self::cpu_ms).collect())
    }
}

/// Starts the look-alike (`serve KIND --latency-ms LATENCY_MS`) and runs, `reps` times,
/// one client process per implementation (`CLIENT --impl NAME --base-url URL
/// --concurrency N --duration-s S`), alternating implementations.
pub fn run(
    exe: &Path,
    server_kind: &str,
    client: &str,
    impls: &[(&str, &str)],
    reps: usize,
    duration: Duration,
) -> std::result::Result<Vec<Runs>, String> {
    let server = start_server(exe, server_kind, LATENCY_MS)?;
    let mut out: Vec<Runs> = impls
        .iter()
        .map(|(imp, label)| Runs {
            imp: imp.to_string(),
            label: label.to_string(),
            runs: Vec::new(),
        })
        .collect();
    for rep in 0..reps {
        for runs in out.iter_mut() {
            let mut cmd = Command::new(exe);
            cmd.args([client, "--impl", &runs.imp, "--base-url", &server.base_url])
                .args(["--concurrency", &CONCURRENCY.to_string()])
                .args(["--duration-s", &duration.as_secs_f64().to_string()]);
            let r = run_client(cmd, Duration::from_secs(120) + duration * 2)
                .map_err(|e| format!("{} (in flight, run {}): {e}", runs.imp, rep + 1))?;
            eprintln!(
                "{} at {CONCURRENCY} in flight, run {}: {:.0} generates/s, p50 {:.1} ms, peak RSS {:.1} MiB, CPU {:.3} ms/generate",
                runs.imp,
                rep + 1,
                Runs::per_s(&r),
                r.p50_ms.unwrap_or_default(),
                r.rss_kb as f64 / 1024.0,
                Runs::cpu_ms(&r)
            );
            runs.runs.push(r);
        }
    }
    drop(server);
    Ok(out)
}

/// The in-flight table: `rows[0]` is the plugin, the row whose name is `base` the
/// hand-written exchange; `what` describes the workload. Ends with the targets line.
pub fn markdown(provider: &str, what: &str, rows: &[Runs], base: &str) -> String {
    let reps = rows.first().map_or(0, |r| r.runs.len());
    let mut s = format!(
        "{SUB_HEADING}\n\n{what} {CONCURRENCY} generates in flight, look-alike latency {LATENCY_MS} ms per model call, {} s window per row after a warm-up; each row in its own process, rows of the provider back to back alternating implementations, medians of {reps} run(s). CPU = user + system time of the client process over the window / generates completed in it. One tool round, not the 3-turn loop of table 2: the look-alike's default answer calls a tool once per user prompt, then answers from the results. At 2 × {LATENCY_MS} ms per generate, {CONCURRENCY} in flight cannot pass ~{} generates/s: throughput here shows the client's added latency, CPU per generate its cost. Peak RSS before the load: the process's peak after its first generate.\n\n| implementation | generates/s | vs hand-written | p50 (ms) | peak RSS (MiB) | vs hand-written | peak RSS before the load (MiB) | CPU per generate (ms) | vs hand-written |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        rows.first()
            .and_then(|r| r.runs.first())
            .and_then(|r| r.wall_s)
            .map_or(0.0, |w| (w * 10.0).round() / 10.0),
        CONCURRENCY as u64 * 1000 / (2 * LATENCY_MS)
    );
    let Some(b) = rows.iter().find(|r| r.imp == base) else {
        return s;
    };
    let (bt, br, bc) = (b.per_s_median(), b.rss_median(), b.cpu_median());
    for r in rows {
        s.push_str(&format!(
            "| {} | {:.0} | {:.2}x | {:.1} | {:.1} | {:.2}x | {:.1} | {:.3} | {:.2}x |\n",
            r.label,
            r.per_s_median(),
            r.per_s_median() / bt,
            r.p50_median(),
            r.rss_median(),
            r.rss_median() / br,
            r.start_rss_median(),
            r.cpu_median(),
            r.cpu_median() / bc
        ));
    }
    for p in rows.iter().filter(|r| r.imp != base) {
        let (t, m, c) = (
            p.per_s_median() / bt,
            p.rss_median() / br,
            p.cpu_median() / bc,
        );
        let ok = |yes: bool| if yes { "met" } else { "NOT met" };
        s.push_str(&format!(
            "\nTargets ({provider}, {}, vs hand-written at {CONCURRENCY} in flight): throughput {t:.2}x (≥ 0.9x: {}), peak RSS {m:.2}x (≤ 1.5x: {}), CPU per generate {c:.2}x (≤ 1.5x: {}).\n",
            p.label,
            ok(t >= 0.9),
            ok(m <= 1.5),
            ok(c <= 1.5)
        ));
    }
    s
}

/// Puts the subsection `sub` (starting with [`SUB_HEADING`]) into the section of `doc`
/// that starts at `section`: in place of an older one, or at the end of the section
/// (before the next `## ` or `### ` heading). Without the section, appends both.
pub fn splice_sub(doc: &str, section: &str, sub: &str) -> String {
    let Some(start) = doc.find(section) else {
        return format!("{}\n\n{section}\n\n{sub}", doc.trim_end());
    };
    let body = start + section.len();
    let section_end = next_heading(doc, body, &["\n## ", "\n### "]);
    let sub = sub.trim_end();
    match doc[body..section_end].find(SUB_HEADING) {
        Some(i) => {
            let from = body + i;
            let to = next_heading(
                doc,
                from + SUB_HEADING.len(),
                &["\n## ", "\n### ", "\n#### "],
            )
            .min(section_end);
            let tail = doc[to..].trim_start_matches('\n');
            let sep = if tail.is_empty() { "" } else { "\n" };
            format!("{}{sub}\n{sep}{tail}", &doc[..from])
        }
        None => {
            let head = doc[..section_end].trim_end();
            let tail = &doc[section_end..];
            let sep = if tail.is_empty() { "" } else { "\n" };
            format!("{head}\n\n{sub}\n{sep}{}", tail.trim_start_matches('\n'))
        }
    }
}

/// Where the first of `marks` after `from` begins (just past its newline), or the end.
fn next_heading(doc: &str, from: usize, marks: &[&str]) -> usize {
    marks
        .iter()
        .filter_map(|m| doc[from..].find(m).map(|i| from + i + 1))
        .min()
        .unwrap_or(doc.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subsection_goes_at_the_end_of_its_section_or_replaces_the_old_one() {
        let doc = "# B\n### 7. P\n\nrows\n## A\n\narows\n";
        let sub1 = format!("{SUB_HEADING}\n\nv1\n");
        let once = splice_sub(doc, "### 7. P", &sub1);
        assert_eq!(
            once,
            format!("# B\n### 7. P\n\nrows\n\n{SUB_HEADING}\n\nv1\n\n## A\n\narows\n")
        );
        let twice = splice_sub(&once, "### 7. P", &format!("{SUB_HEADING}\n\nv2\n"));
        assert!(twice.contains("v2") && !twice.contains("v1") && twice.contains("## A\n\narows"));
        assert!(
            twice.contains("v2\n\n## A"),
            "a blank line before the next heading: {twice}"
        );
        let last = splice_sub(&twice, "## A", &sub1);
        assert!(
            last.ends_with(&format!("arows\n\n{SUB_HEADING}\n\nv1\n")),
            "{last}"
        );
    }

    #[test]
    fn the_table_gives_the_ratios_and_the_targets() {
        let r = |imp: &str, n: usize, rss: u64, cpu: f64| ClientResult {
            imp: imp.into(),
            n,
            wall_s: Some(5.0),
            cpu_s: cpu,
            p50_ms: Some(100.0),
            rss_kb: rss,
            start_rss_kb: Some(rss / 2),
            ..Default::default()
        };
        let rows = [
            Runs {
                imp: "p".into(),
                label: "plugin".into(),
                runs: vec![r("p", 10_000, 30 * 1024, 4.0)],
            },
            Runs {
                imp: "h".into(),
                label: "hand".into(),
                runs: vec![r("h", 10_000, 20 * 1024, 2.0)],
            },
        ];
        let md = markdown("X", "One tool round,", &rows, "h");
        assert!(
            md.contains("| plugin | 2000 | 1.00x | 100.0 | 30.0 | 1.50x | 15.0 | 0.400 | 2.00x |")
        );
        assert!(md.contains("throughput 1.00x (≥ 0.9x: met)"), "{md}");
        assert!(
            md.contains("CPU per generate 2.00x (≤ 1.5x: NOT met)"),
            "{md}"
        );
    }
}
