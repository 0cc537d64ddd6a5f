//! Anthropic failures as Genkit errors: the HTTP status and Anthropic's error body
//! (`{"type": "error", "error": {"type", "message"}}`) → a [`genkit_core::Error`] with
//! the right [`Status`], Anthropic's message, and details a retry middleware reads
//! (`retryAfterMs`, from the `retry-after` header).
//!
//! | HTTP | error type | Genkit status |
//! |---|---|---|
//! | 400 | `invalid_request_error` | INVALID_ARGUMENT |
//! | 401 | `authentication_error` | UNAUTHENTICATED |
//! | 403 | `permission_error` | PERMISSION_DENIED |
//! | 404 | `not_found_error` | NOT_FOUND |
//! | 413 | `request_too_large` | INVALID_ARGUMENT (retrying cannot help) |
//! | 429 | `rate_limit_error` | RESOURCE_EXHAUSTED |
//! | 500 | `api_error` | INTERNAL |
//! | 529 | `overloaded_error` | UNAVAILABLE |
//!
//! Errors sent inside a stream (`event: error`) have no HTTP status: their type
//! decides. Nothing built here contains the API key.

use std::time::Duration;

use genkit_core::{Error, Status};
use genkit_googleai::error::{parse_retry_after, redact};
use serde_json::{Map, Value, json};

use crate::wire::{ApiError, ErrorBody};

/// The Genkit status for an HTTP status of the Messages API.
pub fn status_for_http(code: u16) -> Status {
    match code {
        400 | 413 => Status::InvalidArgument,
        401 => Status::Unauthenticated,
        403 => Status::PermissionDenied,
        404 => Status::NotFound,
        408 | 504 => Status::DeadlineExceeded,
        409 => Status::Aborted,
        429 => Status::ResourceExhausted,
        499 => Status::Cancelled,
        500 => Status::Internal,
        501 => Status::Unimplemented,
        502 | 503 | 529 => Status::Unavailable,
        402 | 405..=412 | 414..=428 | 430..=498 => Status::FailedPrecondition,
        _ => Status::Unknown,
    }
}

/// The Genkit status for an Anthropic error type; `None` for a type not listed.
pub fn status_for_type(kind: &str) -> Option<Status> {
    Some(match kind {
        "invalid_request_error" | "request_too_large" => Status::InvalidArgument,
        "authentication_error" => Status::Unauthenticated,
        "permission_error" => Status::PermissionDenied,
        "not_found_error" => Status::NotFound,
        "rate_limit_error" => Status::ResourceExhausted,
        "api_error" => Status::Internal,
        "overloaded_error" => Status::Unavailable,
        "timeout_error" => Status::DeadlineExceeded,
        _ => return None,
    })
}

/// What a failed answer carried besides its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `retry-after` (seconds).
    pub retry_after: Option<&'a str>,
    /// `request-id`.
    pub request_id: Option<&'a str>,
}

/// The error for a non-2xx answer: the HTTP status decides (the error type when the
/// status is unusual), Anthropic's message, and details `{httpStatus, type?,
/// requestId?, retryAfterMs?}`.
pub fn from_http(code: u16, headers: Headers<'_>, body: &[u8], key: &str) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let mut status = status_for_http(code);
    let mut details = Map::new();
    details.insert("httpStatus".into(), json!(code));
    let message = match &parsed {
        Some(b) => {
            if matches!(status, Status::Unknown | Status::FailedPrecondition)
                && let Some(s) = status_for_type(&b.error.kind)
            {
                status = s;
            }
            details.insert("type".into(), json!(b.error.kind));
            if b.error.message.is_empty() {
                format!("Anthropic API answered HTTP {code} ({})", b.error.kind)
            } else {
                b.error.message.clone()
            }
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                format!("Anthropic API answered HTTP {code}")
            } else {
                let short: String = text.chars().take(500).collect();
                format!("Anthropic API answered HTTP {code}: {short}")
            }
        }
    };
    let request_id = headers
        .request_id
        .or_else(|| parsed.as_ref().and_then(|b| b.request_id.as_deref()));
    if let Some(id) = request_id {
        details.insert("requestId".into(), json!(id));
    }
    if let Some(d) = headers.retry_after.and_then(parse_retry_after) {
        details.insert("retryAfterMs".into(), json!(millis(d)));
    }
    finish(status, &message, details, key)
}

/// The error for an `error` event inside a stream: its type decides (unknown types
/// are UNAVAILABLE: the stream broke off).
pub fn from_stream_error(error: &ApiError, key: &str) -> Error {
    let status = status_for_type(&error.kind).unwrap_or(Status::Unavailable);
    let mut details = Map::new();
    details.insert("type".into(), json!(error.kind));
    let message = if error.message.is_empty() {
        format!("the Anthropic stream failed ({})", error.kind)
    } else {
        error.message.clone()
    };
    finish(status, &message, details, key)
}

/// The details hold the status, type and ids the server sent, never the request;
/// the message is redacted.
fn finish(status: Status, message: &str, details: Map<String, Value>, key: &str) -> Error {
    Error::new(status, redact(message, key)).with_details(Value::Object(details))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// DEADLINE_EXCEEDED after `timeout`.
pub fn timeout(what: &str, timeout: Duration) -> Error {
    Error::new(
        Status::DeadlineExceeded,
        format!(
            "{what}: no answer from the Anthropic API within {} ms",
            timeout.as_millis()
        ),
    )
}

/// INTERNAL: the server sent something that is not the JSON it should have.
pub fn malformed(what: &str, err: &dyn std::fmt::Display, key: &str) -> Error {
    Error::new(
        Status::Internal,
        redact(
            &format!("{what}: malformed answer from the Anthropic API: {err}"),
            key,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_bodies_and_statuses() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        let e = from_http(529, Headers::default(), body, "sk-ant-123456");
        assert_eq!(e.status(), Status::Unavailable);
        assert_eq!(e.message(), "Overloaded");
        let d = e.details().unwrap();
        assert_eq!(d["type"], json!("overloaded_error"));
        assert_eq!(d["requestId"], json!("req_1"));
        assert_eq!(d["httpStatus"], json!(529));
    }

    #[test]
    fn retry_after_becomes_the_retry_hint() {
        let h = Headers {
            retry_after: Some("7"),
            request_id: None,
        };
        let e = from_http(429, h, b"{}", "k");
        assert_eq!(e.status(), Status::ResourceExhausted);
        assert_eq!(e.details().unwrap()["retryAfterMs"], json!(7000));
    }

    #[test]
    fn statuses_map() {
        for (code, s) in [
            (400, Status::InvalidArgument),
            (401, Status::Unauthenticated),
            (403, Status::PermissionDenied),
            (404, Status::NotFound),
            (413, Status::InvalidArgument),
            (429, Status::ResourceExhausted),
            (500, Status::Internal),
            (529, Status::Unavailable),
        ] {
            assert_eq!(status_for_http(code), s, "{code}");
        }
    }

    #[test]
    fn the_key_never_leaves() {
        let body = br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-SECRET"}}"#;
        let e = from_http(401, Headers::default(), body, "sk-ant-SECRET");
        assert!(!e.to_string().contains("sk-ant-SECRET"));
        let e = from_stream_error(
            &ApiError {
                kind: "overloaded_error".into(),
                message: String::new(),
            },
            "k",
        );
        assert_eq!(e.status(), Status::Unavailable);
    }
}
