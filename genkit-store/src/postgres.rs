//! `PostgresSessionStore`: snapshots in PostgreSQL, shared by many app instances.

use std::time::Duration;

use deadpool_postgres::{
    ClientWrapper, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures::future::BoxFuture;
use genkit_core::agent::{
    HeadCheck, SessionSnapshot, SessionStore, SnapshotUpdate, check_snapshot_id, check_update,
    select_leaf,
};
use genkit_core::{Error, Result, Status};
use tokio_postgres::NoTls;

use crate::{FORMAT_VERSION, decode};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS genkit_snapshots (
    snapshot_id    TEXT PRIMARY KEY,
    session_id     TEXT,
    parent_id      TEXT,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    format_version BIGINT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS genkit_snapshots_session ON genkit_snapshots (session_id, parent_id);
";

/// Connections kept open by default.
const POOL_SIZE: usize = 16;
/// How long an operation waits for a free connection.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Awaits the future `$op` with `$c` bound to a pooled connection
/// (`&mut ClientWrapper`); once more on a fresh connection when the first died under
/// it (the server restarted or the network dropped it). A macro, not a function
/// taking a closure: the borrowing future must stay `Send` for every lifetime.
macro_rules! with_client {
    ($store:expr, |$c:ident| $op:expr) => {{
        let mut retried = false;
        loop {
            let mut conn = $store.pool.get().await.map_err(pool_error)?;
            let result = {
                let $c: &mut ClientWrapper = &mut conn;
                $op.await
            };
            match result {
                Err(e) if !retried && conn.is_closed() => {
                    tracing::debug!(target: "genkit_store", "postgres connection lost, retrying on a new one: {e}");
                    retried = true;
                }
                r => break r,
            }
        }
    }};
}

fn pool_error(e: PoolError) -> Error {
    match e {
        PoolError::Backend(e) => pg(e),
        other => Error::new(Status::Unavailable, format!("postgres pool: {other}")),
    }
}

fn pg(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // serialization_failure, deadlock_detected
        if code == "40001" || code == "40P01" {
            return Error::new(Status::Aborted, format!("postgres: {e}")).with_source(e);
        }
    }
    crate::db_error("postgres", e)
}

/// Snapshots in a PostgreSQL database. Writes to one session are serialized with a
/// transaction-scoped advisory lock on the session, so the version check of a new
/// turn holds across every app instance.
///
/// Connections come from a pool (`deadpool-postgres`) that replaces dead ones: when
/// the server restarts, operations fail UNAVAILABLE while it is down and succeed
/// again once it is back, without restarting the app. An operation whose connection
/// dies under it is run once more on a fresh connection (store updates may be
/// retried).
pub struct PostgresSessionStore {
    pool: Pool,
    reject_ambiguous: bool,
}

impl std::fmt::Debug for PostgresSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSessionStore")
            .finish_non_exhaustive()
    }
}

type Row = (String, i64, String);

fn row(r: &tokio_postgres::Row) -> Row {
    (r.get(0), r.get(1), r.get(2))
}

impl PostgresSessionStore {
    /// Connects (`host=127.0.0.1 port=5432 user=postgres dbname=app`, or a
    /// `postgresql://` URL) and creates the table if missing. Keeps a pool of up to
    /// 16 connections ([`max_connections`](Self::max_connections)), each driven by a
    /// background task; opening one may take 5 s and waiting for a free one 10 s
    /// (then UNAVAILABLE).
    pub async fn connect(config: &str) -> Result<Self> {
        let config: tokio_postgres::Config = config.parse().map_err(|e| {
            Error::invalid_argument(format!("invalid PostgreSQL connection settings: {e}"))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| Error::internal(format!("postgres pool: {e}")))?;
        let store = PostgresSessionStore {
            pool,
            reject_ambiguous: false,
        };
        with_client!(store, |c| async {
            c.batch_execute(SCHEMA).await.map_err(pg)
        })?;
        Ok(store)
    }

    /// Keeps at most `n` connections open (default 16).
    pub fn max_connections(self, n: usize) -> Self {
        self.pool.resize(n.max(1));
        self
    }

    /// Refuse to pick among several leaves of a session.
    pub fn reject_ambiguous(mut self, yes: bool) -> Self {
        self.reject_ambiguous = yes;
        self
    }

    async fn rows(
        &self,
        query: &str,
        args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<SessionSnapshot>> {
        let rows = with_client!(self, |c| async { c.query(query, args).await.map_err(pg) })?;
        rows.iter()
            .map(row)
            .map(|(id, v, body)| decode(&id, v, &body))
            .collect()
    }

    /// Overwrites a row's raw columns (for tests of corrupt or future rows).
    #[doc(hidden)]
    pub async fn write_raw(
        &self,
        snapshot_id: &str,
        session_id: &str,
        version: i64,
        body: &str,
    ) -> Result<()> {
        with_client!(self, |c| async {
            c.execute(
                "INSERT INTO genkit_snapshots (snapshot_id, session_id, parent_id, status, created_at, format_version, body)
                 VALUES ($1, $2, NULL, 'completed', '2026-01-01T00:00:00.000Z', $3, $4)
                 ON CONFLICT (snapshot_id) DO UPDATE SET format_version = excluded.format_version, body = excluded.body",
                &[&snapshot_id, &session_id, &version, &body],
            )
            .await
            .map_err(pg)
        })?;
        Ok(())
    }
}

impl SessionStore for PostgresSessionStore {
    fn get_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        Box::pin(async move {
            let mut v = self
                .rows(
                    "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE snapshot_id = $1",
                    &[&snapshot_id],
                )
                .await?;
            Ok(v.pop())
        })
    }

    fn list_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSnapshot>>> {
        Box::pin(async move {
            self.rows(
                "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE session_id = $1",
                &[&session_id],
            )
            .await
        })
    }

    fn session_leaf<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        Box::pin(async move {
            let leaves = self
                .rows(
                    "SELECT s.snapshot_id, s.format_version, s.body FROM genkit_snapshots s
                     WHERE s.session_id = $1 AND NOT EXISTS (
                       SELECT 1 FROM genkit_snapshots c WHERE c.session_id = $1 AND c.parent_id = s.snapshot_id)",
                    &[&session_id],
                )
                .await?;
            select_leaf(leaves, session_id, self.reject_ambiguous)
        })
    }

    fn save_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
        head: Option<&'a HeadCheck>,
        update: SnapshotUpdate<'a>,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        Box::pin(async move {
            check_snapshot_id(snapshot_id)?;
            with_client!(self, |c| save_once(c, snapshot_id, head, update))
        })
    }

    fn reject_ambiguous_session(&self) -> bool {
        self.reject_ambiguous
    }
}

/// One attempt of [`SessionStore::save_snapshot`]: a transaction that serializes the
/// writers of the row (and of the session's head for a new turn).
async fn save_once(
    client: &mut ClientWrapper,
    snapshot_id: &str,
    head: Option<&HeadCheck>,
    update: SnapshotUpdate<'_>,
) -> Result<Option<SessionSnapshot>> {
    let tx = client.transaction().await.map_err(pg)?;
    // Serialize writers of this snapshot, and of the session for a new turn.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&snapshot_id],
    )
    .await
    .map_err(pg)?;
    if let Some(h) = head {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 1))",
            &[&h.session_id],
        )
        .await
        .map_err(pg)?;
    }
    let existing = tx
        .query_opt(
            "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE snapshot_id = $1",
            &[&snapshot_id],
        )
        .await
        .map_err(pg)?
        .map(|r| row(&r))
        .map(|(id, v, body)| decode(&id, v, &body))
        .transpose()?;
    if existing.is_none()
        && let Some(h) = head
    {
        let siblings = match &h.parent_id {
                Some(p) => tx
                    .query(
                        "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE session_id = $1 AND parent_id = $2 AND snapshot_id <> $3",
                        &[&h.session_id, p, &snapshot_id],
                    )
                    .await,
                None => tx
                    .query(
                        "SELECT snapshot_id, format_version, body FROM genkit_snapshots WHERE session_id = $1 AND parent_id IS NULL AND snapshot_id <> $2",
                        &[&h.session_id, &snapshot_id],
                    )
                    .await,
            }
            .map_err(pg)?;
        for r in &siblings {
            let (id, v, body) = row(r);
            let s = decode(&id, v, &body)?;
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (snapshot_id) DO UPDATE SET session_id = excluded.session_id, parent_id = excluded.parent_id,
               status = excluded.status, created_at = excluded.created_at, format_version = excluded.format_version, body = excluded.body",
            &[
                &snapshot_id,
                &new.session(),
                &new.parent(),
                &new.status().as_str(),
                &new.created_at,
                &FORMAT_VERSION,
                &body,
            ],
        )
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(Some(new))
}
