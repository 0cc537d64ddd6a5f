//! Durable session stores for genkit-rs agents: [`SqliteSessionStore`] (embedded,
//! the default for a persisted agent) and [`PostgresSessionStore`] (many app instances
//! sharing sessions).
//!
//! ```no_run
//! use genkit_store::SqliteSessionStore;
//! # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
//! let agent = ai
//!     .define_agent("myAgent")
//!     .system("You are a helpful assistant.")
//!     .store(SqliteSessionStore::open("sessions.db")?)
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! Both keep one row per snapshot in `genkit_snapshots` (id, session, parent,
//! status, creation time, format version and the snapshot's JSON). Every write is one
//! transaction that also runs the version check of a new turn, so when two processes
//! continue the same session at once, one wins and the other gets ABORTED
//! (reason `SESSION_CONFLICT`) instead of silently overwriting it. A row that is not
//! valid JSON is a DATA_LOSS error naming the row; a row written by a newer format
//! version is FAILED_PRECONDITION. The PostgreSQL store draws its connections from a
//! `deadpool-postgres` pool that replaces dead ones, so it recovers by itself when the
//! server restarts.

#![warn(missing_docs)]

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresSessionStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteSessionStore;

use genkit_core::agent::SessionSnapshot;
use genkit_core::{Error, Result, Status};

/// The format version of the rows this crate writes and reads.
pub const FORMAT_VERSION: i64 = 1;

/// Decodes a stored row.
pub(crate) fn decode(id: &str, version: i64, body: &str) -> Result<SessionSnapshot> {
    if version != FORMAT_VERSION {
        return Err(Error::new(
            Status::FailedPrecondition,
            format!(
                "snapshot '{id}' was stored in format version {version}; this genkit-store reads version {FORMAT_VERSION}: upgrade genkit-store to read it"
            ),
        )
        .with_details(serde_json::json!({"reason": "UNKNOWN_FORMAT_VERSION", "snapshotId": id, "formatVersion": version})));
    }
    genkit_core::types::from_str::<SessionSnapshot>(body).map_err(|e| {
        Error::new(
            Status::DataLoss,
            format!("stored snapshot '{id}' is corrupt: {}", e.message()),
        )
        .with_details(serde_json::json!({"reason": "CORRUPT_SNAPSHOT", "snapshotId": id}))
    })
}

/// A database error as a Genkit error.
pub(crate) fn db_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(Status::Unavailable, format!("{what}: {e}")).with_source(e)
}
