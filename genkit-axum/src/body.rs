//! Reading the request: the body under its size and time limits, the JSON depth check,
//! and the `{"data": …, "init"?: …}` envelope.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use genkit_core::{Error, Status};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use crate::error::error_response_with;
use crate::options::ServeOptions;

/// Reads the whole body, or answers 413 (too big), 408 (too slow) or 400 (broken).
pub(crate) async fn read_body(body: Body, opts: &ServeOptions) -> Result<Bytes, Response> {
    let limited = Limited::new(body, opts.body_limit);
    match tokio::time::timeout(opts.read_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(error_response_with(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Error::new(
                Status::InvalidArgument,
                format!("request body is larger than {} bytes", opts.body_limit),
            ),
        )),
        Ok(Err(_)) => Err(error_response_with(
            StatusCode::BAD_REQUEST,
            &Error::invalid_argument("could not read the request body"),
        )),
        Err(_) => Err(error_response_with(
            StatusCode::REQUEST_TIMEOUT,
            &Error::new(
                Status::DeadlineExceeded,
                format!(
                    "the request body did not arrive within {} ms",
                    opts.read_timeout.as_millis()
                ),
            ),
        )),
    }
}

/// The deepest nesting of arrays and objects in `json` (strings skipped), stopping as
/// soon as it passes `max`. Runs over the bytes once, before parsing, so a hostile body
/// never reaches the parser's recursion.
pub(crate) fn exceeds_depth(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// 415 for a body that is not declared JSON.
pub(crate) fn unsupported_media_type() -> Response {
    error_response_with(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &Error::invalid_argument(
            "the request body must be JSON, sent with Content-Type: application/json",
        ),
    )
}

fn bad_request(message: impl Into<String>) -> Response {
    error_response_with(StatusCode::BAD_REQUEST, &Error::invalid_argument(message))
}

/// Parses the body as a JSON object (the envelope), within the depth limit.
pub(crate) fn parse_envelope(
    bytes: &[u8],
    opts: &ServeOptions,
) -> Result<Map<String, Value>, Response> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(
            "Provide request body as a JSON object with a 'data' field: {\"data\": <input>}",
        ));
    }
    // The envelope itself is one level.
    if exceeds_depth(bytes, opts.max_depth.saturating_add(1)) {
        return Err(bad_request(format!(
            "request JSON is nested deeper than {} levels",
            opts.max_depth
        )));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request(
            "the request body must be a JSON object: {\"data\": <input>}",
        )),
        Err(e) => Err(bad_request(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::exceeds_depth;

    #[test]
    fn depth_counts_nesting_and_skips_strings() {
        assert!(!exceeds_depth(br#"{"data":{"a":[1,2]}}"#, 3));
        assert!(exceeds_depth(br#"{"data":{"a":[[1]]}}"#, 3));
        assert!(!exceeds_depth(br#"{"data":"[[[[[[\"]]]]"}"#, 1));
        assert!(exceeds_depth(&[b'['; 1000], 64));
    }
}
