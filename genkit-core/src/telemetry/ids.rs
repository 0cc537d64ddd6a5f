//! Trace and span ids, and the task-local ids of the next root span.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::future::Future;

/// Trace and span ids (lowercase hex: 32 and 16 chars).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootIds {
    /// The trace id: 32 lowercase hex characters.
    pub trace_id: String,
    /// The root span's id: 16 lowercase hex characters.
    pub span_id: String,
}

impl RootIds {
    /// New random, non-zero ids.
    pub fn new() -> Self {
        RootIds {
            trace_id: trace_id(),
            span_id: span_id(),
        }
    }
}

impl Default for RootIds {
    fn default() -> Self {
        Self::new()
    }
}

tokio::task_local! {
    static ROOT_IDS: RefCell<Option<RootIds>>;
}

/// Runs `fut` so that the first root genkit span started inside it gets these ids
/// (task-local).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use genkit_core::telemetry::{RootIds, with_root_ids};
/// let ids = RootIds::new();
/// assert_eq!(ids.trace_id.len(), 32);
/// let out = with_root_ids(ids, async { 1 + 1 }).await;
/// assert_eq!(out, 2);
/// # });
/// ```
pub async fn with_root_ids<F: Future>(ids: RootIds, fut: F) -> F::Output {
    ROOT_IDS.scope(RefCell::new(Some(ids)), fut).await
}

/// Takes the ids set by [`with_root_ids`] on this task, if any are left.
pub(crate) fn take_root_ids() -> Option<RootIds> {
    ROOT_IDS
        .try_with(|cell| cell.borrow_mut().take())
        .ok()
        .flatten()
}

/// A random non-zero 128-bit trace id as 32 hex chars.
pub(crate) fn trace_id() -> String {
    let hi = random_u64();
    let lo = random_u64();
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{hi:016x}{lo:016x}");
    s
}

/// A random non-zero 64-bit span id as 16 hex chars.
pub(crate) fn span_id() -> String {
    format!("{:016x}", random_u64())
}

/// A random non-zero `u64`: SplitMix64 over a per-thread state seeded from the OS
/// (ids need to be unique, not secret; this keeps syscalls off the span path).
pub(crate) fn random_u64() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    loop {
        let v = STATE.with(|state| {
            let mut z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            state.set(z);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        });
        if v != 0 {
            return v;
        }
    }
}

/// A seed from the OS, or from the std hasher's per-process keys if that fails.
fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_ok() {
        return u64::from_le_bytes(b);
    }
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    std::thread::current().id().hash(&mut h);
    h.finish()
}
