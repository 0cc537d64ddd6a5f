//! Gemini failures as Genkit errors: HTTP status and Google's error body → a
//! [`genkit_core::Error`] with the right [`Status`], Google's message, and details a
//! retry middleware can read (`retryAfterMs`).
//!
//! Nothing built here contains the API key: messages come from the server's body or
//! from this crate, and both pass through [`redact`] before they leave.

use std::time::Duration;

use genkit_core::{Error, Status};
use serde_json::{Map, Value, json};

use crate::wire::ErrorBody;

/// The Genkit status for an HTTP status of the Gemini API.
pub fn status_for_http(code: u16) -> Status {
    match code {
        400 => Status::InvalidArgument,
        401 => Status::Unauthenticated,
        403 => Status::PermissionDenied,
        404 => Status::NotFound,
        408 => Status::DeadlineExceeded,
        409 => Status::Aborted,
        412 => Status::FailedPrecondition,
        429 => Status::ResourceExhausted,
        499 => Status::Cancelled,
        500 => Status::Internal,
        501 => Status::Unimplemented,
        502 | 503 => Status::Unavailable,
        504 => Status::DeadlineExceeded,
        402 | 405..=407 | 410..=411 | 413..=428 | 430..=498 => Status::FailedPrecondition,
        _ => Status::Unknown,
    }
}

/// Builds the error for a non-2xx answer: the status named in Google's body when it
/// is a known google.rpc name (else the HTTP status), Google's message, and details
/// `{httpStatus, error?, retryAfterMs?}`.
pub fn from_http(code: u16, retry_after_header: Option<&str>, body: &[u8], key: &str) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let mut status = status_for_http(code);
    let mut details = Map::new();
    details.insert("httpStatus".into(), json!(code));
    let message = match &parsed {
        Some(b) => {
            if let Some(s) = Status::from_name(&b.error.status)
                && s != Status::Ok
            {
                status = s;
            }
            if let Ok(v) = serde_json::to_value(&b.error) {
                details.insert("error".into(), v);
            }
            if b.error.message.is_empty() {
                format!("Gemini API answered HTTP {code}")
            } else {
                b.error.message.clone()
            }
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                format!("Gemini API answered HTTP {code}")
            } else {
                let short: String = text.chars().take(500).collect();
                format!("Gemini API answered HTTP {code}: {short}")
            }
        }
    };
    let retry = retry_after_header.and_then(parse_retry_after).or_else(|| {
        parsed
            .as_ref()
            .and_then(|b| retry_info_delay(&b.error.details))
    });
    if let Some(d) = retry {
        details.insert(
            "retryAfterMs".into(),
            json!(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        );
    }
    Error::new(status, redact(&message, key))
        .with_details(redact_value(Value::Object(details), key))
}

/// Builds the error for an error object sent inside a stream (`data: {"error": …}`).
pub fn from_stream_error(error: &Value, key: &str) -> Error {
    let code = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let body = json!({ "error": error });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    from_http(code.unwrap_or(500), None, &bytes, key)
}

/// A `Retry-After` header value in seconds (`"7"`, `"1.5"`); HTTP dates are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The `retryDelay` of a `google.rpc.RetryInfo` detail (`"37s"`, `"0.5s"`).
pub fn retry_info_delay(details: &[Value]) -> Option<Duration> {
    details.iter().find_map(|d| {
        let ty = d.get("@type")?.as_str()?;
        if !ty.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        match d.get("retryDelay")? {
            Value::String(s) => parse_retry_after(s.strip_suffix('s')?),
            Value::Object(o) => {
                let secs = o
                    .get("seconds")
                    .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()));
                let nanos = o.get("nanos").and_then(Value::as_f64).unwrap_or(0.0);
                parse_retry_after(&(secs.unwrap_or(0.0) + nanos / 1e9).to_string())
            }
            _ => None,
        }
    })
}

/// An error for a transport failure (connect, reset, timeout, body).
pub fn from_transport(e: &reqwest::Error, what: &str, key: &str) -> Error {
    let status = if e.is_timeout() {
        Status::DeadlineExceeded
    } else if e.is_connect() || e.is_request() || e.is_body() || e.is_decode() {
        Status::Unavailable
    } else {
        Status::Internal
    };
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    Error::new(status, redact(&format!("{what}: {text}"), key))
}

/// DEADLINE_EXCEEDED after `timeout`.
pub fn timeout(what: &str, timeout: Duration) -> Error {
    Error::new(
        Status::DeadlineExceeded,
        format!(
            "{what}: no answer from the Gemini API within {} ms",
            timeout.as_millis()
        ),
    )
}

/// INTERNAL: the server sent something that is not the JSON it should have.
pub fn malformed(what: &str, err: &dyn std::fmt::Display, key: &str) -> Error {
    Error::new(
        Status::Internal,
        redact(
            &format!("{what}: malformed JSON from the Gemini API: {err}"),
            key,
        ),
    )
}

/// Replaces every occurrence of the API key by `***`.
pub fn redact(text: &str, key: &str) -> String {
    if key.len() < 4 || !text.contains(key) {
        return text.to_string();
    }
    text.replace(key, "***")
}

/// [`redact`] on every string of a JSON value.
pub fn redact_value(v: Value, key: &str) -> Value {
    match v {
        Value::String(s) => Value::String(redact(&s, key)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| redact_value(x, key)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, redact_value(x, key)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_body_status_and_message_win() {
        let body = br#"{"error":{"code":400,"message":"User location is not supported","status":"FAILED_PRECONDITION"}}"#;
        let e = from_http(400, None, body, "k-123456");
        assert_eq!(e.status(), Status::FailedPrecondition);
        assert_eq!(e.message(), "User location is not supported");
        assert_eq!(e.details().unwrap()["httpStatus"], json!(400));
    }

    #[test]
    fn retry_delay_from_rpc_detail_and_header() {
        let body = br#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}"#;
        let e = from_http(429, None, body, "key-abcdef");
        assert_eq!(e.details().unwrap()["retryAfterMs"], json!(37000));
        let e = from_http(429, Some("2"), b"nope", "key-abcdef");
        assert_eq!(e.details().unwrap()["retryAfterMs"], json!(2000));
        assert_eq!(e.status(), Status::ResourceExhausted);
        assert!(e.message().contains("nope"));
    }

    #[test]
    fn key_is_redacted_everywhere() {
        let body = br#"{"error":{"code":400,"message":"bad key SECRET-KEY-1","status":"INVALID_ARGUMENT","details":[{"x":"SECRET-KEY-1"}]}}"#;
        let e = from_http(400, None, body, "SECRET-KEY-1");
        assert!(!e.to_string().contains("SECRET-KEY-1"));
        assert!(!e.details().unwrap().to_string().contains("SECRET-KEY-1"));
    }

    #[test]
    fn http_statuses_map() {
        for (code, status) in [
            (400, Status::InvalidArgument),
            (401, Status::Unauthenticated),
            (403, Status::PermissionDenied),
            (404, Status::NotFound),
            (429, Status::ResourceExhausted),
            (500, Status::Internal),
            (503, Status::Unavailable),
            (504, Status::DeadlineExceeded),
        ] {
            assert_eq!(status_for_http(code), status, "{code}");
        }
    }
}
