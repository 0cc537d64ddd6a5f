//! Provider rows: CPU per generate of a provider plugin against the same exchange
//! written by hand with reqwest, and against rig's provider, each against the
//! provider's local look-alike in another process.
//!
//! `cargo run --release -p genkit-bench -- --providers` runs only these rows and writes
//! their section of `BENCHMARKS.md`. The workload is one generate: one request with a
//! short prompt, one answer, no tools, not streamed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use genkit_core::{Error, Genkit, Result, ToolRef};
use genkit_openai::OpenAi;
use serde_json::{Value, json};

use crate::client::{ClientResult, install_noop_tracing, num, value};
use crate::runner::{run_client, start_server};
use crate::stats::{cpu_seconds, p50_p99, peak_rss_kb};
use crate::workloads::{OVERHEAD_PROMPT, Query};

const MODEL: &str = "gpt-4o-mini";
const PROMPT: &str = "Summarize the benefits of Rust for systems programming in one sentence.";
const KEY: &str = "sk-bench";

/// The heading of the section this module writes.
pub const SECTION: &str = "### 7. Providers: CPU per generate";

/// One side of a provider row.
#[derive(Clone)]
enum Side {
    /// genkit-rs with the `openai` plugin, tracing on, and the tool `lookup`.
    Genkit(Genkit, ToolRef),
    /// reqwest, serde_json, the Chat Completions JSON written by hand, the tool
    /// declaration.
    Reqwest(reqwest::Client, String, Value),
    /// rig-core 0.21's OpenAI provider (Chat Completions), one agent.
    Rig(std::sync::Arc<crate::rig_peers::OpenAiRig>),
}

/// The implementations, by name.
pub const IMPLS: [(&str, &str); 3] = [
    ("genkit-openai", "genkit-rs `openai` plugin, tracing on"),
    ("reqwest-openai", "hand-written reqwest exchange"),
    ("rig-openai", "rig 0.21 OpenAI provider (Chat Completions)"),
];

impl Side {
    async fn new(name: &str, base_url: &str) -> Result<Side> {
        match name {
            "genkit-openai" => {
                install_noop_tracing();
                let ai = Genkit::builder()
                    .without_submitted_actions()
                    .plugin(OpenAi::new(KEY).with_base_url(base_url))
                    .model(format!("openai/{MODEL}"))
                    .build()
                    .await?;
                let lookup =
                    ai.define_tool("lookup", TOOL_DESCRIPTION, |q: Query, _cx| async move {
                        Ok::<_, Error>(lookup_result(&q.query))
                    })?;
                Ok(Side::Genkit(ai, lookup))
            }
            "reqwest-openai" => {
                let http = reqwest::Client::builder()
                    .build()
                    .map_err(|e| Error::internal(e.to_string()))?;
                let tools = json!([{"type": "function", "function": {
                    "name": "lookup", "description": TOOL_DESCRIPTION, "parameters": {
                        "type": "object", "properties": {"query": {"type": "string"}},
                        "required": ["query"]}}}]);
                Ok(Side::Reqwest(
                    http,
                    format!("{base_url}/chat/completions"),
                    tools,
                ))
            }
            "rig-openai" => Ok(Side::Rig(std::sync::Arc::new(
                crate::rig_peers::OpenAiRig::new(base_url, KEY, MODEL)?,
            ))),
            other => Err(Error::invalid_argument(format!("unknown --impl {other}"))),
        }
    }

    async fn generate(&self) -> Result<String> {
        match self {
            Side::Genkit(ai, _) => Ok(ai.generate().prompt(PROMPT).await?.text()),
            Side::Reqwest(http, url, _) => {
                let body =
                    json!({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]});
                let v = post(http, url, &body).await?;
                v.pointer("/choices/0/message/content")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| Error::internal(format!("no content in {v}")))
            }
            Side::Rig(agent) => agent.prompt(PROMPT).await,
        }
    }

    /// One generate with one tool round: `Look up: rust`, the look-alike calls
    /// `lookup`, then answers from its result (two exchanges).
    async fn tool_round(&self) -> Result<()> {
        let text = match self {
            Side::Genkit(ai, lookup) => ai
                .generate()
                .prompt(OVERHEAD_PROMPT)
                .tools([lookup])
                .await?
                .text(),
            Side::Reqwest(http, url, tools) => {
                let mut messages = vec![json!({"role": "user", "content": OVERHEAD_PROMPT})];
                let mut answer = None;
                for _ in 0..5 {
                    let body = json!({"model": MODEL, "messages": messages, "tools": tools});
                    let mut v = post(http, url, &body).await?;
                    let message = v
                        .pointer_mut("/choices/0/message")
                        .map(Value::take)
                        .ok_or_else(|| Error::internal("no message"))?;
                    let calls = message["tool_calls"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    if calls.is_empty() {
                        answer = message["content"].as_str().map(str::to_string);
                        break;
                    }
                    messages.push(json!({"role": "assistant", "content": null,
                        "tool_calls": calls}));
                    for c in &calls {
                        let args: Value = c["function"]["arguments"]
                            .as_str()
                            .map(serde_json::from_str)
                            .transpose()?
                            .unwrap_or_default();
                        let q = args["query"].as_str().unwrap_or_default();
                        messages.push(json!({"role": "tool", "tool_call_id": c["id"],
                            "content": lookup_result(q)}));
                    }
                }
                answer.ok_or_else(|| Error::internal("no answer after 5 turns"))?
            }
            Side::Rig(_) => {
                return Err(Error::failed_precondition(
                    "the rig side has no in-flight rows",
                ));
            }
        };
        if !text.contains("Results for: rust") {
            return Err(Error::internal(format!("unexpected answer: {text}")));
        }
        Ok(())
    }
}

const TOOL_DESCRIPTION: &str = "Look up a topic.";

fn lookup_result(q: &str) -> String {
    format!("Results for: {q}")
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value> {
    let resp = http
        .post(url)
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .map_err(|e| Error::unavailable(e.to_string()))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        return Err(Error::internal(format!("HTTP {status}: {text}")));
    }
    resp.json()
        .await
        .map_err(|e| Error::internal(e.to_string()))
}

/// The implementations of the in-flight rows: the plugin, the hand-written exchange.
pub const IN_FLIGHT_IMPLS: [(&str, &str); 2] = [
    ("genkit-openai", "genkit-rs `openai` plugin, tracing on"),
    ("reqwest-openai", "hand-written reqwest exchange"),
];

/// The client process of one row: `provider-client --impl NAME --base-url URL
/// [--calls N] [--warmup N]`; prints one [`ClientResult`] line.
pub async fn client(args: &[String]) -> Result<ClientResult> {
    let name =
        value(args, "--impl").ok_or_else(|| Error::invalid_argument("--impl is required"))?;
    let base = value(args, "--base-url")
        .ok_or_else(|| Error::invalid_argument("--base-url is required"))?;
    let calls: usize = num(args, "--calls", 2000).map_err(Error::invalid_argument)?;
    let warmup: usize = num(args, "--warmup", 200).map_err(Error::invalid_argument)?;
    let side = Side::new(&name, &base).await?;
    if let Some(n) = value(args, "--concurrency") {
        let concurrency = n
            .parse()
            .map_err(|_| Error::invalid_argument("--concurrency: not a number"))?;
        let duration: f64 = num(args, "--duration-s", 5.0).map_err(Error::invalid_argument)?;
        let side = std::sync::Arc::new(side);
        return crate::inflight::measure(
            &name,
            concurrency,
            Duration::from_secs_f64(duration),
            move || {
                let side = side.clone();
                async move { side.tool_round().await }
            },
        )
        .await;
    }
    let first = side.generate().await?;
    if !first.contains(PROMPT) {
        return Err(Error::internal(format!("unexpected answer: {first}")));
    }
    for _ in 0..warmup {
        side.generate().await?;
    }
    let mut lat = Vec::with_capacity(calls);
    let c0 = cpu_seconds();
    let w0 = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        side.generate().await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut r = ClientResult {
        imp: name,
        workload: "provider-generate".into(),
        concurrency: 1,
        wall_s: Some(w0.elapsed().as_secs_f64()),
        cpu_s: cpu_seconds() - c0,
        ..Default::default()
    };
    let (p50, p99) = p50_p99(&mut lat);
    (r.n, r.p50_ms, r.p99_ms) = (lat.len(), Some(p50), Some(p99));
    r.rss_kb = peak_rss_kb();
    Ok(r)
}

/// Runs every row (`calls` measured generates each) and returns the markdown section.
pub fn run(exe: &Path, calls: usize) -> std::result::Result<String, String> {
    let server = start_server(exe, "openai", 0)?;
    let mut rows = Vec::new();
    for (name, label) in IMPLS
        .into_iter()
        .filter(|(n, _)| *n != "rig-openai" || crate::rig_peers::AVAILABLE)
    {
        let mut cmd = Command::new(exe);
        cmd.args([
            "provider-client",
            "--impl",
            name,
            "--base-url",
            &server.base_url,
        ])
        .args([
            "--calls",
            &calls.to_string(),
            "--warmup",
            &(calls / 10).max(10).to_string(),
        ]);
        let r = run_client(cmd, Duration::from_secs(600)).map_err(|e| format!("{name}: {e}"))?;
        rows.push((label, r));
    }
    let per_call = |r: &ClientResult| r.cpu_s / r.n.max(1) as f64 * 1e6;
    let base = rows
        .iter()
        .find(|(l, _)| l.starts_with("hand-written"))
        .map(|(_, r)| per_call(r))
        .unwrap_or(1.0);
    let mut md = format!(
        "{SECTION}\n\nOpenAI Chat Completions: one generate (one request with a short prompt, one answer, no tools, not streamed) against the local OpenAI-compatible server (`genkit_openai::LocalOpenAi`) in another process; {calls} measured calls after a warm-up, one after another, each row in its own process. CPU = user + system time of the client process. On a shared machine the ratios vary noticeably from run to run: run it a few times. The guide's target is genkit-rs within 1.5x of the hand-written exchange.\n\n| implementation | CPU per generate (µs) | vs reqwest | p50 (ms) | p99 (ms) | peak RSS (MiB) |\n|---|---:|---:|---:|---:|---:|\n"
    );
    for (label, r) in &rows {
        md.push_str(&format!(
            "| {label} | {:.0} | {:.2}x | {:.3} | {:.3} | {:.1} |\n",
            per_call(r),
            per_call(r) / base,
            r.p50_ms.unwrap_or_default(),
            r.p99_ms.unwrap_or_default(),
            r.rss_kb as f64 / 1024.0
        ));
    }
    Ok(md)
}

/// Puts `section` into the markdown `doc`, replacing the old one (up to the next `### `
/// or `## ` heading) or appending it.
pub fn splice(doc: &str, section: &str) -> String {
    match doc.find(SECTION) {
        Some(i) => {
            let rest = &doc[i + SECTION.len()..];
            let end = ["\n### ", "\n## "]
                .iter()
                .filter_map(|m| rest.find(m))
                .min()
                .map_or(doc.len(), |j| i + SECTION.len() + j + 1);
            format!("{}{section}\n{}", &doc[..i], &doc[end..])
        }
        None => format!(
            "{}\n{section}",
            doc.trim_end_matches('\n').to_string() + "\n"
        ),
    }
}

/// The in-flight rows: (`reps` runs of each implementation, `duration` s windows) and
/// their table.
pub fn in_flight(
    exe: &Path,
    reps: usize,
    duration: Duration,
) -> std::result::Result<String, String> {
    let rows = crate::inflight::run(
        exe,
        "openai",
        "provider-client",
        &IN_FLIGHT_IMPLS,
        reps,
        duration,
    )?;
    Ok(crate::inflight::markdown(
        "OpenAI",
        "OpenAI Chat Completions, one generate with one tool round (prompt `Look up: rust`, one tool `lookup`; `LocalOpenAi` calls it, then answers from its result: 2 HTTP exchanges),",
        &rows,
        "reqwest-openai",
    ))
}

/// `--providers [--calls N] [--reps N] [--duration-s S] [--in-flight] [--out PATH]`:
/// runs the rows (with `--in-flight` only the rows at 256 in flight, put into the
/// existing section), prints them, writes them into `BENCHMARKS.md` (or `--out`).
pub fn runner_main(exe: &Path, args: &[String]) -> std::result::Result<(), String> {
    let calls: usize = num(args, "--calls", 2000)?;
    let reps: usize = num(args, "--reps", 3)?;
    let duration = Duration::from_secs_f64(num(args, "--duration-s", 5.0)?);
    let only_in_flight = args.iter().any(|a| a == "--in-flight");
    let sub = in_flight(exe, reps, duration)?;
    let out = value(args, "--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md"));
    let old = std::fs::read_to_string(&out).unwrap_or_default();
    let doc = if only_in_flight {
        println!("{sub}");
        crate::inflight::splice_sub(&old, SECTION, &sub)
    } else {
        let md = format!(
            "{}
{sub}",
            run(exe, calls)?
        );
        println!("{md}");
        splice(&old, &md)
    };
    std::fs::write(&out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_in_place_or_appended() {
        let s = format!("{SECTION}\n\nnew\n");
        let doc = format!("# B\n\n### 6. Serving\nx\n{SECTION}\n\nold\n\n### 8. Next\ny\n");
        let out = splice(&doc, &s);
        assert!(
            out.contains("new") && !out.contains("old") && out.contains("### 8. Next\ny"),
            "{out}"
        );
        let out = splice("# B\n", &s);
        assert!(out.ends_with(&s), "{out}");
    }
}
