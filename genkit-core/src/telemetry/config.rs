//! Where traces go: the Genkit telemetry server URL and the export switches.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// The URL set by [`set_server_url`] (or read from `GENKIT_TELEMETRY_SERVER`).
static URL: RwLock<Option<Arc<str>>> = RwLock::new(None);
/// Set once a URL is known: the only check made on the hot path.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether the environment has been read.
static ENV_READ: OnceLock<bool> = OnceLock::new();

/// Reads `GENKIT_TELEMETRY_SERVER` once; returns whether it is set.
fn env_url_set() -> bool {
    *ENV_READ.get_or_init(|| match std::env::var("GENKIT_TELEMETRY_SERVER") {
        Ok(url) if !url.trim().is_empty() => {
            store(&url);
            true
        }
        _ => false,
    })
}

fn store(url: &str) {
    let url = url.trim().trim_end_matches('/');
    let mut guard = URL.write().unwrap_or_else(|e| e.into_inner());
    if url.is_empty() {
        *guard = None;
        ACTIVE.store(false, Ordering::Release);
    } else {
        *guard = Some(Arc::from(url));
        ACTIVE.store(true, Ordering::Release);
    }
}

/// Sets the Genkit telemetry server URL (from reflection `POST /api/notify`), unless
/// `GENKIT_TELEMETRY_SERVER` is set (the environment wins). An empty URL turns export
/// off.
///
/// ```
/// genkit_core::telemetry::set_server_url("http://127.0.0.1:4033/");
/// if std::env::var("GENKIT_TELEMETRY_SERVER").is_err() {
///     assert_eq!(
///         genkit_core::telemetry::server_url().as_deref(),
///         Some("http://127.0.0.1:4033")
///     );
/// }
/// ```
pub fn set_server_url(url: &str) {
    if !env_url_set() {
        store(url);
    }
}

/// The telemetry server URL in use (without a trailing `/`), if any.
pub fn server_url() -> Option<String> {
    global_url().map(|u| u.to_string())
}

pub(crate) fn global_url() -> Option<Arc<str>> {
    env_url_set();
    URL.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether a global telemetry server URL is known (cheap).
pub(crate) fn global_active() -> bool {
    ACTIVE.load(Ordering::Acquire) || env_url_set()
}

/// `GENKIT_ENABLE_REALTIME_TELEMETRY=true`: spans are also exported when they start.
pub(crate) fn realtime_from_env() -> bool {
    static REALTIME: OnceLock<bool> = OnceLock::new();
    *REALTIME.get_or_init(|| {
        std::env::var("GENKIT_ENABLE_REALTIME_TELEMETRY")
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
            .unwrap_or(false)
    })
}
