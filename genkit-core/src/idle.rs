//! [`IdleTimeout`]: a bound on the wait for each item of a stream that costs one timer
//! per timeout period, not one per item.

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

/// Bounds the wait for each next item of a stream (a provider's SSE body) by a
/// timeout. Wrapping each `next()` in `tokio::time::timeout` registers a new timer per
/// item, and on a multi-threaded runtime a new timer can wake a parked worker thread:
/// one thread wake per streamed chunk. This keeps one timer, set when it fires to the
/// last item's time plus the timeout.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use std::time::Duration;
/// let mut items = futures::stream::iter([1, 2]);
/// let mut idle = genkit_core::IdleTimeout::new(Duration::from_secs(5));
/// assert_eq!(idle.next(&mut items).await, Ok(Some(1)));
/// assert_eq!(idle.next(&mut items).await, Ok(Some(2)));
/// assert_eq!(idle.next(&mut items).await, Ok(None));
/// # });
/// ```
#[derive(Debug)]
pub struct IdleTimeout {
    timeout: Duration,
    /// When the last item arrived (or the wait began).
    last: Instant,
    /// Fires at or before `last + timeout`; created on the first wait.
    sleep: Option<Pin<Box<Sleep>>>,
}

/// The wait for the next item took longer than the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Elapsed;

impl IdleTimeout {
    /// A bound of `timeout` on each wait.
    pub fn new(timeout: Duration) -> Self {
        IdleTimeout {
            timeout,
            last: Instant::now(),
            sleep: None,
        }
    }

    /// The stream's next item, or [`Elapsed`] when none came within the timeout of the
    /// previous one (or of the first wait).
    pub async fn next<S>(&mut self, stream: &mut S) -> Result<Option<S::Item>, Elapsed>
    where
        S: Stream + Unpin,
    {
        let timeout = self.timeout;
        if self.sleep.is_none() {
            self.last = Instant::now();
        }
        let last = self.last;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(last + timeout)));
        loop {
            tokio::select! {
                biased;
                item = stream.next() => {
                    self.last = Instant::now();
                    return Ok(item);
                }
                () = sleep.as_mut() => {
                    let deadline = self.last + timeout;
                    if Instant::now() >= deadline {
                        return Err(Elapsed);
                    }
                    sleep.as_mut().reset(deadline);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_item_is_elapsed_and_steady_items_are_not() {
        let mut idle = IdleTimeout::new(Duration::from_millis(300));
        // Items every 150 ms: each within the timeout of the one before, though the
        // whole stream takes twice the timeout.
        let mut steady = Box::pin(futures::stream::unfold(0, |n| async move {
            (n < 4).then_some(())?;
            tokio::time::sleep(Duration::from_millis(150)).await;
            Some((n, n + 1))
        }));
        for n in 0..4 {
            assert_eq!(idle.next(&mut steady).await, Ok(Some(n)));
        }
        assert_eq!(idle.next(&mut steady).await, Ok(None));
        let mut silent = futures::stream::pending::<u8>();
        let waited = std::time::Instant::now();
        assert_eq!(idle.next(&mut silent).await, Err(Elapsed));
        assert!(waited.elapsed() >= Duration::from_millis(290));
    }
}
