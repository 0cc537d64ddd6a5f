//! Allocations per call (a counting global allocator): the overhead workload (one
//! generate with one tool round) for the hand-written reqwest exchange, genkit-rs with
//! tracing off and on, and rig; the server runs on another thread and is not counted.
//!
//! `cargo bench -p genkit-bench --bench allocs`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use genkit_bench::workloads::{Impl, Side};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count(size: usize) {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    // The mock server on its own runtime and thread (not counted).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("tokio: {e}"),
        };
        rt.block_on(async move {
            let (addr, fut) = match genkit_bench::mock::bind(std::time::Duration::ZERO).await {
                Ok(x) => x,
                Err(e) => panic!("mock: {e}"),
            };
            let _ = tx.send(format!("http://{addr}"));
            let _ = fut.await;
        });
    });
    let base = match rx.recv() {
        Ok(b) => b,
        Err(e) => panic!("mock did not start: {e}"),
    };
    // The client on a current-thread runtime on this thread: everything it allocates is
    // counted.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio: {e}"),
    };
    const CALLS: u64 = 200;
    println!("| implementation | allocations / call | bytes allocated / call |");
    println!("|---|---|---|");
    for imp in [Impl::Reqwest, Impl::Genkit, Impl::GenkitTraced, Impl::Rig]
        .into_iter()
        .filter(|i| !matches!(i, Impl::Rig) || genkit_bench::rig_peers::AVAILABLE)
    {
        let side = match rt.block_on(Side::new(imp, &base)) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let run = || {
            rt.block_on(async {
                for _ in 0..CALLS {
                    if let Err(e) = side.overhead().await {
                        panic!("{e}");
                    }
                }
            })
        };
        let traced = imp == Impl::GenkitTraced;
        let guard = traced.then(|| {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::{Layer, filter};
            struct Noop;
            impl<S: tracing::Subscriber> Layer<S> for Noop {}
            tracing::subscriber::set_default(
                tracing_subscriber::registry()
                    .with(Noop.with_filter(filter::filter_fn(|m| m.target() == "genkit"))),
            )
        });
        run(); // warm-up: pools, caches
        ALLOCS.store(0, Ordering::Relaxed);
        BYTES.store(0, Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        run();
        COUNTING.with(|c| c.set(false));
        drop(guard);
        println!(
            "| {} | {} | {} |",
            imp.name(),
            ALLOCS.load(Ordering::Relaxed) / CALLS,
            BYTES.load(Ordering::Relaxed) / CALLS
        );
    }
}
