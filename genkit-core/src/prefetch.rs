//! [`Prefetch`]: a stream read ahead by its own task, so that a consumer that wakes
//! finds every item that arrived meanwhile.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A stream (a provider's HTTP body) that, once it proves long, is read ahead by a task
/// on the current tokio runtime, at most `capacity` items ahead of the consumer.
///
/// hyper hands a response body over one frame at a time: the connection task can hold
/// one frame for the reader, so a reader on another thread wakes once for each frame
/// and the connection task once for each read, several thread switches per streamed
/// chunk. The read-ahead task is woken by the connection task on the same worker, and
/// the consumer takes everything that arrived in one wake.
///
/// The first [`READ_IN_PLACE`] items are read in place, so a short answer costs no task
/// (many short streams in flight, as in agents, stay as small as without read-ahead).
/// Memory stays bounded (`capacity` items; the connection is not read further while
/// they wait). Dropping the `Prefetch` stops the task, which drops the inner stream.
/// Outside a tokio runtime the whole stream is read in place.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use futures::StreamExt;
/// let items = futures::stream::iter(0..100);
/// let ahead = genkit_core::Prefetch::new(items);
/// assert_eq!(ahead.collect::<Vec<_>>().await, (0..100).collect::<Vec<_>>());
/// # });
/// ```
pub struct Prefetch<T> {
    inner: Inner<T>,
    capacity: usize,
}

enum Inner<T> {
    InPlace {
        stream: BoxStream<'static, T>,
        /// Items still to read in place before reading ahead.
        left: usize,
    },
    Ahead {
        rx: mpsc::Receiver<T>,
        task: JoinHandle<()>,
    },
    /// Only while the stream moves into its task.
    Moving,
}

/// How far [`Prefetch::new`] reads ahead: 32 items.
pub const DEFAULT_PREFETCH: usize = 32;

/// How many items a [`Prefetch`] reads in place before it reads ahead.
pub const READ_IN_PLACE: usize = 16;

impl<T: Send + 'static> Prefetch<T> {
    /// Reads `stream`, ahead by at most [`DEFAULT_PREFETCH`] items once it is longer
    /// than [`READ_IN_PLACE`].
    pub fn new<S>(stream: S) -> Self
    where
        S: Stream<Item = T> + Send + 'static,
    {
        Self::with_capacity(stream, DEFAULT_PREFETCH)
    }

    /// Reads `stream`, ahead by at most `capacity` items (at least one) once it is
    /// longer than [`READ_IN_PLACE`].
    pub fn with_capacity<S>(stream: S, capacity: usize) -> Self
    where
        S: Stream<Item = T> + Send + 'static,
    {
        Prefetch {
            inner: Inner::InPlace {
                stream: stream.boxed(),
                left: READ_IN_PLACE,
            },
            capacity: capacity.max(1),
        }
    }

    /// Moves the stream into a task that reads it ahead (in a tokio runtime).
    fn read_ahead(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Inner::InPlace { stream, .. } = std::mem::replace(&mut self.inner, Inner::Moving)
        else {
            return;
        };
        let (tx, rx) = mpsc::channel(self.capacity);
        let task = runtime.spawn(async move {
            let mut stream = stream;
            while let Some(item) = stream.next().await {
                if tx.send(item).await.is_err() {
                    break;
                }
            }
        });
        self.inner = Inner::Ahead { rx, task };
    }
}

impl<T: Send + 'static> Stream for Prefetch<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Ahead { rx, .. } => rx.poll_recv(cx),
            Inner::InPlace { stream, left } => {
                let item = std::task::ready!(stream.poll_next_unpin(cx));
                if item.is_some() {
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        this.read_ahead();
                    }
                }
                Poll::Ready(item)
            }
            Inner::Moving => Poll::Ready(None),
        }
    }
}

impl<T> Drop for Prefetch<T> {
    fn drop(&mut self) {
        if let Inner::Ahead { task, .. } = &self.inner {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn reads_in_place_outside_a_runtime() {
        let mut ahead = Prefetch::with_capacity(futures::stream::iter(0..40), 4);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut got = Vec::new();
        while let Poll::Ready(Some(i)) = ahead.poll_next_unpin(&mut cx) {
            got.push(i);
        }
        assert!(matches!(ahead.inner, Inner::InPlace { .. }));
        assert_eq!(got, (0..40).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_short_stream_is_read_in_place() {
        let mut ahead = Prefetch::new(futures::stream::iter(0..READ_IN_PLACE - 1));
        let mut got = Vec::new();
        while let Some(i) = ahead.next().await {
            got.push(i);
        }
        assert!(matches!(ahead.inner, Inner::InPlace { .. }));
        assert_eq!(got, (0..READ_IN_PLACE - 1).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn reads_at_most_capacity_ahead_and_stops_when_dropped() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let endless = futures::stream::iter(0..).inspect(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let mut ahead = Prefetch::with_capacity(endless, 4);
        for i in 0..READ_IN_PLACE {
            assert_eq!(ahead.next().await, Some(i));
        }
        assert_eq!(pulled.load(Ordering::SeqCst), READ_IN_PLACE);
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        // Four waiting, and one held by the blocked send.
        let n = pulled.load(Ordering::SeqCst);
        assert_eq!(n, READ_IN_PLACE + 5, "pulled {n}");
        assert_eq!(ahead.next().await, Some(READ_IN_PLACE));
        let Inner::Ahead { task, .. } = &ahead.inner else {
            panic!("not read ahead inside a runtime");
        };
        let task = task.abort_handle();
        drop(ahead);
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(task.is_finished());
        assert_eq!(pulled.load(Ordering::SeqCst), n);
    }
}
