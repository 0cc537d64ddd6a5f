//! A bounded loopback load test: a flow with a 2-turn tool loop (model → `web_search`
//! tool → model) against the local Gemini-compatible server, served over HTTP by
//! genkit-rs (genkit-axum), by Genkit JS (`@genkit-ai/express`) and by Genkit Python
//! (`genkit-fastapi` under uvicorn) on the same machine, each called by
//! `BENCH_CONCURRENCY` clients (default 32) for `BENCH_SECONDS` seconds (default 8,
//! after `BENCH_WARMUP_SECONDS`, default 2) with the same `{"data": {"query": …}}`
//! bodies. Prints one markdown table: requests/s, p50/p99 latency and the ratio to
//! genkit-rs; then genkit-rs's streaming mode.
//!
//! `cargo bench -p genkit-axum --bench serve_load`
//!
//! The peers run as child processes on 127.0.0.1 from the installs the benchmarks
//! runner (`cargo run --release -p genkit-bench`) makes under
//! `${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}`: `bench-js` (genkit@1.42.0,
//! @genkit-ai/google-genai@1.42.0, plus @genkit-ai/express@1.42.0) and `bench-py`
//! (genkit==0.12.0, genkit-google-genai==0.12.0, plus genkit-fastapi==0.12.0 and
//! uvicorn). A peer whose packages are missing gets a "not installed" row. The local
//! Gemini server and the load driver run in this process for all three.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use genkit_core::{Error, FlowContext, Genkit};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, Serialize, JsonSchema)]
struct SearchInput {
    query: String,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One measured run: requests/s and sorted latencies.
struct Run {
    rps: f64,
    lat: Vec<Duration>,
}

impl Run {
    fn ms(&self, p: f64) -> f64 {
        percentile(&self.lat, p).as_secs_f64() * 1e3
    }
}

/// `concurrency` clients post to `url` back to back for `duration`; every answer must
/// be 200 and hold the tool's result for its own query.
async fn load(
    client: &reqwest::Client,
    url: &str,
    streaming: bool,
    duration: Duration,
    concurrency: usize,
) -> Result<Run, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let workers = (0..concurrency).map(|_| {
        let (client, next, url) = (client.clone(), next.clone(), url.to_string());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let mut rb = client
                    .post(&url)
                    .json(&json!({"data": {"query": format!("q{i}")}}));
                if streaming {
                    rb = rb.header("accept", "text/event-stream");
                }
                let r = rb.send().await.map_err(|e| e.to_string())?;
                let status = r.status();
                let body = r.text().await.map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(format!("status {status}: {body}"));
                }
                if !body.contains(&format!("Results for: q{i}")) {
                    return Err(format!("unexpected answer: {body}"));
                }
                lat.push(t.elapsed());
            }
            Ok::<_, String>(lat)
        })
    });
    let mut lat = Vec::new();
    for w in futures::future::join_all(workers).await {
        lat.extend(w.map_err(|e| e.to_string())??);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    Ok(Run {
        rps: lat.len() as f64 / secs,
        lat,
    })
}

/// A peer server process, killed when dropped.
struct PeerProcess {
    child: Child,
    log: PathBuf,
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl PeerProcess {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

fn cache_dir() -> PathBuf {
    std::env::var_os("GENKIT_RS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/genkit-rs-cache"))
}

fn peers_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers")
}

/// A free loopback port (the OS picks one; the peer binds it right after).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// How to start one peer, or why it cannot run here.
fn peer_command(label: &str, gemini_url: &str, port: u16) -> Result<Command, String> {
    let cache = cache_dir();
    let port = port.to_string();
    if label == "Genkit JS" {
        let js = cache.join("bench-js");
        let missing: Vec<&str> = [
            "genkit",
            "@genkit-ai/google-genai",
            "@genkit-ai/express",
            "express",
        ]
        .into_iter()
        .filter(|p| {
            !js.join("node_modules")
                .join(p)
                .join("package.json")
                .exists()
        })
        .collect();
        if !missing.is_empty() {
            return Err(format!(
                "not installed: {} in {} (`npm install genkit@1.42.0 @genkit-ai/google-genai@1.42.0 @genkit-ai/express@1.42.0` there)",
                missing.join(", "),
                js.display()
            ));
        }
        // ESM resolves packages next to the script: run a copy inside the install.
        let script = js.join("serve_load_server.mjs");
        std::fs::copy(peers_src().join("server.mjs"), &script)
            .map_err(|e| format!("cannot copy server.mjs: {e}"))?;
        let mut c = Command::new("node");
        c.arg(script)
            .args(["--base-url", gemini_url, "--port", &port]);
        Ok(c)
    } else {
        let py = cache.join("bench-py");
        let python = py.join("bin/python");
        let ok = Command::new(&python)
            .args([
                "-c",
                "import genkit, genkit_google_genai, genkit_fastapi, uvicorn",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!(
                "not installed: genkit, genkit-google-genai, genkit-fastapi or uvicorn in {} (`bin/pip install genkit==0.12.0 genkit-google-genai==0.12.0 genkit-fastapi==0.12.0 uvicorn` there)",
                py.display()
            ));
        }
        let mut c = Command::new(python);
        c.arg(peers_src().join("server.py"))
            .args(["--base-url", gemini_url, "--port", &port]);
        Ok(c)
    }
}

/// Starts a peer and waits (at most 60 s) until its flow answers.
async fn start_peer(
    label: &str,
    gemini_url: &str,
    client: &reqwest::Client,
) -> Result<(PeerProcess, String), String> {
    let port = free_port().map_err(|e| e.to_string())?;
    let mut cmd = peer_command(label, gemini_url, port)?;
    let log = std::env::temp_dir().join(format!("serve_load-{}-{port}.log", std::process::id()));
    let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut peer = PeerProcess { child, log };
    let url = format!("http://127.0.0.1:{port}/research");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = peer.child.try_wait() {
            return Err(format!("exited ({status}): {}", peer.log_tail()));
        }
        let r = client
            .post(&url)
            .json(&json!({"data": {"query": "ready"}}))
            .send()
            .await;
        if let Ok(r) = r {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            if status == 200 && body.contains("Results for: ready") {
                return Ok((peer, url));
            }
            return Err(format!("not ready: status {status}: {body}"));
        }
        if Instant::now() > deadline {
            return Err(format!("not ready after 60 s: {}", peer.log_tail()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = env_usize("BENCH_SECONDS", 8).max(1) as u64;
    let warmup = Duration::from_secs(env_usize("BENCH_WARMUP_SECONDS", 2) as u64);
    let duration = Duration::from_secs(seconds);
    let concurrency = env_usize("BENCH_CONCURRENCY", 32).max(1);
    let gemini = LocalGemini::start().await?;
    let ai = Genkit::builder()
        .plugin(GoogleAi::new("bench-key").with_base_url(gemini.base_url()))
        .model("googleai/gemini-2.0-flash")
        .without_submitted_actions()
        .build()
        .await?;
    let web_search =
        ai.define_tool(
            "web_search",
            "Search the web for a query.",
            |input: SearchInput, _| async move {
                Ok::<_, Error>(format!("Results for: {}", input.query))
            },
        )?;
    let tool = web_search.clone();
    ai.define_flow(
        "research",
        move |ai: Genkit, input: SearchInput, _cx: FlowContext| {
            let tool = tool.clone();
            async move {
                let r = ai
                    .generate()
                    .prompt(format!("Research: {}", input.query))
                    .tools([tool])
                    .await?;
                Ok::<_, Error>(r.text())
            }
        },
    )?;
    let tool = web_search.clone();
    ai.define_flow(
        "research_stream",
        move |ai: Genkit, input: SearchInput, cx: FlowContext| {
            let tool = tool.clone();
            async move {
                use futures::StreamExt;
                let mut s = ai
                    .generate()
                    .prompt(format!("Research: {}", input.query))
                    .tools([tool])
                    .stream();
                while let Some(c) = s.next().await {
                    cx.send_chunk(c?.text()).await?;
                }
                Ok::<_, Error>(s.response().await?.text())
            }
        },
    )?;
    // Streams are many small writes: without TCP_NODELAY, Nagle's algorithm holds them
    // for the peer's delayed ACK (~40 ms). `BENCH_NAGLE=1` measures that.
    let nagle = std::env::var("BENCH_NAGLE").is_ok();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let listener = axum::serve::ListenerExt::tap_io(listener, move |tcp| {
        if !nagle {
            let _ = tcp.set_nodelay(true);
        }
    });
    let app: axum::Router = genkit_axum::flows(&ai);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "Loopback, flow `research` = generate with a `web_search` tool (2 model calls) against \
         the local Gemini server; {concurrency} concurrent clients, {seconds} s per server after \
         a {} s warm-up, {cores} cores.\n",
        warmup.as_secs()
    );

    let rs_url = format!("{url}/research");
    load(&client, &rs_url, false, warmup, concurrency).await?;
    let rs = load(&client, &rs_url, false, duration, concurrency).await?;

    let mut rows = vec![(
        "genkit-rs (genkit-axum)".to_string(),
        Ok::<_, String>(Run {
            rps: rs.rps,
            lat: rs.lat.clone(),
        }),
    )];
    for (label, server) in [
        ("Genkit JS", "Genkit JS 1.42.0 (@genkit-ai/express)"),
        (
            "Genkit Python",
            "Genkit Python 0.12.0 (genkit-fastapi, uvicorn)",
        ),
    ] {
        let result = match start_peer(label, &gemini.base_url(), &client).await {
            Ok((peer, peer_url)) => {
                let measured = async {
                    load(&client, &peer_url, false, warmup, concurrency).await?;
                    load(&client, &peer_url, false, duration, concurrency).await
                }
                .await;
                drop(peer);
                measured
            }
            Err(e) => Err(e),
        };
        rows.push((server.to_string(), result));
    }

    println!(
        "| server | req/s | p50 ms | p99 ms | req/s vs genkit-rs | p50 vs genkit-rs |\n\
         |---|---:|---:|---:|---:|---:|"
    );
    for (server, result) in &rows {
        match result {
            Ok(run) => println!(
                "| {server} | {:.0} | {:.2} | {:.2} | {:.2}× | {:.1}× |",
                run.rps,
                run.ms(0.50),
                run.ms(0.99),
                run.rps / rs.rps,
                run.ms(0.50) / rs.ms(0.50)
            ),
            Err(e) => println!(
                "| {server} | {} | | | | |",
                e.replace('|', "/").replace('\n', " ")
            ),
        }
    }

    let stream_url = format!("{url}/research_stream");
    load(&client, &stream_url, true, warmup, concurrency).await?;
    let st = load(&client, &stream_url, true, duration, concurrency).await?;
    println!(
        "\ngenkit-rs streaming (SSE, same flow with chunks): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        st.rps,
        st.ms(0.50),
        st.ms(0.99)
    );
    // Each request made two model calls.
    println!("model calls served: {}", gemini.requests().len());
    Ok(())
}
