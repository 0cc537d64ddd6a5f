//! The reflection API: how the Genkit CLI (`genkit start`, `genkit flow:run`, …) and
//! the Dev UI list and run a Rust runtime's actions.
//!
//! Nothing here runs unless the environment says `GENKIT_ENV=dev` (which
//! `genkit start -- <cmd>` sets): then [`Genkit::builder`]'s `build()` starts
//!
//! - the v1 HTTP server on 127.0.0.1, first free port from 3100 (or
//!   `GENKIT_REFLECTION_PORT`), and writes the runtime file
//!   `<root>/.genkit/runtimes/<pid>-<port>-<ms>.json` by which the CLI finds it (root
//!   as the CLI finds it: see [`project_root`]); or, when `GENKIT_REFLECTION_V2_SERVER`
//!   names a WebSocket URL (the CLI's one-shot mode), the v2 JSON-RPC client that dials
//!   it;
//! - trace export to the CLI's telemetry server.
//!
//! In dev mode the program stays up after `main`'s work is done: when `main` drops
//! your last [`Genkit`] handle, the drop waits until the runtime is stopped — Ctrl-C,
//! SIGTERM (what the CLI sends), or `GET /api/__quitquitquit` — and the runtime file is
//! removed on the way out. Runs the CLI has in flight at that moment, and the
//! runtime's own tasks, hold handles of their own that do not count. This needs
//! tokio's multi-thread runtime (the `#[tokio::main]` default).
//!
//! The v1 server answers the CLI only: requests naming a host other than localhost,
//! browser requests from pages not on this machine, and POST bodies that are not JSON
//! are refused before anything runs (see the `guard` module's rules in the README's
//! "Reliability and security").
//!
//! [`ReflectionServer`] starts a v1 server explicitly (tests, custom set-ups):
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! use genkit_core::Genkit;
//! use genkit_core::reflection::{ReflectionOptions, ReflectionServer};
//!
//! let ai = Genkit::builder().without_submitted_actions().build().await?;
//! let server = ReflectionServer::start(&ai, ReflectionOptions::new().port(0)).await?;
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! server.stop().await;
//! # Ok::<(), genkit_core::Error>(()) }).unwrap();
//! ```
//!
//! [`Genkit`]: crate::Genkit
//! [`Genkit::builder`]: crate::Genkit::builder

mod guard;
mod run;
mod runtime_file;
mod server;
mod v2;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::error::Result;
use crate::genkit::Genkit;

pub use guard::is_json as is_json_content_type;
pub use runtime_file::{ROOT_MARKERS, project_root};

/// The reflection API spec version this runtime speaks (the CLI exits on a higher one).
pub const SPEC_VERSION: u32 = 1;

/// `rust/<version>`: the runtime's `genkitVersion` and `x-genkit-version`.
pub fn genkit_version() -> &'static str {
    concat!("rust/", env!("CARGO_PKG_VERSION"))
}

/// True when `GENKIT_ENV=dev`.
pub fn is_dev() -> bool {
    std::env::var_os("GENKIT_ENV").is_some_and(|v| v == "dev")
}

/// Options of an explicitly started [`ReflectionServer`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReflectionOptions {
    /// The port (0: any free one); `None`: `GENKIT_REFLECTION_PORT`, else the first
    /// free port from 3100.
    pub port: Option<u16>,
    /// Where to write the runtime file (`<dir>/.genkit/runtimes/`); `None`: no file.
    pub project_root: Option<PathBuf>,
    /// The app's name in the runtime file.
    pub name: Option<String>,
    /// The runtime id; `None`: `GENKIT_RUNTIME_ID`, else `<pid>-<port>`.
    pub runtime_id: Option<String>,
}

impl ReflectionOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens on this port (0: any free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Writes the runtime file under `<root>/.genkit/runtimes/`.
    pub fn project_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.project_root = Some(root.into());
        self
    }

    /// The app's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The runtime id.
    pub fn runtime_id(mut self, id: impl Into<String>) -> Self {
        self.runtime_id = Some(id.into());
        self
    }
}

/// The instance the server runs actions on: a detached handle (see
/// [`Genkit::detached`]), taken away once a dev-mode runtime has stopped so the instance
/// can go.
pub(crate) struct GenkitSlot(RwLock<Option<Genkit>>);

impl GenkitSlot {
    fn new(ai: &Genkit) -> Self {
        GenkitSlot(RwLock::new(Some(ai.detached())))
    }

    /// The instance, unless the runtime has stopped.
    pub fn get(&self) -> Option<Genkit> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn clear(&self) {
        let old = self.0.write().unwrap_or_else(|e| e.into_inner()).take();
        drop(old);
    }
}

/// Stop requested / stopped, shared by the server task and its handles.
pub(crate) struct Lifecycle {
    stop: watch::Sender<bool>,
    stopped: watch::Sender<bool>,
    notified: watch::Sender<bool>,
}

impl Lifecycle {
    fn new() -> Arc<Self> {
        Arc::new(Lifecycle {
            stop: watch::channel(false).0,
            stopped: watch::channel(false).0,
            notified: watch::channel(false).0,
        })
    }

    /// Asks the runtime to stop.
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    /// Resolves once a stop was asked for.
    pub async fn stop_requested(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }

    /// Records that a CLI has found this runtime (it posted `/api/notify`).
    pub fn mark_notified(&self) {
        self.notified.send_replace(true);
    }

    /// Resolves once a CLI has found this runtime.
    pub async fn notified(&self) {
        let mut rx = self.notified.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }

    /// Marks the runtime stopped.
    pub fn mark_stopped(&self) {
        self.stopped.send_replace(true);
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    async fn wait_stopped(&self) {
        let mut rx = self.stopped.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// An explicitly started reflection v1 server. Dropping it stops it.
#[derive(Debug)]
pub struct ReflectionServer {
    running: server::Running,
}

impl ReflectionServer {
    /// Starts serving `ai`'s actions.
    pub async fn start(ai: &Genkit, options: ReflectionOptions) -> Result<ReflectionServer> {
        let slot = Arc::new(GenkitSlot::new(ai));
        let running = server::spawn(slot, options, Lifecycle::new()).await?;
        Ok(ReflectionServer { running })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.running.url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.running.port
    }

    /// The runtime id (`/api/__health?id=` checks it).
    pub fn runtime_id(&self) -> &str {
        &self.running.runtime_id
    }

    /// The runtime file, if one was written.
    pub fn runtime_file(&self) -> Option<&Path> {
        self.running.runtime_file.as_deref()
    }

    /// Resolves once the server has stopped (e.g. after `/api/__quitquitquit`).
    pub async fn stopped(&self) {
        self.running.lifecycle.wait_stopped().await;
    }

    /// Stops it, removes its runtime file, and waits until it has stopped.
    pub async fn stop(self) {
        self.running.lifecycle.request_stop();
        self.running.lifecycle.wait_stopped().await;
    }
}

impl Drop for ReflectionServer {
    fn drop(&mut self) {
        self.running.lifecycle.request_stop();
    }
}

/// The dev-mode runtime, shared by the user's handles on the instance: when the last of
/// them goes, it keeps the program up until the runtime is stopped.
pub(crate) struct DevRuntime {
    slot: Arc<GenkitSlot>,
    lifecycle: Arc<Lifecycle>,
}

impl std::fmt::Debug for DevRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevRuntime").finish_non_exhaustive()
    }
}

impl Drop for DevRuntime {
    /// The user's last handle is gone: keep serving the Genkit CLI until the runtime is
    /// stopped, blocking this thread. Requests in flight and the runtime's own tasks
    /// hold detached handles, so they never decide where this runs.
    fn drop(&mut self) {
        // A panicking `main` has crashed: let it end, as a crashed JS runtime does.
        if self.lifecycle.is_stopped() || std::thread::panicking() {
            return;
        }
        // Only `main` waits: `main` returning is what would end the program. A user's
        // last handle dropped in a task of theirs (after `main` let go of its own)
        // must not block a worker, nor a task torn down while the runtime shuts down.
        if std::thread::current().name() != Some("main") {
            tracing::warn!(
                target: "genkit",
                "dev mode: the last Genkit handle was dropped off the main thread; not keeping the runtime up"
            );
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            tracing::warn!(
                target: "genkit",
                "dev mode: the reflection API stops with main; use the multi-thread tokio runtime to keep it up"
            );
            return;
        }
        tracing::info!(target: "genkit", "dev mode: serving the Genkit CLI until stopped (Ctrl-C)");
        let lifecycle = Arc::clone(&self.lifecycle);
        tokio::task::block_in_place(|| handle.block_on(lifecycle.wait_stopped()));
        self.slot.clear();
    }
}

/// Starts the dev-mode runtime for `ai` (called by `build()` when `GENKIT_ENV=dev`).
/// A failure is logged, never fatal.
pub(crate) async fn start_dev(ai: &Genkit) -> Option<DevRuntime> {
    crate::telemetry::init();
    let slot = Arc::new(GenkitSlot::new(ai));
    let lifecycle = Lifecycle::new();
    // No app name: the CLI then shows the runtime id.
    let started = match std::env::var("GENKIT_REFLECTION_V2_SERVER") {
        Ok(url) if !url.is_empty() => {
            v2::spawn(Arc::clone(&slot), url, None, Arc::clone(&lifecycle));
            Ok(None)
        }
        _ => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let options = ReflectionOptions::new().project_root(project_root(&cwd));
            server::spawn(Arc::clone(&slot), options, Arc::clone(&lifecycle))
                .await
                .map(Some)
        }
    };
    match started {
        Ok(running) => {
            if let Some(r) = &running {
                tracing::info!(target: "genkit", "reflection API at {} (runtime id {})", r.url, r.runtime_id);
            }
            handle_signals(Arc::clone(&lifecycle), running.and_then(|r| r.file_handle));
            Some(DevRuntime { slot, lifecycle })
        }
        Err(e) => {
            tracing::warn!(target: "genkit", "dev mode: cannot start the reflection API: {e}");
            None
        }
    }
}

/// Ctrl-C / SIGTERM (how the CLI ends its child): remove the runtime file, send the
/// traces still queued, and exit with status 0, as the JS runtime does (the CLI takes
/// any other status for a crash).
fn handle_signals(lifecycle: Arc<Lifecycle>, file: Option<Arc<runtime_file::RuntimeFile>>) {
    tokio::spawn(async move {
        wait_for_signal().await;
        lifecycle.request_stop();
        if let Some(f) = file {
            f.remove();
        }
        let flush = crate::telemetry::flush();
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), flush).await;
        std::process::exit(0);
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
