//! Scripted replies of the local server.

use std::time::Duration;

use serde_json::{Value, json};

/// One scripted reply.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// An error status with OpenAI's error body, and retry headers.
    Error {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: Value,
        /// `retry-after-ms`, when set.
        retry_after: Option<Duration>,
    },
    /// Any status and bytes (malformed JSON, …).
    Raw {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: Vec<u8>,
    },
    /// 200 with these SSE `data:` payloads, then `[DONE]` unless `done` is false (the
    /// connection then ends without it).
    Events {
        /// The data of each event.
        data: Vec<String>,
        /// Whether `[DONE]` ends the stream.
        done: bool,
    },
    /// Waits, then answers by the default rule.
    Delay(Duration),
}

/// OpenAI's error type for an HTTP status.
fn kind_for(status: u16) -> &'static str {
    match status {
        400 | 401 | 403 | 404 | 409 | 422 => "invalid_request_error",
        429 => "rate_limit_error",
        _ => "server_error",
    }
}

/// `{"error": {message, type, param, code}}`.
pub fn error_body(status: u16, message: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind_for(status), "param": param, "code": code}})
}

impl Reply {
    /// An error with OpenAI's body.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Error {
            status,
            body: error_body(status, message, None, None),
            retry_after: None,
        }
    }

    /// A 429 with a `retry-after-ms` header.
    pub fn rate_limited(retry_after: Duration) -> Reply {
        Reply::Error {
            status: 429,
            body: error_body(
                429,
                "Rate limit reached for requests.",
                None,
                Some("rate_limit_exceeded"),
            ),
            retry_after: Some(retry_after),
        }
    }

    /// 200 with this JSON.
    pub fn json(v: Value) -> Reply {
        Reply::Json(v)
    }

    /// Raw bytes with a status.
    pub fn raw(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Raw {
            status,
            body: body.into(),
        }
    }

    /// SSE events (each a JSON value), then `[DONE]` when `done`.
    pub fn events(data: impl IntoIterator<Item = Value>, done: bool) -> Reply {
        Reply::Events {
            data: data.into_iter().map(|v| v.to_string()).collect(),
            done,
        }
    }
}
