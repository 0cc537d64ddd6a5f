//! [`bind`]: a TCP listener for [`serve`](crate::serve) (or `axum::serve`) with
//! `TCP_NODELAY`, a cap on open connections and a write-stall timeout on each one.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;

/// The default cap on open connections. Keep it below the process's file-descriptor
/// limit (`ulimit -n`), which it exists to protect.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// The default time a write may stay blocked (the client reads nothing) before the
/// connection is dropped.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The listener [`bind`] returns: it implements `axum::serve::Listener`, so it works
/// with [`serve`](crate::serve) and with `axum::serve`.
///
/// - **Connection cap** ([`max_connections`](Self::max_connections), default
///   [`DEFAULT_MAX_CONNECTIONS`]): at the cap, no connection is accepted until one
///   closes (new ones wait in the kernel's backlog), so idle or slow clients cannot
///   take every file descriptor and starve the process.
/// - **Write-stall timeout** ([`write_timeout`](Self::write_timeout), default
///   [`DEFAULT_WRITE_TIMEOUT`]): a connection whose client stops reading (a vanished
///   peer, a half-open socket) is dropped once a write has been blocked that long; the
///   run it was streaming is dropped with it. A flow that takes long to answer is not
///   affected: the clock runs only while a write waits.
/// - `TCP_NODELAY` on every connection (streams are many small writes; with Nagle's
///   algorithm each one after the first can wait for the client's delayed ACK, about
///   40 ms: on loopback this took streamed flows from ~4000 to ~700 requests/s).
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    max_connections: usize,
    write_timeout: Option<Duration>,
}

/// The former name of [`LimitedListener`].
pub type NoDelayListener = LimitedListener;

/// Binds a TCP listener with the defaults of [`LimitedListener`]. Use it in place of
/// `TcpListener::bind`:
///
/// ```no_run
/// # async fn demo(app: axum::Router) -> std::io::Result<()> {
/// let listener = genkit_axum::bind("127.0.0.1:3400").await?.max_connections(4096);
/// genkit_axum::serve(listener, app).await
/// # }
/// ```
pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<LimitedListener> {
    Ok(LimitedListener::new(TcpListener::bind(addr).await?))
}

impl LimitedListener {
    /// Wraps a bound listener, with the defaults.
    pub fn new(inner: TcpListener) -> Self {
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(DEFAULT_MAX_CONNECTIONS)),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
        }
    }

    /// The most connections open at once (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        let n = n.clamp(1, Semaphore::MAX_PERMITS);
        self.permits = Arc::new(Semaphore::new(n));
        self.max_connections = n;
        self
    }

    /// How long a write may stay blocked before the connection is dropped; `None`
    /// waits forever.
    pub fn write_timeout(mut self, d: Option<Duration>) -> Self {
        self.write_timeout = d;
        self
    }

    /// The number of connections open now.
    pub fn open_connections(&self) -> usize {
        self.max_connections - self.permits.available_permits()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
            // The semaphore is never closed.
            return std::future::pending().await;
        };
        // axum's accept retries on errors (and waits a second when out of descriptors).
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "genkit-axum: cannot set TCP_NODELAY");
        }
        let mut io = TimeoutStream::new(stream);
        io.set_write_timeout(self.write_timeout);
        let conn = Connection {
            io: Box::pin(io),
            _permit: permit,
        };
        (conn, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One accepted connection of a [`LimitedListener`]: it frees its place under the cap
/// when dropped.
#[derive(Debug)]
pub struct Connection {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    /// The TCP stream.
    pub fn tcp(&self) -> &TcpStream {
        self.io.get_ref()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }
}
