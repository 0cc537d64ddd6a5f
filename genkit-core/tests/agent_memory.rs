//! The heap of 1,000 concurrent agent sessions × 20 turns with `InMemorySessionStore`,
//! through a real agent (an in-process model, so no HTTP buffers), counted by a global
//! allocator: what the store keeps once every turn has ended, and the peak while the
//! turns run.
//!
//! Each turn's snapshot shares the messages of the snapshot it continues, so the store
//! grows by the turn's two new messages and one row per turn, not by the whole history;
//! a turn loads its session and saves its snapshot without copying the history.
//! `SESSIONS` / `TURNS` / `LONG_TURNS` change the counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use std::time::Duration;

use genkit_core::agent::{Agent, AgentInit, AgentInput, InMemorySessionStore};
use genkit_core::{GenerateResponse, Genkit, ModelInfo};

/// Counts live heap bytes, and their peak.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grow(by: isize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size() as isize);
        // SAFETY: forwarded to the system allocator with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grow(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn brief_agent(delay: Duration) -> (Agent, Arc<InMemorySessionStore>) {
    let ai = Genkit::builder().build().await.expect("genkit");
    ai.define_model("brief", ModelInfo::default(), move |_, _| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(GenerateResponse::from_text("done: a short answer"))
    })
    .expect("model");
    let store = Arc::new(InMemorySessionStore::new());
    let agent = ai
        .define_agent("memoryAgent")
        .model("brief")
        .system("You are brief.")
        .store_ref(store.clone())
        .build()
        .expect("agent");
    (agent, store)
}

async fn turn(agent: &Agent, session: &str) {
    let out = agent
        .run(
            AgentInit::session(session),
            AgentInput::text("Hello there"),
            None,
            None,
        )
        .await
        .expect("turn");
    assert_eq!(out.text(), "done: a short answer", "{out:?}");
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// One test, so the two measures do not share the counter with each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_keep_each_message_once_and_turns_do_not_copy_the_history() {
    // A long session, one turn at a time: a turn's load and save share the history,
    // so the peak is the store plus one turn's request. (Copying the history of every
    // snapshot at each load took the transient heap to tens of MiB here.)
    let long = env("LONG_TURNS", 300);
    let (agent, store) = brief_agent(Duration::ZERO).await;
    turn(&agent, "long").await;
    let live0 = LIVE.load(Ordering::Relaxed);
    PEAK.store(live0, Ordering::Relaxed);
    for _ in 1..long {
        turn(&agent, "long").await;
    }
    let held = LIVE.load(Ordering::Relaxed) - live0;
    let transient = PEAK.load(Ordering::Relaxed) - live0 - held;
    eprintln!(
        "1 session × {long} turns: the store holds {:.2} MiB more after the first; turns add at most {:.2} MiB on top",
        mib(held),
        mib(transient)
    );
    assert_eq!(store.len(), long);
    assert!(
        mib(transient) < 2.0,
        "a turn of a long session peaks {:.2} MiB over what the store holds: is the history copied?",
        mib(transient)
    );
    drop((agent, store));

    // Many sessions at once (the model takes a moment, so their turns are in flight
    // together): the store grows by the turn's two messages and a row per turn.
    let (sessions, turns) = (env("SESSIONS", 1000), env("TURNS", 20));
    let (agent, store) = brief_agent(Duration::from_millis(5)).await;
    let live0 = LIVE.load(Ordering::Relaxed);
    PEAK.store(live0, Ordering::Relaxed);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..sessions {
        let agent = agent.clone();
        tasks.spawn(async move {
            let session = format!("session-{i}");
            for _ in 0..turns {
                turn(&agent, &session).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("session task");
    }
    assert_eq!(store.len(), sessions * turns);
    let held = LIVE.load(Ordering::Relaxed) - live0;
    let peak = PEAK.load(Ordering::Relaxed) - live0;
    let per_turn = held as f64 / (sessions * turns) as f64;
    eprintln!(
        "{sessions} sessions × {turns} turns: the store holds {:.1} MiB ({per_turn:.0} bytes per turn); peak heap {:.1} MiB",
        mib(held),
        mib(peak)
    );
    assert!(
        per_turn < 4096.0,
        "{per_turn:.0} bytes per turn: is the history copied per snapshot?"
    );
}
