//! Scripted replies: what the next requests get instead of the default behaviour.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

/// One scripted reply. Replies are served first in, first out, one per request (to
/// any endpoint); when the queue is empty the server answers by its default rule.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) delay: Duration,
    pub(crate) kind: ReplyKind,
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyKind {
    /// A body with a status and content type, and optional `Retry-After`.
    Body {
        status: u16,
        content_type: &'static str,
        body: Bytes,
        retry_after: Option<String>,
    },
    /// An SSE answer: frames written one by one (at the stream pace), then either the
    /// end of the body or a broken connection.
    Sse {
        frames: Vec<Bytes>,
        break_after: Option<usize>,
    },
    /// The default behaviour (after the delay).
    Default,
}

/// The google.rpc status name Google pairs with an HTTP status.
pub fn status_name(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}

/// Google's error body for a status and message.
pub fn error_body(code: u16, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status_name(code)}})
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
        Self::body(status, "application/json; charset=UTF-8", body.to_string())
    }

    /// This status with Google's error body (`{"error": {code, message, status}}`).
    pub fn error(status: u16, message: &str) -> Self {
        Self::with_status(status, error_body(status, message))
    }

    /// 429 RESOURCE_EXHAUSTED carrying a `google.rpc.RetryInfo` with this delay.
    pub fn rate_limited(retry_delay: Duration) -> Self {
        let mut body = error_body(429, "Resource has been exhausted (e.g. check quota).");
        body["error"]["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{}s", retry_delay.as_secs_f64()),
        }]);
        Self::with_status(429, body)
    }

    /// Any bytes with this status and content type (for malformed answers).
    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self::body(status, content_type, body)
    }

    /// 200 `application/json` whose body is not valid JSON.
    pub fn malformed_json() -> Self {
        Self::raw(
            200,
            "application/json; charset=UTF-8",
            "{\"candidates\": [{\"content\": ",
        )
    }

    /// An SSE answer with one `data:` event per JSON value.
    pub fn sse(events: impl IntoIterator<Item = Value>) -> Self {
        Self::sse_frames(events.into_iter().map(|e| format!("data: {e}\r\n\r\n")))
    }

    /// An SSE answer written exactly as these pieces of bytes (split anywhere you
    /// like, even inside a UTF-8 character).
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

    /// Adds a `Retry-After` header (seconds) to a body reply.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        if let ReplyKind::Body { retry_after, .. } = &mut self.kind {
            *retry_after = Some(seconds.to_string());
        }
        self
    }

    /// For an SSE reply: after `n` frames (and a short pause, so they reach the
    /// client), break the connection (no clean end).
    pub fn break_after(mut self, n: usize) -> Self {
        if let ReplyKind::Sse { break_after, .. } = &mut self.kind {
            *break_after = Some(n);
        }
        self
    }
}
