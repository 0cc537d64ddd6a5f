//! `PostgresSessionStore`: snapshots in PostgreSQL, shared by many app instances.

use futures::future::BoxFuture;
use genkit_core::agent::{
    HeadCheck, SessionSnapshot, SessionStore, SnapshotUpdate, check_snapshot_id, check_update,
    select_leaf,
};
use genkit_core::{Error, Result, Status};
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

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
pub struct PostgresSessionStore {
    client: Mutex<Client>,
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
    /// `postgresql://` URL) and creates the table if missing. The connection is
    /// driven by a background task.
    pub async fn connect(config: &str) -> Result<Self> {
        let (client, connection) = tokio_postgres::connect(config, NoTls).await.map_err(pg)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(target: "genkit_store", "postgres connection closed: {e}");
            }
        });
        client.batch_execute(SCHEMA).await.map_err(pg)?;
        Ok(PostgresSessionStore {
            client: Mutex::new(client),
            reject_ambiguous: false,
        })
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
        let client = self.client.lock().await;
        let rows = client.query(query, args).await.map_err(pg)?;
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
        let client = self.client.lock().await;
        client
            .execute(
                "INSERT INTO genkit_snapshots (snapshot_id, session_id, parent_id, status, created_at, format_version, body)
                 VALUES ($1, $2, NULL, 'completed', '2026-01-01T00:00:00.000Z', $3, $4)
                 ON CONFLICT (snapshot_id) DO UPDATE SET format_version = excluded.format_version, body = excluded.body",
                &[&snapshot_id, &session_id, &version, &body],
            )
            .await
            .map_err(pg)?;
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
            let mut client = self.client.lock().await;
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
        })
    }

    fn reject_ambiguous_session(&self) -> bool {
        self.reject_ambiguous
    }
}
