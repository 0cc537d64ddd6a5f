//! The Anthropic rows: CPU per `generate` through the `anthropic` plugin, against the
//! same exchange of the Messages API hand-written with reqwest, and rig 0.21's
//! Anthropic provider, all against [`LocalAnthropic`] running in another process.
//!
//! The workload is the overhead one of the main run: prompt `Look up: rust`, one tool
//! `lookup`; the server calls it, then answers from its result: two HTTP exchanges.
//!
//! ```text
//! cargo run --release -p genkit-bench -- --anthropic [--quick | --smoke]
//! ```
//!
//! runs only these rows and writes them into `BENCHMARKS.md` under their own heading
//! ([`HEADING`]). Each row runs in its own child process (`anthropic-client`), the server
//! in another (`anthropic-serve`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use genkit_anthropic::Anthropic;
use genkit_anthropic::server::LocalAnthropic;
use genkit_core::{Error, Genkit, Result, ToolRef};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::stats::{cpu_seconds, p50_p99, peak_rss_kb};
use crate::workloads::{OVERHEAD_PROMPT, Query};

/// The heading of the section in `BENCHMARKS.md`.
pub const HEADING: &str = "## Anthropic provider (`genkit-anthropic`)";
/// The model every row calls.
pub const MODEL: &str = "claude-sonnet-4-5";
const TOOL_DESCRIPTION: &str = "Look up a topic.";
const IMPLS: [&str; 4] = ["genkit-rs", "genkit-rs-traced", "reqwest", "rig"];

fn lookup_result(q: &str) -> String {
    format!("Results for: {q}")
}

/// What one client process measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Measured {
    /// Implementation.
    #[serde(rename = "impl")]
    pub imp: String,
    /// Generates measured.
    pub n: usize,
    /// CPU seconds of the measured calls (whole process).
    pub cpu_s: f64,
    /// Median latency (ms).
    pub p50_ms: f64,
    /// Peak RSS (KiB).
    pub rss_kb: u64,
}

/// genkit-rs on the `anthropic` plugin.
struct GenkitSide {
    ai: Genkit,
    lookup: ToolRef,
}

impl GenkitSide {
    async fn new(base_url: &str) -> Result<GenkitSide> {
        let ai = Genkit::builder()
            .plugin(Anthropic::new("local").with_base_url(base_url))
            .model(format!("anthropic/{MODEL}"))
            .without_submitted_actions()
            .build()
            .await?;
        let lookup = ai.define_tool("lookup", TOOL_DESCRIPTION, |q: Query, _cx| async move {
            Ok::<_, Error>(lookup_result(&q.query))
        })?;
        Ok(GenkitSide { ai, lookup })
    }

    async fn call(&self) -> Result<String> {
        let r = self
            .ai
            .generate()
            .prompt(OVERHEAD_PROMPT)
            .tools([&self.lookup])
            .await?;
        Ok(r.text())
    }
}

/// The same exchange with bare reqwest and `serde_json::Value`.
struct ReqwestSide {
    client: reqwest::Client,
    url: String,
    tools: Value,
}

fn http_err(e: reqwest::Error) -> Error {
    Error::unavailable(e.to_string())
}

impl ReqwestSide {
    fn new(base_url: &str) -> Result<ReqwestSide> {
        Ok(ReqwestSide {
            client: reqwest::Client::builder().build().map_err(http_err)?,
            url: format!("{base_url}/v1/messages"),
            tools: json!([{"name": "lookup", "description": TOOL_DESCRIPTION, "input_schema": {
                "type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}]),
        })
    }

    async fn post(&self, body: &Value) -> Result<Value> {
        let resp = self
            .client
            .post(&self.url)
            .header("x-api-key", "local")
            .header("anthropic-version", "2023-06-01")
            .json(body)
            .send()
            .await
            .map_err(http_err)?;
        if !resp.status().is_success() {
            return Err(Error::internal(format!("HTTP {}", resp.status())));
        }
        resp.json().await.map_err(http_err)
    }

    /// Call, run the requested tools, send the results, until the model answers.
    async fn call(&self) -> Result<String> {
        let mut messages = vec![json!({"role": "user", "content": OVERHEAD_PROMPT})];
        for _ in 0..5 {
            let body = json!({"model": MODEL, "max_tokens": 1024, "messages": messages,
                "tools": self.tools});
            let mut resp = self.post(&body).await?;
            let content = resp["content"].take();
            let Some(blocks) = content.as_array() else {
                return Err(Error::internal("no content"));
            };
            let results: Vec<Value> = blocks
                .iter()
                .filter(|b| b["type"] == "tool_use")
                .map(|b| {
                    let q = b["input"]["query"].as_str().unwrap_or_default();
                    json!({"type": "tool_result", "tool_use_id": b["id"], "content": lookup_result(q)})
                })
                .collect();
            if results.is_empty() {
                return Ok(blocks.iter().filter_map(|b| b["text"].as_str()).collect());
            }
            messages.push(json!({"role": "assistant", "content": content}));
            messages.push(json!({"role": "user", "content": results}));
        }
        Err(Error::internal("too many turns"))
    }
}

enum Side {
    Genkit(GenkitSide),
    Reqwest(ReqwestSide),
    Rig(crate::rig_peers::AnthropicRig),
}

impl Side {
    async fn call(&self) -> Result<()> {
        let text = match self {
            Side::Genkit(s) => s.call().await?,
            Side::Reqwest(s) => s.call().await?,
            Side::Rig(s) => s.call().await?,
        };
        if !text.contains("Results for: rust") {
            return Err(Error::internal(format!("unexpected answer: {text}")));
        }
        Ok(())
    }
}

/// Runs `calls` sequential generates (after `warmup`) with one implementation.
pub async fn client(imp: &str, base_url: &str, calls: usize, warmup: usize) -> Result<Measured> {
    let side = match imp {
        "genkit-rs" | "genkit-rs-traced" => Side::Genkit(GenkitSide::new(base_url).await?),
        "reqwest" => Side::Reqwest(ReqwestSide::new(base_url)?),
        "rig" => Side::Rig(crate::rig_peers::AnthropicRig::new(base_url, MODEL)?),
        other => return Err(Error::invalid_argument(format!("unknown --impl {other}"))),
    };
    for _ in 0..warmup {
        side.call().await?;
    }
    let mut lat = Vec::with_capacity(calls);
    let c0 = cpu_seconds();
    for _ in 0..calls {
        let t = Instant::now();
        side.call().await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu_s = cpu_seconds() - c0;
    let (p50, _) = p50_p99(&mut lat);
    Ok(Measured {
        imp: imp.to_string(),
        n: calls,
        cpu_s,
        p50_ms: p50,
        rss_kb: peak_rss_kb(),
    })
}

/// The implementations of the rows at 256 in flight.
pub const IN_FLIGHT_IMPLS: [(&str, &str); 3] = [
    ("genkit-rs", "genkit-rs"),
    ("genkit-rs-traced", "genkit-rs-traced"),
    ("reqwest", "reqwest (hand-written)"),
];

/// One implementation at `concurrency` generates in flight for `duration` (after a
/// warm-up).
pub async fn client_in_flight(
    imp: &str,
    base_url: &str,
    concurrency: usize,
    duration: std::time::Duration,
) -> Result<crate::client::ClientResult> {
    let side = std::sync::Arc::new(match imp {
        "genkit-rs" | "genkit-rs-traced" => Side::Genkit(GenkitSide::new(base_url).await?),
        "reqwest" => Side::Reqwest(ReqwestSide::new(base_url)?),
        other => return Err(Error::invalid_argument(format!("unknown --impl {other}"))),
    });
    crate::inflight::measure(imp, concurrency, duration, move || {
        let side = side.clone();
        async move { side.call().await }
    })
    .await
}

/// The rows at 256 in flight (`reps` runs each, `duration` windows) and their table.
pub fn in_flight(
    exe: &Path,
    reps: usize,
    duration: std::time::Duration,
) -> std::result::Result<String, String> {
    let rows = crate::inflight::run(
        exe,
        "anthropic",
        "anthropic-client",
        &IN_FLIGHT_IMPLS,
        reps,
        duration,
    )?;
    Ok(crate::inflight::markdown(
        "Anthropic",
        "The same generate (one tool round, 2 HTTP exchanges of the Messages API) against `LocalAnthropic`,",
        &rows,
        "reqwest",
    ))
}

/// Runs the local server until killed; prints its base URL first.
pub async fn serve() -> Result<()> {
    let server = LocalAnthropic::start()
        .await
        .map_err(|e| Error::unavailable(e.to_string()))?;
    println!("{}", server.base_url());
    std::future::pending::<()>().await;
    Ok(())
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server process, runs one client process per implementation, and returns
/// the markdown section.
pub fn run(exe: &Path, calls: usize, warmup: usize) -> std::result::Result<String, String> {
    let mut server = Command::new(exe)
        .arg("anthropic-serve")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdout = server.stdout.take().ok_or("no server stdout")?;
    let server = KillOnDrop(server);
    let mut base_url = String::new();
    BufReader::new(stdout)
        .read_line(&mut base_url)
        .map_err(|e| format!("server: {e}"))?;
    let base_url = base_url.trim().to_string();
    let mut rows = Vec::new();
    for imp in IMPLS
        .into_iter()
        .filter(|i| *i != "rig" || crate::rig_peers::AVAILABLE)
    {
        let out = Command::new(exe)
            .args(["anthropic-client", "--impl", imp, "--base-url", &base_url])
            .args([
                "--calls",
                &calls.to_string(),
                "--warmup",
                &warmup.to_string(),
            ])
            .output()
            .map_err(|e| format!("{imp}: {e}"))?;
        let line = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "{imp} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let m: Measured = serde_json::from_str(line.trim()).map_err(|e| format!("{imp}: {e}"))?;
        eprintln!(
            "{imp}: {:.1} µs CPU per generate",
            m.cpu_s / m.n as f64 * 1e6
        );
        rows.push(m);
    }
    drop(server);
    Ok(markdown(&rows))
}

fn markdown(rows: &[Measured]) -> String {
    let per = |m: &Measured| m.cpu_s / m.n.max(1) as f64 * 1e6;
    let base = rows
        .iter()
        .find(|m| m.imp == "reqwest")
        .map(per)
        .unwrap_or(f64::NAN);
    let mut s = format!(
        "{HEADING}\n\nOne generate with one tool round (2 HTTP exchanges of the Messages API), sequential, against `LocalAnthropic` (in its own process, latency 0 ms), model `{MODEL}`; {} measured generates per row after a warm-up, each row in its own process.\n\n| implementation | CPU per generate (µs) | vs hand-written reqwest | p50 latency (ms) | peak RSS (MiB) |\n|---|---|---|---|---|\n",
        rows.first().map_or(0, |m| m.n)
    );
    for m in rows {
        s.push_str(&format!(
            "| {} | {:.1} | {:.2}x | {:.3} | {:.1} |\n",
            m.imp,
            per(m),
            per(m) / base,
            m.p50_ms,
            m.rss_kb as f64 / 1024.0
        ));
    }
    s.push_str(
        "\n`genkit-rs-traced`: under a subscriber that enables every genkit span (a no-op layer), as in the main tables. `reqwest`: the same two exchanges with `serde_json::Value` bodies and no validation. `rig`: rig-core 0.21's `providers::anthropic` agent with the same tool.\n",
    );
    s
}

/// Puts `section` into `doc` in place of an older one (from its heading to the next
/// `## ` heading), or at the end.
pub fn replace_section(doc: &str, section: &str) -> String {
    let Some(start) = doc.find(HEADING) else {
        let mut out = doc.trim_end().to_string();
        out.push_str("\n\n");
        out.push_str(section);
        return out;
    };
    let rest = &doc[start + HEADING.len()..];
    let end = rest
        .find("\n## ")
        .map_or(doc.len(), |i| start + HEADING.len() + i + 1);
    format!("{}{section}{}", &doc[..start], &doc[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_or_appended() {
        let doc = "# B\n\n## Other\nx\n";
        let once = replace_section(doc, &format!("{HEADING}\n\nv1\n"));
        assert!(once.ends_with("v1\n") && once.contains("## Other"));
        let twice = replace_section(
            &format!("{once}\n## Later\ny\n"),
            &format!("{HEADING}\n\nv2\n"),
        );
        assert!(twice.contains("v2") && !twice.contains("v1") && twice.contains("## Later"));
    }
}
