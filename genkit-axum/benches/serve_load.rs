//! A bounded loopback load test: a flow with a 2-turn tool loop (model → tool → model)
//! against the local Gemini-compatible server, served by genkit-axum, called over HTTP
//! by `BENCH_CONCURRENCY` clients (default 32) for `BENCH_REQUESTS` requests (default
//! 4000) per mode. Prints requests/s and p50/p99 latency, plain and streaming.
//!
//! `cargo bench -p genkit-axum --bench serve_load`

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

async fn load(
    url: &str,
    streaming: bool,
    requests: usize,
    concurrency: usize,
) -> Result<(f64, Vec<Duration>), String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let (client, next, url) = (client.clone(), next.clone(), url.to_string());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    return Ok::<_, String>(lat);
                }
                let t = Instant::now();
                let mut rb = client
                    .post(&url)
                    .json(&json!({"data": {"query": format!("q{i}")}}));
                if streaming {
                    rb = rb.header("accept", "text/event-stream");
                }
                let r = rb.send().await.map_err(|e| e.to_string())?;
                if r.status() != 200 {
                    return Err(format!("status {}", r.status()));
                }
                let body = r.text().await.map_err(|e| e.to_string())?;
                if !body.contains(&format!("Results for: q{i}")) {
                    return Err(format!("unexpected answer: {body}"));
                }
                lat.push(t.elapsed());
            }
        })
    });
    let mut all = Vec::with_capacity(requests);
    for w in futures::future::join_all(workers).await {
        all.extend(w.map_err(|e| e.to_string())??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    Ok((requests as f64 / secs, all))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests = env_usize("BENCH_REQUESTS", 4000);
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

    // Warm up connections and code paths.
    load(
        &format!("{url}/research"),
        false,
        200.min(requests),
        concurrency,
    )
    .await?;
    println!(
        "genkit-rs (genkit-axum), loopback, flow with a 2-turn tool loop against the local Gemini server; \
         {requests} requests, {concurrency} concurrent clients, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<10} {:>10} {:>10} {:>10}",
        "mode", "req/s", "p50 ms", "p99 ms"
    );
    for (mode, path, streaming) in [
        ("plain", "research", false),
        ("streaming", "research_stream", true),
    ] {
        let (rps, lat) = load(&format!("{url}/{path}"), streaming, requests, concurrency).await?;
        println!(
            "{:<10} {:>10.0} {:>10.2} {:>10.2}",
            mode,
            rps,
            percentile(&lat, 0.50).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3
        );
    }
    // Each request made two model calls.
    let calls = gemini.requests().len();
    println!("model calls served: {calls}");
    Ok(())
}
