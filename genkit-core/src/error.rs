//! The one error type of genkit-rs, carrying Genkit's status.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Genkit's status codes: the google.rpc names and numbers Genkit uses on every wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Status {
    /// 0
    Ok,
    /// 1
    Cancelled,
    /// 2
    Unknown,
    /// 3
    InvalidArgument,
    /// 4
    DeadlineExceeded,
    /// 5
    NotFound,
    /// 6
    AlreadyExists,
    /// 7
    PermissionDenied,
    /// 8
    ResourceExhausted,
    /// 9
    FailedPrecondition,
    /// 10
    Aborted,
    /// 11
    OutOfRange,
    /// 12
    Unimplemented,
    /// 13
    Internal,
    /// 14
    Unavailable,
    /// 15
    DataLoss,
    /// 16
    Unauthenticated,
}

impl Status {
    /// Every status, in numeric order.
    pub const ALL: [Status; 17] = [
        Status::Ok,
        Status::Cancelled,
        Status::Unknown,
        Status::InvalidArgument,
        Status::DeadlineExceeded,
        Status::NotFound,
        Status::AlreadyExists,
        Status::PermissionDenied,
        Status::ResourceExhausted,
        Status::FailedPrecondition,
        Status::Aborted,
        Status::OutOfRange,
        Status::Unimplemented,
        Status::Internal,
        Status::Unavailable,
        Status::DataLoss,
        Status::Unauthenticated,
    ];

    /// The google.rpc numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The status for a google.rpc numeric code.
    pub fn from_code(code: u16) -> Option<Status> {
        Status::ALL.get(usize::from(code)).copied()
    }

    /// The status name as Genkit writes it (`NOT_FOUND`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Cancelled => "CANCELLED",
            Status::Unknown => "UNKNOWN",
            Status::InvalidArgument => "INVALID_ARGUMENT",
            Status::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Status::NotFound => "NOT_FOUND",
            Status::AlreadyExists => "ALREADY_EXISTS",
            Status::PermissionDenied => "PERMISSION_DENIED",
            Status::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Status::FailedPrecondition => "FAILED_PRECONDITION",
            Status::Aborted => "ABORTED",
            Status::OutOfRange => "OUT_OF_RANGE",
            Status::Unimplemented => "UNIMPLEMENTED",
            Status::Internal => "INTERNAL",
            Status::Unavailable => "UNAVAILABLE",
            Status::DataLoss => "DATA_LOSS",
            Status::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// The status for a name as Genkit writes it.
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The HTTP status Genkit maps this status to.
    pub fn http_status(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::Cancelled => 499,
            Status::Unknown => 500,
            Status::InvalidArgument => 400,
            Status::DeadlineExceeded => 504,
            Status::NotFound => 404,
            Status::AlreadyExists => 409,
            Status::PermissionDenied => 403,
            Status::Unauthenticated => 401,
            Status::ResourceExhausted => 429,
            Status::FailedPrecondition => 400,
            Status::Aborted => 409,
            Status::OutOfRange => 400,
            Status::Unimplemented => 501,
            Status::Internal => 500,
            Status::Unavailable => 503,
            Status::DataLoss => 500,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The source of an error, shared so that [`Error`] stays `Clone`.
pub type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every genkit-rs operation: a Genkit [`Status`], a message, optional
/// JSON details and the underlying source.
///
/// `Display` reads as Genkit's own error message, `"<STATUS>: <message>"`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A failure with a Genkit status.
    #[error("{status}: {message}")]
    Genkit {
        /// Genkit status.
        status: Status,
        /// Human-readable message, without the status prefix.
        message: String,
        /// Structured details (Genkit's `details`).
        details: Option<Value>,
        /// The underlying error, if any.
        #[source]
        source: Option<Source>,
    },
    /// A tool asked to interrupt the generation instead of answering (see
    /// [`ToolContext::interrupt`](crate::ToolContext::interrupt)). `generate` turns it into
    /// a response with finish reason `interrupted`; it only escapes when a tool is called
    /// outside a generate loop.
    #[error("ABORTED: tool interrupted")]
    Interrupt {
        /// The metadata the tool attached (`true` when it gave none).
        metadata: Value,
    },
}

/// `Result<T, genkit::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a status and message.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Error::Genkit {
            status,
            message: message.into(),
            details: None,
            source: None,
        }
    }

    /// Adds structured details.
    pub fn with_details(mut self, value: Value) -> Self {
        if let Error::Genkit { details, .. } = &mut self {
            *details = Some(value);
        }
        self
    }

    /// Adds the underlying error.
    pub fn with_source(mut self, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        if let Error::Genkit { source, .. } = &mut self {
            *source = Some(Arc::new(err));
        }
        self
    }

    /// INVALID_ARGUMENT.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(Status::InvalidArgument, message)
    }

    /// NOT_FOUND.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Status::NotFound, message)
    }

    /// FAILED_PRECONDITION.
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(Status::FailedPrecondition, message)
    }

    /// INTERNAL.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Status::Internal, message)
    }

    /// UNAVAILABLE.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Status::Unavailable, message)
    }

    /// The Genkit status.
    pub fn status(&self) -> Status {
        match self {
            Error::Genkit { status, .. } => *status,
            Error::Interrupt { .. } => Status::Aborted,
        }
    }

    /// The message without the status prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::Genkit { message, .. } => message,
            Error::Interrupt { .. } => "tool interrupted",
        }
    }

    /// The structured details, if any.
    pub fn details(&self) -> Option<&Value> {
        match self {
            Error::Genkit { details, .. } => details.as_ref(),
            Error::Interrupt { metadata } => Some(metadata),
        }
    }

    /// Genkit's callable-protocol error JSON: `{"status", "message", "details"?}`.
    pub fn to_callable_json(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("status".into(), Value::from(self.status().name()));
        obj.insert("message".into(), Value::from(self.message()));
        if let Some(d) = self.details() {
            obj.insert("details".into(), d.clone());
        }
        Value::Object(obj)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::invalid_argument(e.to_string()).with_source(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let status = match e.kind() {
            std::io::ErrorKind::NotFound => Status::NotFound,
            std::io::ErrorKind::PermissionDenied => Status::PermissionDenied,
            std::io::ErrorKind::TimedOut => Status::DeadlineExceeded,
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                Status::InvalidArgument
            }
            std::io::ErrorKind::AlreadyExists => Status::AlreadyExists,
            _ => Status::Internal,
        };
        Error::new(status, e.to_string()).with_source(e)
    }
}

impl From<String> for Error {
    /// A plain message becomes an INTERNAL error, as a plain JS `Error` does in Genkit.
    fn from(message: String) -> Self {
        Error::internal(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::internal(message)
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for Error {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Error::Genkit {
            status: Status::Internal,
            message: e.to_string(),
            details: None,
            source: Some(Arc::from(e)),
        }
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}
