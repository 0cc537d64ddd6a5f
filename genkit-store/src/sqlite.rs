//! `SqliteSessionStore`: snapshots in an SQLite file (bundled SQLite).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use genkit_core::agent::{
    HeadCheck, SessionSnapshot, SessionStore, SnapshotUpdate, check_snapshot_id, check_update,
    select_leaf,
};
use genkit_core::{Error, Result, Status};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{FORMAT_VERSION, decode};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS genkit_snapshots (
    snapshot_id    TEXT PRIMARY KEY,
    session_id     TEXT,
    parent_id      TEXT,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    format_version INTEGER NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS genkit_snapshots_session ON genkit_snapshots (session_id, parent_id);
";

fn sql(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        )
    {
        return Error::new(Status::Aborted, format!("sqlite: {e}")).with_source(e);
    }
    crate::db_error("sqlite", e)
}

/// Snapshots in an SQLite database: embedded and durable, shared safely by several
/// processes on one machine (writes are `BEGIN IMMEDIATE` transactions).
#[derive(Clone)]
pub struct SqliteSessionStore {
    conn: Arc<Mutex<Connection>>,
    reject_ambiguous: bool,
}

impl std::fmt::Debug for SqliteSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSessionStore").finish_non_exhaustive()
    }
}

type Row = (String, i64, String);

impl SqliteSessionStore {
    /// Opens (or creates) the database at `path` and its table.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path.as_ref()).map_err(sql)?;
        Self::with_connection(conn)
    }

    /// A private in-memory database (for tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory().map_err(sql)?)
    }

    fn with_connection(conn: Connection) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        Ok(SqliteSessionStore {
            conn: Arc::new(Mutex::new(conn)),
            reject_ambiguous: false,
        })
    }

    /// Refuse to pick among several leaves of a session.
    pub fn reject_ambiguous(mut self, yes: bool) -> Self {
        self.reject_ambiguous = yes;
        self
    }

    /// Runs `f` on the connection, off the async workers when the runtime allows it.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let run = || {
            let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }

    fn rows(conn: &Connection, query: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>> {
        let mut stmt = conn.prepare_cached(query).map_err(sql)?;
        let rows = stmt
            .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(sql)?;
        rows.collect::<std::result::Result<Vec<Row>, _>>()
            .map_err(sql)
    }

    fn decode_all(rows: Vec<Row>) -> Result<Vec<SessionSnapshot>> {
        rows.into_iter()
            .map(|(id, v, body)| decode(&id, v, &body))
            .collect()
    }

    /// Overwrites a row's raw columns (for tests of corrupt or future rows).
    #[doc(hidden)]
    pub fn write_raw(
        &self,
        snapshot_id: &str,
        session_id: &str,
        version: i64,
        body: &str,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO genkit_snapshots (snapshot_id, session_id, parent_id, status, created_at, format_version, body) VALUES (?1, ?2, NULL, 'completed', '2026-01-01T00:00:00.000Z', ?3, ?4)",
                params![snapshot_id, session_id, version, body],
            )
            .map_err(sql)?;
            Ok(())
        })
    }
}

impl SessionStore for SqliteSessionStore {
    fn get_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        let r = self.with(|c| {
            let row: Option<Row> = c
                .prepare_cached(
                    "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE snapshot_id = ?1",
                )
                .map_err(sql)?
                .query_row([snapshot_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(sql)?;
            row.map(|(id, v, body)| decode(&id, v, &body)).transpose()
        });
        Box::pin(async move { r })
    }

    fn list_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSnapshot>>> {
        let r = self.with(|c| {
            Self::decode_all(Self::rows(
                c,
                "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE session_id = ?1",
                &[&session_id],
            )?)
        });
        Box::pin(async move { r })
    }

    fn session_leaf<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        let r = self.with(|c| {
            let leaves = Self::decode_all(Self::rows(
                c,
                "SELECT s.snapshot_id, s.format_version, s.body FROM genkit_snapshots s
                 WHERE s.session_id = ?1 AND NOT EXISTS (
                   SELECT 1 FROM genkit_snapshots c WHERE c.session_id = ?1 AND c.parent_id = s.snapshot_id)",
                &[&session_id],
            )?)?;
            if leaves.is_empty() {
                let any: Option<i64> = c
                    .query_row(
                        "SELECT 1 FROM genkit_snapshots WHERE session_id = ?1 LIMIT 1",
                        [session_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                if any.is_some() {
                    return Err(Error::failed_precondition(format!(
                        "Session '{session_id}' has no leaf snapshot (corrupt or cyclic history). Resume by snapshotId instead."
                    )));
                }
            }
            select_leaf(leaves, session_id, self.reject_ambiguous)
        });
        Box::pin(async move { r })
    }

    fn save_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
        head: Option<&'a HeadCheck>,
        update: SnapshotUpdate<'a>,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        let r = (|| {
            check_snapshot_id(snapshot_id)?;
            self.with(|c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let existing: Option<Row> = tx
                    .query_row(
                        "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE snapshot_id = ?1",
                        [snapshot_id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                let existing = existing
                    .map(|(id, v, body)| decode(&id, v, &body))
                    .transpose()?;
                if existing.is_none()
                    && let Some(h) = head
                {
                    let siblings = match &h.parent_id {
                        Some(p) => Self::rows(
                            &tx,
                            "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE session_id = ?1 AND parent_id = ?2 AND snapshot_id <> ?3",
                            &[&h.session_id, p, &snapshot_id],
                        )?,
                        None => Self::rows(
                            &tx,
                            "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE session_id = ?1 AND parent_id IS NULL AND snapshot_id <> ?2",
                            &[&h.session_id, &snapshot_id],
                        )?,
                    };
                    for s in Self::decode_all(siblings)? {
                        if h.conflicts_with(&s, snapshot_id) {
                            return Err(h.conflict(&s.snapshot_id));
                        }
                    }
                }
                let Some(new) = check_update(snapshot_id, existing.as_ref(), update)? else {
                    return Ok(None);
                };
                let body = serde_json::to_string(&new)?;
                tx.execute(
                    "INSERT INTO genkit_snapshots (snapshot_id, session_id, parent_id, status, created_at, format_version, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (snapshot_id) DO UPDATE SET session_id = excluded.session_id, parent_id = excluded.parent_id,
                       status = excluded.status, created_at = excluded.created_at, format_version = excluded.format_version, body = excluded.body",
                    params![
                        snapshot_id,
                        new.session(),
                        new.parent(),
                        new.status().as_str(),
                        new.created_at,
                        FORMAT_VERSION,
                        body
                    ],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
                Ok(Some(new))
            })
        })();
        Box::pin(async move { r })
    }

    fn reject_ambiguous_session(&self) -> bool {
        self.reject_ambiguous
    }
}
