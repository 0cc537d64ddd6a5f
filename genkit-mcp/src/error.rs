//! What can go wrong talking MCP, each with its Genkit status.
//!
//! Every public function returns [`genkit_core::Error`]; the [`McpError`] it was made
//! from is its `source`, so `err.source().and_then(|s| s.downcast_ref::<McpError>())`
//! gives the typed cause.

use std::time::Duration;

use genkit_core::{Error, Status};
use rmcp::ServiceError;
use rmcp::model::{ErrorCode, ErrorData};
use rmcp::service::ClientInitializeError;

/// An MCP failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// No server of that name was configured. NOT_FOUND.
    #[error("no MCP server named '{0}'")]
    UnknownServer(String),
    /// A configuration that cannot work (empty command, bad URL or header). INVALID_ARGUMENT.
    #[error("MCP server '{server}': {message}")]
    Config {
        /// The server's name.
        server: String,
        /// What is wrong.
        message: String,
    },
    /// The server could not be started or did not complete `initialize`. UNAVAILABLE.
    #[error("MCP server '{server}': could not connect: {message}")]
    Connect {
        /// The server's name.
        server: String,
        /// Why.
        message: String,
    },
    /// The connection ended (a stdio server exited, an HTTP session ended); the next
    /// call reconnects. UNAVAILABLE.
    #[error("MCP server '{server}' closed the connection{}", .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Closed {
        /// The server's name.
        server: String,
        /// What is known of why.
        detail: Option<String>,
    },
    /// [`McpHost::close`](crate::McpHost::close) was called. FAILED_PRECONDITION.
    #[error("MCP server '{0}' was shut down")]
    ShutDown(String),
    /// The server answered with a JSON-RPC error; the status follows its code.
    #[error("MCP server '{server}': {message} (JSON-RPC error {code})")]
    Rpc {
        /// The server's name.
        server: String,
        /// The JSON-RPC error code.
        code: i32,
        /// Its message.
        message: String,
    },
    /// No answer in time. DEADLINE_EXCEEDED.
    #[error("MCP server '{server}' did not answer within {timeout:?}")]
    Timeout {
        /// The server's name.
        server: String,
        /// The limit.
        timeout: Duration,
    },
    /// The request was cancelled. CANCELLED.
    #[error("MCP request to '{0}' was cancelled")]
    Cancelled(String),
    /// The server sent something this client cannot use. INTERNAL.
    #[error("MCP server '{server}': {message}")]
    Protocol {
        /// The server's name.
        server: String,
        /// What was wrong.
        message: String,
    },
}

impl McpError {
    /// The Genkit status of this failure.
    pub fn status(&self) -> Status {
        match self {
            McpError::UnknownServer(_) => Status::NotFound,
            McpError::Config { .. } => Status::InvalidArgument,
            McpError::Connect { .. } | McpError::Closed { .. } => Status::Unavailable,
            McpError::ShutDown(_) => Status::FailedPrecondition,
            McpError::Rpc { code, .. } => status_of_code(ErrorCode(*code)),
            McpError::Timeout { .. } => Status::DeadlineExceeded,
            McpError::Cancelled(_) => Status::Cancelled,
            McpError::Protocol { .. } => Status::Internal,
        }
    }

    /// The error of a request to `server` that failed.
    pub(crate) fn from_service(server: &str, e: ServiceError) -> Self {
        let server = server.to_string();
        match e {
            ServiceError::McpError(data) => McpError::Rpc {
                server,
                code: data.code.0,
                message: data.message.into_owned(),
            },
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => McpError::Closed {
                server,
                detail: Some(e.to_string()),
            },
            ServiceError::Timeout { timeout } => McpError::Timeout { server, timeout },
            ServiceError::Cancelled { .. } => McpError::Cancelled(server),
            other => McpError::Protocol {
                server,
                message: other.to_string(),
            },
        }
    }

    /// The error of a connection that could not be made.
    pub(crate) fn from_init(server: &str, e: ClientInitializeError) -> Self {
        match e {
            ClientInitializeError::JsonRpcError(data) => McpError::Rpc {
                server: server.to_string(),
                code: data.code.0,
                message: data.message.into_owned(),
            },
            ClientInitializeError::Cancelled => McpError::Cancelled(server.to_string()),
            other => McpError::Connect {
                server: server.to_string(),
                message: other.to_string(),
            },
        }
    }
}

impl From<McpError> for Error {
    fn from(e: McpError) -> Self {
        Error::new(e.status(), e.to_string()).with_source(e)
    }
}

/// The Genkit status of a JSON-RPC error code.
fn status_of_code(code: ErrorCode) -> Status {
    match code {
        ErrorCode::INVALID_PARAMS | ErrorCode::INVALID_REQUEST | ErrorCode::PARSE_ERROR => {
            Status::InvalidArgument
        }
        ErrorCode::METHOD_NOT_FOUND => Status::Unimplemented,
        ErrorCode::RESOURCE_NOT_FOUND => Status::NotFound,
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::HEADER_MISMATCH => Status::FailedPrecondition,
        _ => Status::Internal,
    }
}

/// The JSON-RPC error our server answers for a Genkit error that is not the tool's
/// own failure (those are `isError` results): the status is kept in `data`.
pub(crate) fn to_error_data(e: &Error) -> ErrorData {
    let code = match e.status() {
        Status::InvalidArgument => ErrorCode::INVALID_PARAMS,
        Status::NotFound => ErrorCode::METHOD_NOT_FOUND,
        _ => ErrorCode::INTERNAL_ERROR,
    };
    ErrorData::new(code, e.message().to_string(), Some(e.to_callable_json()))
}
