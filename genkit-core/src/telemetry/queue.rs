//! What both exporters' queues share: batches taken off the queue, how far the
//! background thread has got, and flushes bounded in time.
//!
//! Each exporter counts the spans it accepts into its queue and the spans its thread
//! has finished with (sent or failed). A flush waits until the second count reaches
//! what the first was when the flush began, or until its timeout: the whole flush is
//! bounded, however many batches a hanging server holds up. The wait runs on the
//! exporter's own runtime (which has a timer), so the caller's runtime needs none.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

/// Waits for the next span, then takes what else is queued, up to `max` in all.
/// `None` once the queue is closed and empty.
pub(crate) async fn next_batch<T>(rx: &mut mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let first = rx.recv().await?;
    let mut batch = Vec::with_capacity(max.min(rx.len() + 1));
    batch.push(first);
    while batch.len() < max {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// What an exporter has done with spans: accepted into its queue, dropped, exported,
/// failed. The spans finished with (exported or failed) are also watched by flushes.
#[derive(Debug)]
pub(crate) struct Progress {
    queued: AtomicU64,
    dropped: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    done: watch::Sender<u64>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            queued: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            exported: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            done: watch::Sender::new(0),
        }
    }
}

impl Progress {
    /// One span more was accepted into the queue.
    pub(crate) fn queued_one(&self) {
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    /// One span was dropped (queue full, or no exporter).
    pub(crate) fn dropped_one(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The thread has finished with `n` more spans: exported (`ok`) or failed.
    pub(crate) fn finished(&self, n: u64, ok: bool) {
        let counter = if ok { &self.exported } else { &self.failed };
        counter.fetch_add(n, Ordering::Relaxed);
        self.done.send_modify(|d| *d += n);
    }

    /// Spans accepted into the queue so far.
    pub(crate) fn queued(&self) -> u64 {
        self.queued.load(Ordering::Acquire)
    }

    /// Spans dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Spans exported so far.
    pub(crate) fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// Spans whose export failed so far.
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Waits until every span accepted before this call has been finished with, or
    /// `timeout` has passed, on `rt` (the exporter's runtime). Returns at once when
    /// that runtime has ended.
    pub(crate) async fn flush(&self, rt: &Handle, timeout: Duration) {
        let target = self.queued();
        let mut done = self.done.subscribe();
        if *done.borrow() >= target {
            return;
        }
        let wait = rt.spawn(async move {
            let _ = tokio::time::timeout(timeout, done.wait_for(|d| *d >= target)).await;
        });
        let _ = wait.await;
    }
}
