//! Agent sessions: memory per idle session and turns/s with 1,000 concurrent sessions
//! against the local Gemini-compatible server (over HTTP, on 127.0.0.1).
//!
//! `cargo bench -p genkit-store --bench sessions` (set `SESSIONS` to change 1,000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use futures::StreamExt;

use genkit_core::agent::{AgentInit, AgentInput, InMemorySessionStore, SessionStore};
use genkit_core::{Error, Genkit, ToolContext};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;

use genkit_store::SqliteSessionStore;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SearchInput {
    query: String,
}

/// Counts live heap bytes, to measure what an idle session keeps.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded to the system allocator with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

async fn run(
    label: &str,
    ai: &Genkit,
    store: Arc<dyn SessionStore>,
    n: usize,
) -> genkit_core::Result<()> {
    let agent = ai
        .define_agent(format!("bench_{label}"))
        .system("You are a helpful assistant.")
        .tools(["web_search"])
        .store_ref(store)
        .build()?;
    let live0 = live();
    // Turn 1 of n concurrent sessions.
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let agent = agent.clone();
        tasks.push(tokio::spawn(async move {
            agent
                .run(
                    AgentInit::default(),
                    AgentInput::text(format!("Search: topic {i}")),
                    None,
                    None,
                )
                .await
        }));
    }
    let mut sessions = Vec::with_capacity(n);
    for task in tasks {
        let out = task.await.map_err(|e| Error::internal(e.to_string()))??;
        sessions.push(out.session_id.unwrap_or_default());
    }
    let first = t.elapsed();
    let stored = live() - live0;
    // Turn 2 of every session, resumed from the store.
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for sid in sessions {
        let agent = agent.clone();
        tasks.push(tokio::spawn(async move {
            agent
                .run(
                    AgentInit::session(sid),
                    AgentInput::text("Search: more"),
                    None,
                    None,
                )
                .await
        }));
    }
    for task in tasks {
        task.await.map_err(|e| Error::internal(e.to_string()))??;
    }
    let second = t.elapsed();
    println!(
        "{label}: {n} concurrent sessions: new-session turns {:.0} turns/s ({first:?}); resumed turns {:.0} turns/s ({second:?})",
        n as f64 / first.as_secs_f64(),
        n as f64 / second.as_secs_f64()
    );
    println!(
        "{label}: heap kept per stored idle session (one turn, by the store): {:.1} KiB",
        stored as f64 / n as f64 / 1024.0
    );
    // Idle open connections: one turn done, waiting for the next input.
    let before = live();
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let mut conn = agent.stream_bidi().await?;
        conn.send_text(format!("Search: idle {i}")).await?;
        // Read to the end of the turn.
        while let Some(c) = conn.next().await {
            if c?.turn_end.is_some() {
                break;
            }
        }
        conns.push(conn);
    }
    let open = live() - before;
    println!(
        "{label}: heap per idle open bidi connection (one turn done, incl. its stored snapshot): {:.1} KiB",
        open as f64 / n as f64 / 1024.0
    );
    drop(conns);
    Ok(())
}

/// The local Gemini server runs in a child process (this same binary with
/// `BENCH_SERVER=1`), so its request log does not count as the sessions' memory.
fn serve() -> genkit_core::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server = LocalGemini::start().await?;
        println!("{}", server.base_url());
        // Until the parent closes our stdin.
        let mut line = String::new();
        let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
        Ok(())
    })
}

fn main() -> genkit_core::Result<()> {
    if std::env::var_os("BENCH_SERVER").is_some() {
        return serve();
    }
    let n: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .env("BENCH_SERVER", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut base_url = String::new();
    {
        use std::io::BufRead;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::internal("no stdout"))?;
        std::io::BufReader::new(stdout).read_line(&mut base_url)?;
    }
    let base_url = base_url.trim().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let ai = Genkit::builder()
            .plugin(GoogleAi::new("k").with_base_url(base_url))
            .model("googleai/gemini-2.0-flash")
            .without_submitted_actions()
            .build()
            .await?;
        ai.define_tool(
            "web_search",
            "Search the web for a query.",
            |i: SearchInput, _cx: ToolContext| async move {
                Ok::<_, Error>(format!("Results for: {}", i.query))
            },
        )?;
        // Warm-up: grows the HTTP connection pool to n connections first, so the
        // memory figures below are the sessions', not the pool's.
        run("warm-up", &ai, Arc::new(InMemorySessionStore::new()), n).await?;
        run("memory", &ai, Arc::new(InMemorySessionStore::new()), n).await?;
        let dir = std::env::temp_dir().join(format!("genkit-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        run(
            "sqlite",
            &ai,
            Arc::new(SqliteSessionStore::open(dir.join("b.db"))?),
            n,
        )
        .await?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    });
    drop(child.stdin.take());
    let _ = child.wait();
    result
}
