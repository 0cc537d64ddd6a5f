//! [`Shutdown`]: graceful shutdown shared by the server and the handlers.

use std::sync::Arc;

use tokio::sync::watch;

/// A graceful-shutdown handle. Hand [`Shutdown::signal`] to
/// [`serve`](crate::serve)'s (or axum's) `with_graceful_shutdown` (it stops accepting connections and waits for open ones)
/// and the same handle to [`ServeOptions::shutdown`](crate::ServeOptions::shutdown),
/// so that runs in flight — long streams included — finish within the grace period or
/// end with a clear UNAVAILABLE error instead of holding the server open.
///
/// ```no_run
/// # async fn demo(app: axum::Router) -> std::io::Result<()> {
/// let shutdown = genkit_axum::Shutdown::new();
/// let listener = genkit_axum::bind("127.0.0.1:3400").await?;
/// tokio::spawn(shutdown.clone().trigger_on_ctrl_c());
/// genkit_axum::serve(listener, app).with_graceful_shutdown(shutdown.signal()).await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        let (tx, _) = watch::channel(false);
        Shutdown { tx: Arc::new(tx) }
    }

    /// Starts the shutdown (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the shutdown is triggered.
    pub fn signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // An error means the sender is gone, which cannot happen while `self`
            // lives; either way there is nothing left to wait for.
            let _ = rx.wait_for(|v| *v).await;
        }
    }

    /// Waits for Ctrl-C (SIGINT), then triggers the shutdown.
    pub async fn trigger_on_ctrl_c(self) {
        if tokio::signal::ctrl_c().await.is_ok() {
            self.trigger();
        }
    }
}
