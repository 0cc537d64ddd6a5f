//! Scripted replies: what the next requests get instead of the default behaviour.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

/// One scripted reply. Replies are served first in, first out, one per request; when
/// the queue is empty the server answers by its default rule.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) delay: Duration,
    pub(crate) kind: ReplyKind,
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyKind {
    Body {
        status: u16,
        content_type: &'static str,
        body: Bytes,
        retry_after: Option<String>,
    },
    Sse {
        frames: Vec<Bytes>,
        break_after: Option<usize>,
    },
    Default,
}

/// The error type Anthropic pairs with an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Anthropic's error body.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type(status), "message": message},
        "request_id": "req_local"})
}

/// One SSE frame as the API writes it: `event: {type}` then `data: {json}`.
pub fn sse_frame(event: &Value) -> Bytes {
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    Bytes::from(format!("event: {kind}\ndata: {event}\n\n"))
}

impl Reply {
    fn body(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Reply {
            delay: Duration::ZERO,
            kind: ReplyKind::Body {
                status,
                content_type,
                body: body.into(),
                retry_after: None,
            },
        }
    }

    /// 200 with this JSON body.
    pub fn json(body: Value) -> Self {
        Self::with_status(200, body)
    }

    /// This status with this JSON body.
    pub fn with_status(status: u16, body: Value) -> Self {
        Self::body(status, "application/json", body.to_string())
    }

    /// This status with Anthropic's error body (the type that goes with the status).
    pub fn error(status: u16, message: &str) -> Self {
        Self::with_status(status, error_body(status, message))
    }

    /// 529 `overloaded_error`.
    pub fn overloaded() -> Self {
        Self::error(529, "Overloaded")
    }

    /// 429 `rate_limit_error` with `retry-after: {seconds}`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self::error(
            429,
            "Number of request tokens has exceeded your per-minute rate limit",
        )
        .retry_after(seconds)
    }

    /// Any bytes with this status and content type (for malformed answers).
    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self::body(status, content_type, body)
    }

    /// An SSE answer of these events (each named by its `type`).
    pub fn sse(events: impl IntoIterator<Item = Value>) -> Self {
        Self::sse_frames(events.into_iter().map(|e| sse_frame(&e)))
    }

    /// An SSE answer written exactly as these pieces of bytes.
    pub fn sse_frames<B: Into<Bytes>>(frames: impl IntoIterator<Item = B>) -> Self {
        Reply {
            delay: Duration::ZERO,
            kind: ReplyKind::Sse {
                frames: frames.into_iter().map(Into::into).collect(),
                break_after: None,
            },
        }
    }

    /// The default behaviour, after [`delay`](Self::delay).
    pub fn default_behaviour() -> Self {
        Reply {
            delay: Duration::ZERO,
            kind: ReplyKind::Default,
        }
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Adds a `retry-after` header (seconds) to a body reply.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        if let ReplyKind::Body { retry_after, .. } = &mut self.kind {
            *retry_after = Some(seconds.to_string());
        }
        self
    }

    /// For an SSE reply: after `n` frames, break the connection (no clean end).
    pub fn break_after(mut self, n: usize) -> Self {
        if let ReplyKind::Sse { break_after, .. } = &mut self.kind {
            *break_after = Some(n);
        }
        self
    }
}
