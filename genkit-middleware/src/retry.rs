//! `Retry`: calls the model again when it fails with a transient status.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use genkit_core::{
    Error, GenerateRequest, GenerateResponse, Middleware, ModelContext, ModelNext, Result, Status,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{self, RETRY_STATUSES};

/// Waits between attempts; [`Retry::sleep_with`] replaces it (tests record delays).
pub type SleepFn = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// Retries failed model calls with exponential backoff, as Genkit's `retry`.
///
/// It wraps each model call, not the whole `generate` loop: a tool that already ran
/// is never run again. Defaults (Genkit's): 3 retries (4 attempts); statuses
/// `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `ABORTED`, `INTERNAL`
/// (errors with status `UNKNOWN`, Rust's counterpart of Genkit's "not a
/// GenkitError", are always retried); first delay 1 s, ×2 per retry, at most 60 s;
/// jitter on. Other statuses (`INVALID_ARGUMENT`, `PERMISSION_DENIED`, `NOT_FOUND`,
/// …) and interrupts are returned at once. After the last attempt the caller gets the
/// last error unchanged (status, message, details).
///
/// **Delay** before retry `i` (0-based): `current + jitter`, where jitter is
/// `1000 ms × 2^i × rand[0,1)`, capped at `max_delay`. Then
/// `current = min(current × backoff_factor, max_delay)`.
///
/// **The server's hint** (`retryAfterMs` in the error's details: the Gemini plugin
/// puts the server's `Retry-After` / `google.rpc.RetryInfo` there) is a floor: a
/// retry never comes before it. A hint longer than `max_delay` is not waited for: the
/// error is returned at once, its `retryAfterMs` telling the caller when to come back.
/// (Genkit JS's `retry` does not read the server's hint; genkit-rs differs on purpose.)
///
/// **Streaming**: a call is retried only while no chunk of it has reached the caller;
/// once one has, its error is returned as it is, so a caller never sees a chunk twice.
///
/// **Trace**: each retry is an event (target `genkit::middleware`, fields
/// `middleware = "retry"`, `attempt`, `delay_ms`, `status`, `error`) on the current
/// `generate` span; each attempt is its own model span.
///
/// ```
/// use genkit_middleware::Retry;
/// use std::time::Duration;
///
/// let retry = Retry::new().max_retries(3).initial_delay(Duration::from_millis(500));
/// # let _ = retry;
/// // ai.generate().prompt("…").use_(retry).await?;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Retry {
    max_retries: u32,
    statuses: Vec<Status>,
    initial_delay: Duration,
    max_delay: Duration,
    backoff_factor: f64,
    jitter: bool,
    sleep: Option<SleepFn>,
}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("max_retries", &self.max_retries)
            .field("statuses", &self.statuses)
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .field("backoff_factor", &self.backoff_factor)
            .field("jitter", &self.jitter)
            .finish()
    }
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_retries: 3,
            statuses: RETRY_STATUSES.to_vec(),
            initial_delay: Duration::from_millis(1000),
            max_delay: Duration::from_millis(60_000),
            backoff_factor: 2.0,
            jitter: true,
            sleep: None,
        }
    }
}

/// The JSON config of the registered `retry` middleware (Genkit's field names).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RetryConfig {
    /// The maximum number of times to retry a failed request (default 3).
    #[serde(alias = "max_retries")]
    pub max_retries: Option<u32>,
    /// Status names that trigger a retry (default UNAVAILABLE, DEADLINE_EXCEEDED,
    /// RESOURCE_EXHAUSTED, ABORTED, INTERNAL).
    pub statuses: Option<Vec<String>>,
    /// The initial delay between retries, in milliseconds (default 1000).
    #[serde(alias = "initial_delay_ms")]
    pub initial_delay_ms: Option<u64>,
    /// The maximum delay between retries, in milliseconds (default 60000).
    #[serde(alias = "max_delay_ms")]
    pub max_delay_ms: Option<u64>,
    /// The factor by which the delay grows after each retry (default 2).
    #[serde(alias = "backoff_factor")]
    pub backoff_factor: Option<f64>,
    /// Disables the random jitter added to each delay (default false).
    #[serde(alias = "no_jitter")]
    pub no_jitter: Option<bool>,
}

impl Retry {
    /// Genkit's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// From the JSON config of the registered `retry` middleware.
    pub fn from_config(config: Option<Value>) -> Result<Self> {
        let c: RetryConfig = config::parse("retry", config)?;
        let mut r = Retry::new();
        if let Some(n) = c.max_retries {
            r.max_retries = n;
        }
        if let Some(s) = &c.statuses {
            r.statuses = config::statuses("retry", s)?;
        }
        if let Some(ms) = c.initial_delay_ms {
            r.initial_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = c.max_delay_ms {
            r.max_delay = Duration::from_millis(ms);
        }
        if let Some(f) = c.backoff_factor {
            if !(f.is_finite() && f > 0.0) {
                return Err(Error::invalid_argument(
                    "invalid config for middleware 'retry': backoffFactor must be > 0",
                ));
            }
            r.backoff_factor = f;
        }
        if let Some(nj) = c.no_jitter {
            r.jitter = !nj;
        }
        Ok(r)
    }

    /// Retries after the first attempt (total attempts = `n + 1`).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The statuses that trigger a retry (replaces the defaults).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = Status>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// The delay before the first retry.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// The longest single wait.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The factor the delay grows by after each retry (ignored unless > 0).
    pub fn backoff_factor(mut self, f: f64) -> Self {
        if f.is_finite() && f > 0.0 {
            self.backoff_factor = f;
        }
        self
    }

    /// Turns off the random jitter: delays are exactly the backoff.
    pub fn no_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// Waits with `sleep` instead of `tokio::time::sleep` (to record delays in tests,
    /// or to use another clock).
    pub fn sleep_with<F, Fut>(mut self, sleep: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.sleep = Some(Arc::new(move |d| Box::pin(sleep(d))));
        self
    }

    /// Whether `e` is worth another attempt.
    pub fn is_retryable(&self, e: &Error) -> bool {
        if matches!(e, Error::Interrupt { .. }) {
            return false;
        }
        let s = e.status();
        s == Status::Unknown || self.statuses.contains(&s)
    }

    /// The wait before retry `attempt` (0-based) when the backoff is at `current`;
    /// `None` when the server asks for a longer wait than `max_delay` (no retry).
    fn delay(&self, attempt: u32, current: Duration, e: &Error) -> Option<Duration> {
        let mut d = current;
        if self.jitter {
            let scale = 2f64.powi(i32::try_from(attempt).unwrap_or(i32::MAX));
            let jitter = 1000.0 * scale * random_unit();
            d = d.saturating_add(Duration::from_secs_f64(
                (jitter / 1000.0).clamp(0.0, 86_400.0),
            ));
        }
        let d = d.min(self.max_delay);
        match retry_after(e) {
            Some(hint) if hint > self.max_delay => None,
            Some(hint) => Some(d.max(hint)),
            None => Some(d),
        }
    }

    async fn wait(&self, d: Duration) {
        match &self.sleep {
            Some(f) => f(d).await,
            None => tokio::time::sleep(d).await,
        }
    }
}

/// The server's retry hint: `details.retryAfterMs` (as the Gemini plugin sets it).
pub fn retry_after(e: &Error) -> Option<Duration> {
    let d = e.details()?;
    let ms = d.get("retryAfterMs").or_else(|| d.get("retry_after_ms"))?;
    let ms = ms.as_u64().or_else(|| {
        ms.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })?;
    Some(Duration::from_millis(ms))
}

/// A number in `[0, 1)`, from the std hasher's random keys (no RNG dependency).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl Middleware for Retry {
    fn name(&self) -> &str {
        "retry"
    }

    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        Box::pin(async move {
            let mut current = self.initial_delay;
            let mut attempt: u32 = 0;
            loop {
                let err = match next.run(request.clone(), cx.clone()).await {
                    Ok(r) => return Ok(r),
                    Err(e) => e,
                };
                if attempt >= self.max_retries || !self.is_retryable(&err) || cx.chunk_sent() {
                    return Err(err);
                }
                let Some(delay) = self.delay(attempt, current, &err) else {
                    tracing::info!(
                        target: "genkit::middleware",
                        middleware = "retry",
                        status = err.status().name(),
                        error = %err,
                        "not retrying: the server asks for a longer wait than max_delay"
                    );
                    return Err(err);
                };
                tracing::info!(
                    target: "genkit::middleware",
                    middleware = "retry",
                    attempt = attempt + 1,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    status = err.status().name(),
                    error = %err,
                    "retrying the model call"
                );
                self.wait(delay).await;
                current = Duration::try_from_secs_f64(current.as_secs_f64() * self.backoff_factor)
                    .unwrap_or(self.max_delay)
                    .min(self.max_delay);
                attempt += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_without_jitter_and_with_a_hint() {
        let r = Retry::new().no_jitter();
        let e = Error::unavailable("x");
        assert_eq!(
            r.delay(0, Duration::from_secs(1), &e),
            Some(Duration::from_secs(1))
        );
        let hinted =
            Error::new(Status::ResourceExhausted, "q").with_details(json!({"retryAfterMs": 5000}));
        assert_eq!(
            r.delay(0, Duration::from_secs(1), &hinted),
            Some(Duration::from_secs(5))
        );
        // A hint above max_delay is never cut short: no retry at all.
        let huge = Error::new(Status::ResourceExhausted, "q")
            .with_details(json!({"retryAfterMs": 900000}));
        assert_eq!(r.delay(0, Duration::from_secs(1), &huge), None);
        // The backoff is capped, the hint is not: a 60 s hint with a 10 s cap waits
        // 60 s only when max_delay allows it.
        let r = Retry::new().no_jitter().max_delay(Duration::from_secs(10));
        let at_cap =
            Error::new(Status::ResourceExhausted, "q").with_details(json!({"retryAfterMs": 10000}));
        assert_eq!(
            r.delay(5, Duration::from_secs(40), &at_cap),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn jitter_stays_within_genkit_bounds() {
        let r = Retry::new();
        let e = Error::unavailable("x");
        for attempt in 0..3u32 {
            let base = Duration::from_secs(1);
            let d = r.delay(attempt, base, &e).unwrap();
            assert!(d >= base, "{d:?}");
            assert!(d < base + Duration::from_millis(1000 << attempt), "{d:?}");
        }
    }

    #[test]
    fn huge_configured_delays_do_not_overflow() {
        let r = Retry::from_config(Some(
            json!({"initialDelayMs": u64::MAX, "maxDelayMs": u64::MAX, "backoffFactor": 1e300}),
        ))
        .unwrap();
        let e = Error::unavailable("x");
        let d = r.delay(40, r.initial_delay, &e).unwrap();
        assert_eq!(d, Duration::from_millis(u64::MAX));
        let next =
            Duration::try_from_secs_f64(d.as_secs_f64() * r.backoff_factor).unwrap_or(r.max_delay);
        assert_eq!(next.min(r.max_delay), r.max_delay);
    }

    #[test]
    fn config_is_parsed_and_checked() {
        let r = Retry::from_config(Some(
            json!({"maxRetries": 1, "statuses": ["INTERNAL"], "noJitter": true}),
        ))
        .unwrap();
        assert_eq!(r.max_retries, 1);
        assert_eq!(r.statuses, vec![Status::Internal]);
        assert!(!r.jitter);
        let e = Retry::from_config(Some(json!({"statuses": ["NOPE"]}))).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArgument);
        let e = Retry::from_config(Some(json!({"maxRetries": "x"}))).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArgument);
    }
}
