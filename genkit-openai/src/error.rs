//! OpenAI failures as Genkit errors: the HTTP status and OpenAI's error body
//! (`{"error": {message, type, param, code}}`) → a [`genkit_core::Error`] with the right
//! [`Status`], the server's message, and details a retry middleware reads
//! (`retryAfterMs`, from `retry-after-ms`, `retry-after`, or "try again in 1.5s" in the
//! message).
//!
//! Nothing built here contains the API key: every message passes through [`redact`].

use std::time::Duration;

use genkit_core::{Error, Status};
pub use genkit_googleai::error::{from_transport, parse_retry_after, redact, status_for_http};
use serde_json::{Map, Value, json};

use crate::wire::ErrorBody;

/// The retry hints of an error answer's headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryHeaders<'a> {
    /// `retry-after-ms`.
    pub retry_after_ms: Option<&'a str>,
    /// `retry-after` (seconds).
    pub retry_after: Option<&'a str>,
}

/// Builds the error of a non-2xx answer from `provider` (`OpenAI`, `Ollama`, …): the
/// server's message, details `{httpStatus, error?, retryAfterMs?}`.
pub fn from_http(
    provider: &str,
    code: u16,
    retry: RetryHeaders<'_>,
    body: &[u8],
    key: &str,
) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let status = status_for_http(code);
    let mut details = Map::new();
    details.insert("httpStatus".into(), json!(code));
    let message = match &parsed {
        Some(b) => {
            if let Ok(v) = serde_json::to_value(&b.error) {
                details.insert("error".into(), v);
            }
            if b.error.message.is_empty() {
                format!("{provider} API answered HTTP {code}")
            } else {
                b.error.message.clone()
            }
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                format!("{provider} API answered HTTP {code}")
            } else {
                let short: String = text.chars().take(500).collect();
                format!("{provider} API answered HTTP {code}: {short}")
            }
        }
    };
    let delay = retry
        .retry_after_ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0))
        .or_else(|| retry.retry_after.and_then(parse_retry_after))
        .or_else(|| retry_hint_in(&message));
    if let Some(d) = delay {
        details.insert(
            "retryAfterMs".into(),
            json!(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        );
    }
    Error::new(status, redact(&message, key))
        .with_details(redact_value(Value::Object(details), key))
}

/// Builds the error of an error object sent inside a stream (`data: {"error": …}`).
pub fn from_stream_error(provider: &str, error: &Value, key: &str) -> Error {
    let code = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(500);
    let bytes = serde_json::to_vec(&json!({ "error": error })).unwrap_or_default();
    from_http(provider, code, RetryHeaders::default(), &bytes, key)
}

/// The delay of "Please try again in 1.5s" / "in 250ms" / "in 1m20s" in a message.
pub fn retry_hint_in(message: &str) -> Option<Duration> {
    let rest = &message[message.find("try again in ")? + "try again in ".len()..];
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let token = token.trim_end_matches('.');
    let mut total = 0f64;
    let mut number = String::new();
    let mut chars = token.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        total += match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                n / 1000.0
            }
            'm' => n * 60.0,
            's' => n,
            'h' => n * 3600.0,
            _ => return None,
        };
        any = true;
    }
    (any && number.is_empty() && total.is_finite())
        .then(|| Duration::from_secs_f64(total.min(86_400.0)))
}

/// DEADLINE_EXCEEDED after `timeout`.
pub fn timeout(provider: &str, what: &str, timeout: Duration) -> Error {
    Error::new(
        Status::DeadlineExceeded,
        format!(
            "{what}: no answer from the {provider} API within {} ms",
            timeout.as_millis()
        ),
    )
}

/// INTERNAL: the server sent something that is not the JSON it should have.
pub fn malformed(provider: &str, what: &str, err: &dyn std::fmt::Display, key: &str) -> Error {
    Error::new(
        Status::Internal,
        redact(
            &format!("{what}: malformed JSON from the {provider} API: {err}"),
            key,
        ),
    )
}

fn redact_value(v: Value, key: &str) -> Value {
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
    fn openai_bodies_map_to_statuses() {
        let body = br#"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        let e = from_http("OpenAI", 404, RetryHeaders::default(), body, "sk-xyz1");
        assert_eq!(e.status(), Status::NotFound);
        assert!(e.message().starts_with("The model `gpt-9` does not exist"));
        assert_eq!(
            e.details().unwrap()["error"]["code"],
            json!("model_not_found")
        );
        let e = from_http("OpenAI", 401, RetryHeaders::default(), br#"{"error":{"message":"Incorrect API key provided: sk-xyz1.","type":"invalid_request_error","code":"invalid_api_key"}}"#, "sk-xyz1");
        assert_eq!(e.status(), Status::Unauthenticated);
        assert!(!e.to_string().contains("sk-xyz1"));
        assert!(!e.details().unwrap().to_string().contains("sk-xyz1"));
        let e = from_http("OpenAI", 503, RetryHeaders::default(), b"", "k");
        assert_eq!(e.status(), Status::Unavailable);
        assert_eq!(e.message(), "OpenAI API answered HTTP 503");
    }

    #[test]
    fn retry_hints_from_headers_and_message() {
        let h = RetryHeaders {
            retry_after_ms: Some("1500"),
            retry_after: Some("9"),
        };
        let e = from_http("OpenAI", 429, h, b"{}", "k");
        assert_eq!(e.status(), Status::ResourceExhausted);
        assert_eq!(e.details().unwrap()["retryAfterMs"], json!(1500));
        let h = RetryHeaders {
            retry_after_ms: None,
            retry_after: Some("2"),
        };
        assert_eq!(
            from_http("OpenAI", 429, h, b"{}", "k").details().unwrap()["retryAfterMs"],
            json!(2000)
        );
        let body = br#"{"error":{"message":"Rate limit reached for gpt-4o. Please try again in 1.5s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","code":"rate_limit_exceeded"}}"#;
        let e = from_http("OpenAI", 429, RetryHeaders::default(), body, "k");
        assert_eq!(e.details().unwrap()["retryAfterMs"], json!(1500));
        assert_eq!(
            retry_hint_in("try again in 250ms."),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_hint_in("try again in 1m20s."),
            Some(Duration::from_secs(80))
        );
        assert_eq!(retry_hint_in("try again in a bit"), None);
        assert_eq!(retry_hint_in("nothing"), None);
    }
}
