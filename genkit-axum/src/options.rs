//! [`ServeOptions`]: limits, timeouts, the context provider and the shutdown handle a
//! handler applies to every request.

use std::sync::Arc;
use std::time::Duration;

use crate::context::{ContextProvider, ProviderRef};
use crate::shutdown::Shutdown;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// The default maximum nesting depth of the request JSON.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// The default time a client has to send its request body.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time in-flight requests get to finish once shutdown starts.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How a flow or agent handler treats its requests. Cheap to clone (shared).
///
/// ```
/// use std::time::Duration;
/// use genkit_axum::{ServeOptions, api_key};
///
/// let opts = ServeOptions::new()
///     .context(api_key("Bearer s3cret"))
///     .timeout(Duration::from_secs(120))
///     .body_limit(256 * 1024);
/// # let _ = opts;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    pub(crate) body_limit: usize,
    pub(crate) max_depth: usize,
    pub(crate) read_timeout: Duration,
    pub(crate) timeout: Option<Duration>,
    pub(crate) context: Option<ProviderRef>,
    pub(crate) shutdown: Option<Shutdown>,
    pub(crate) grace: Duration,
    pub(crate) stream_buffer: usize,
    pub(crate) any_content_type: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            body_limit: DEFAULT_BODY_LIMIT,
            max_depth: DEFAULT_MAX_DEPTH,
            read_timeout: DEFAULT_READ_TIMEOUT,
            timeout: None,
            context: None,
            shutdown: None,
            grace: DEFAULT_SHUTDOWN_GRACE,
            stream_buffer: 16,
            any_content_type: false,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("body_limit", &self.body_limit)
            .field("max_depth", &self.max_depth)
            .field("read_timeout", &self.read_timeout)
            .field("timeout", &self.timeout)
            .field("context", &self.context.is_some())
            .field("shutdown", &self.shutdown.is_some())
            .field("grace", &self.grace)
            .field("any_content_type", &self.any_content_type)
            .finish()
    }
}

impl ServeOptions {
    /// The defaults: JSON bodies only (`Content-Type: application/json`, else 415),
    /// 1 MiB bodies, JSON depth 64, 30 s to send the body, no run timeout, no context
    /// provider, no shutdown handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest request body accepted (bigger ones get 413).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The deepest JSON nesting accepted (deeper input gets 400 before it is parsed).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// How long a client may take to send its body (then 408).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// How long a run may take; then it is dropped (cancelled) and the client gets
    /// DEADLINE_EXCEEDED (504, or an error frame when streaming).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The context provider: it reads the request, returns the context the flow sees
    /// in [`FlowContext::context`](genkit_core::FlowContext::context), or rejects the
    /// request (401/403) before the flow runs.
    pub fn context(mut self, provider: impl ContextProvider) -> Self {
        self.context = Some(Arc::new(provider));
        self
    }

    /// Ties the handler to a [`Shutdown`]: once it is triggered, new requests get 503
    /// and runs in flight get [`ServeOptions::grace`] to finish, then end with an
    /// UNAVAILABLE error (an error frame when streaming).
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.shutdown = Some(shutdown.clone());
        self
    }

    /// How long in-flight runs may go on after shutdown starts (default 10 s).
    pub fn grace(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }

    /// How many chunks may wait for a slow streaming client before the run waits too
    /// (default 16).
    pub fn stream_buffer(mut self, chunks: usize) -> Self {
        self.stream_buffer = chunks.max(1);
        self
    }

    /// Accepts request bodies whatever their `Content-Type` (they are still parsed as
    /// JSON). By default a body that is not declared JSON (`application/json` or
    /// `application/*+json`) is refused with 415 before it is read: browsers send
    /// `text/plain` and form bodies to any site without a CORS preflight, so without
    /// this check any web page could run your flows with its visitors' cookies or
    /// network position. Turn it off only for clients you know cannot set the header.
    pub fn accept_any_content_type(mut self) -> Self {
        self.any_content_type = true;
        self
    }
}
