//! [`serve`]: axum's serving loop with the timeouts a public server needs.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use futures::future::BoxFuture;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tower_service::Service as _;

/// The default time a client has to send a request's headers, and the longest a
/// kept-alive connection may stay idle between requests.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until the future completes (never, unless
/// [`with_graceful_shutdown`](Serve::with_graceful_shutdown) is given) — `axum::serve`
/// with slow and idle clients cut off:
///
/// - **Header-read timeout** ([`header_read_timeout`](Serve::header_read_timeout),
///   default [`DEFAULT_HEADER_READ_TIMEOUT`], hyper's own timer): a client that does not
///   send a request's headers in time, or keeps a connection idle that long between
///   requests, is disconnected. A connection that sends half its headers and stops
///   (slowloris) is gone after 30 s.
/// - With [`bind`](crate::bind)'s listener: the cap on open connections and the
///   write-stall timeout (see [`LimitedListener`](crate::LimitedListener)).
/// - Request bodies: [`ServeOptions`](crate::ServeOptions) limits their size and the
///   time to send them (408).
///
/// HTTP/1.1 (with upgrades, so WebSockets work). Handlers can extract the peer's
/// address with `ConnectInfo<SocketAddr>` (the listener's address type).
///
/// ```no_run
/// # async fn demo(app: axum::Router) -> std::io::Result<()> {
/// let shutdown = genkit_axum::Shutdown::new();
/// let listener = genkit_axum::bind("127.0.0.1:3400").await?;
/// genkit_axum::serve(listener, app)
///     .with_graceful_shutdown(shutdown.signal())
///     .await
/// # }
/// ```
pub fn serve<L: Listener>(listener: L, app: Router) -> Serve<L> {
    Serve {
        listener,
        app,
        header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        signal: None,
    }
}

/// The future [`serve`] returns; `.await` it.
#[must_use = "a server does nothing until awaited"]
pub struct Serve<L> {
    listener: L,
    app: Router,
    header_read_timeout: Duration,
    signal: Option<BoxFuture<'static, ()>>,
}

impl<L> fmt::Debug for Serve<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("header_read_timeout", &self.header_read_timeout)
            .field("graceful", &self.signal.is_some())
            .finish_non_exhaustive()
    }
}

impl<L: Listener> Serve<L>
where
    L::Addr: Clone + Sync + 'static,
{
    /// How long a client may take to send a request's headers, and how long a
    /// kept-alive connection may wait idle for its next request (at least 1 ms).
    pub fn header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// Stops accepting connections when `signal` completes, lets the requests in
    /// flight finish (closing idle connections at once), then returns. With a
    /// [`Shutdown`](crate::Shutdown): `.with_graceful_shutdown(shutdown.signal())`.
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.signal = Some(Box::pin(signal));
        self
    }

    async fn run(self) -> io::Result<()> {
        let Serve {
            mut listener,
            app,
            header_read_timeout,
            signal,
        } = self;
        let mut signal = pin!(async move {
            match signal {
                Some(s) => s.await,
                None => std::future::pending().await,
            }
        });
        // Connections hold `close_rx`; `stop_tx` closing tells them to shut down.
        let (stop_tx, _) = watch::channel(());
        let (close_tx, close_rx) = watch::channel(());
        loop {
            let (io, addr) = tokio::select! {
                conn = listener.accept() => conn,
                () = &mut signal => break,
            };
            let app = app.clone();
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(addr.clone()));
                let mut app = app.clone();
                async move { app.call(req).await }
            });
            let stop = stop_tx.subscribe();
            let close_rx = close_rx.clone();
            tokio::spawn(async move {
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout);
                let mut conn = pin!(
                    builder
                        .serve_connection(TokioIo::new(io), service)
                        .with_upgrades()
                );
                let mut stopped = pin!(async move {
                    let mut stop = stop;
                    while stop.changed().await.is_ok() {}
                });
                let mut shutting_down = false;
                loop {
                    tokio::select! {
                        result = conn.as_mut() => {
                            if let Err(e) = result {
                                tracing::trace!(error = %e, "genkit-axum: connection ended");
                            }
                            break;
                        }
                        () = &mut stopped, if !shutting_down => {
                            shutting_down = true;
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
                drop(close_rx);
            });
        }
        drop(listener);
        drop(close_rx);
        drop(stop_tx);
        close_tx.closed().await;
        Ok(())
    }
}

impl<L: Listener> IntoFuture for Serve<L>
where
    L::Addr: Clone + Sync + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<'static, io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
