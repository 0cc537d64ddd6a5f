//! What both exporters' queues share: batches taken off the queue, how far the
//! background thread has got, and flushes bounded in time.
//!
//! Each exporter counts the spans it accepts into its queue and the spans its thread
//! has finished with (sent or failed). A flush waits until the second count reaches
//! what the first was when the flush began, or until its timeout: the whole flush is
//! bounded, however many batches a hanging server holds up. The wait runs on the
//! exporter's own runtime (which has a timer), so the caller's runtime needs none.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::{Notify, watch};

/// Outside dev mode, how long an exporter's thread lets spans gather after a wake
/// before it sends them (Genkit JS batches for up to 5 s there): one wake per batch
/// instead of one per span or trace.
pub(crate) const GATHER: Duration = Duration::from_millis(20);

/// How many spans make the thread stop gathering and send at once (Genkit JS's
/// batch size, 512).
pub(crate) const SEND_AT: usize = 512;

/// The spans waiting for an exporter's background thread. A caller wakes the thread
/// only when it finds the queue empty, or when [`SEND_AT`] spans wait: one wake for
/// however many spans arrive before the thread takes them.
#[derive(Debug)]
pub(crate) struct SpanQueue<T> {
    items: Mutex<Vec<T>>,
    wake: Notify,
    flush_asked: AtomicBool,
    closed: AtomicBool,
}

impl<T> Default for SpanQueue<T> {
    fn default() -> Self {
        SpanQueue {
            items: Mutex::new(Vec::new()),
            wake: Notify::new(),
            flush_asked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }
}

impl<T> SpanQueue<T> {
    /// Adds `item` unless `limit` items already wait (then gives it back).
    pub(crate) fn push(&self, item: T, limit: usize) -> Result<(), T> {
        let wake = {
            let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
            if items.len() >= limit {
                return Err(item);
            }
            items.push(item);
            items.len() == 1 || items.len() == SEND_AT
        };
        if wake {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Everything waiting.
    pub(crate) fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Asks the thread to send everything now.
    pub(crate) fn ask_flush(&self) {
        self.flush_asked.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Tells the thread to send what is left and stop.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The thread's wait: until spans arrive (or `deadline`), then, unless a flush or
    /// the close asks for them sooner, `gather` more. Returns whether everything is to
    /// go now (a flush was asked, or the queue closed).
    pub(crate) async fn wait(&self, gather: Duration, deadline: Option<Instant>) -> bool {
        tokio::select! {
            () = self.wake.notified() => {},
            () = sleep_until_some(deadline), if deadline.is_some() => {},
        }
        if !gather.is_zero() && !self.flush_asked.load(Ordering::Acquire) && !self.is_closed() {
            tokio::select! {
                () = tokio::time::sleep(gather) => {},
                () = self.wake.notified() => {},
            }
        }
        self.flush_asked.swap(false, Ordering::AcqRel) || self.is_closed()
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d.into()).await;
    }
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
