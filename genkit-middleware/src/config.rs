//! Shared pieces of the JSON configs: status lists, parsing with Genkit errors.

use genkit_core::{Error, Result, Status};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The statuses Genkit retries by default.
pub const RETRY_STATUSES: [Status; 5] = [
    Status::Unavailable,
    Status::DeadlineExceeded,
    Status::ResourceExhausted,
    Status::Aborted,
    Status::Internal,
];

/// The statuses Genkit falls back on by default: [`RETRY_STATUSES`] plus `NOT_FOUND`
/// and `UNIMPLEMENTED`.
pub const FALLBACK_STATUSES: [Status; 7] = [
    Status::Unavailable,
    Status::DeadlineExceeded,
    Status::ResourceExhausted,
    Status::Aborted,
    Status::Internal,
    Status::NotFound,
    Status::Unimplemented,
];

/// Parses a middleware's JSON config (`None` = all defaults); a bad config is
/// INVALID_ARGUMENT naming the middleware and the field.
pub(crate) fn parse<T: DeserializeOwned + Default>(
    middleware: &str,
    config: Option<Value>,
) -> Result<T> {
    match config {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v).map_err(|e| {
            Error::invalid_argument(format!("invalid config for middleware '{middleware}': {e}"))
        }),
    }
}

/// Status names (`"UNAVAILABLE"`) to statuses; an unknown name is INVALID_ARGUMENT.
pub(crate) fn statuses(middleware: &str, names: &[String]) -> Result<Vec<Status>> {
    names
        .iter()
        .map(|n| {
            Status::from_name(n).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "invalid config for middleware '{middleware}': unknown status '{n}'"
                ))
            })
        })
        .collect()
}

/// The JSON schema of a config type, for the registered middleware's `configSchema`.
pub(crate) fn schema<T: schemars::JsonSchema + 'static>() -> Value {
    (*genkit_core::schema::schema_of::<T>()).clone()
}
