//! Errors at the edge: Genkit's callable error JSON with the HTTP-mapped status, with
//! the details of internal failures kept out of responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use genkit_core::{Error, Status};
use serde_json::Value;

/// True for errors whose message must not reach a client: the statuses Genkit maps to
/// 500 (INTERNAL, UNKNOWN, DATA_LOSS), which is what plain Rust errors (`String`,
/// `Box<dyn Error>`, most I/O errors) become.
pub(crate) fn is_internal(e: &Error) -> bool {
    e.status().http_status() == 500
}

/// The callable error JSON a client sees: `{"status", "message", "details"?}`; for
/// internal failures `{"status": "INTERNAL", "message": "Internal Error"}` (the real
/// error is logged with `tracing`).
pub fn public_error_json(e: &Error) -> Value {
    if is_internal(e) {
        tracing::error!(error = %e, "genkit-axum: internal error (hidden from the client)");
        serde_json::json!({"status": Status::Internal.name(), "message": "Internal Error"})
    } else {
        e.to_callable_json()
    }
}

/// The HTTP status of an error, as Genkit maps its status.
pub fn http_status(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.status().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A response: the mapped HTTP status and the callable error JSON.
pub fn error_response(e: &Error) -> Response {
    error_response_with(http_status(e), e)
}

/// A response with an explicit HTTP status (413, 408) and the callable error JSON.
pub(crate) fn error_response_with(code: StatusCode, e: &Error) -> Response {
    json_response(code, &public_error_json(e))
}

pub(crate) fn json_response(code: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (code, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}
