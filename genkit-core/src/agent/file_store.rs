//! `FileSessionStore`: one pretty-printed JSON file per snapshot, as Genkit's.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::BoxFuture;

use super::store::{HeadCheck, SessionStore, SnapshotUpdate, check_snapshot_id, check_update};
use super::types::SessionSnapshot;
use crate::error::{Error, Result, Status};

/// How long a writer waits for the lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Snapshots as `<directory>/<snapshotId>.json` (camelCase, indented), written
/// atomically (`.tmp` + rename). Writes from several processes are serialized by an
/// OS file lock on `<directory>/.genkit-sessions.lock`, so the version check of a new
/// turn holds across processes; the OS releases the lock when its holder dies, so a
/// killed process never blocks the others. Looking a session up reads every file:
/// fine for development and small deployments; use SQLite or PostgreSQL
/// (`genkit-store`) beyond that.
///
/// A corrupt file fails only its own session (DATA_LOSS naming the file): its session
/// is read from whatever of the file is still legible. A file that names no session
/// at all belongs to none: it is skipped (with a warning) when sessions are listed,
/// and reading it by id is DATA_LOSS.
pub struct FileSessionStore {
    dir: PathBuf,
    reject_ambiguous: bool,
    max_chain: Option<usize>,
}

impl FileSessionStore {
    /// A store in `directory` (created if missing).
    pub fn open(directory: impl AsRef<Path>) -> Result<Self> {
        let dir = directory.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        Ok(FileSessionStore {
            dir,
            reject_ambiguous: false,
            max_chain: None,
        })
    }

    /// Refuse to pick among several leaves of a session.
    pub fn reject_ambiguous(mut self, yes: bool) -> Self {
        self.reject_ambiguous = yes;
        self
    }

    /// Keep at most `n` snapshots per chain: older ancestors are deleted after each save.
    pub fn max_persisted_chain_length(mut self, n: usize) -> Self {
        self.max_chain = Some(n.max(1));
        self
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn read(path: &Path) -> Result<Option<SessionSnapshot>> {
        match Self::read_file(path) {
            Ok(s) => Ok(s),
            Err(bad) => Err(*bad.error),
        }
    }

    /// One file: `None` when it does not exist; a corrupt one with the session it
    /// still names.
    fn read_file(path: &Path) -> std::result::Result<Option<SessionSnapshot>, Corrupt> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Corrupt {
                    session: None,
                    error: Box::new(e.into()),
                });
            }
        };
        let parsed = std::str::from_utf8(&text)
            .map_err(|e| Error::invalid_argument(e.to_string()))
            .and_then(crate::types::from_str::<SessionSnapshot>);
        parsed.map(Some).map_err(|e| Corrupt {
            session: legible_session(&text),
            error: Box::new(
                Error::new(
                    Status::DataLoss,
                    format!(
                        "stored snapshot {} is corrupt: {}",
                        path.display(),
                        e.message()
                    ),
                )
                .with_details(serde_json::json!({
                    "reason": "CORRUPT_SNAPSHOT",
                    "file": path.display().to_string(),
                })),
            ),
        })
    }

    /// Every snapshot of `session`. A corrupt file of that session fails the read; one
    /// of another session does not; one that names no session is skipped with a
    /// warning.
    fn read_session(dir: &Path, session: &str) -> Result<Vec<SessionSnapshot>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match Self::read_file(&path) {
                Ok(Some(s)) if s.session() == Some(session) => out.push(s),
                Ok(_) => {}
                Err(bad) => match bad.session.as_deref() {
                    Some(of) if of == session => return Err(*bad.error),
                    Some(_) => {}
                    None => {
                        tracing::warn!(target: "genkit::agent", "skipping {}, which names no session: {}", path.display(), bad.error);
                    }
                },
            }
        }
        Ok(out)
    }

    /// Takes the directory's lock, waiting at most [`LOCK_WAIT`] (then ABORTED).
    fn lock(&self) -> Result<File> {
        let path = self.dir.join(".genkit-sessions.lock");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let start = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::new(
                        Status::Aborted,
                        format!("timed out waiting for the store lock {}", path.display()),
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }

    fn save_blocking(
        &self,
        snapshot_id: &str,
        head: Option<&HeadCheck>,
        update: SnapshotUpdate<'_>,
    ) -> Result<Option<SessionSnapshot>> {
        check_snapshot_id(snapshot_id)?;
        let _lock = self.lock()?;
        let path = self.path(snapshot_id);
        let existing = Self::read(&path)?;
        // The session's rows, for the head check of a new turn (and pruning).
        let mut rows = None;
        if existing.is_none()
            && let Some(h) = head
        {
            let all = Self::read_session(&self.dir, &h.session_id)?;
            if let Some(other) = all.iter().find(|s| h.conflicts_with(s, snapshot_id)) {
                return Err(h.conflict(&other.snapshot_id));
            }
            rows = Some((h.session_id.as_str(), all));
        }
        let Some(new) = check_update(snapshot_id, existing.as_ref(), update)? else {
            return Ok(None);
        };
        if new.session().is_none() {
            return Err(Error::invalid_argument(format!(
                "snapshot '{snapshot_id}' has no sessionId; FileSessionStore needs one"
            ))
            .with_details(serde_json::json!({"reason": "SESSION_ID_REQUIRED"})));
        }
        let text = serde_json::to_string_pretty(&new)?;
        let tmp = self.dir.join(format!("{snapshot_id}.json.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        if let (Some(max), Some(session)) = (self.max_chain, new.session()) {
            let all = match rows {
                Some((of, all)) if of == session => all,
                _ => Self::read_session(&self.dir, session)?,
            };
            self.prune(&new, all, max)?;
        }
        Ok(Some(new))
    }

    fn prune(&self, new: &SessionSnapshot, all: Vec<SessionSnapshot>, max: usize) -> Result<()> {
        let by_id: std::collections::HashMap<&str, &SessionSnapshot> =
            all.iter().map(|s| (s.snapshot_id.as_str(), s)).collect();
        let mut chain = vec![new.snapshot_id.clone()];
        let mut cur = new.parent().map(str::to_string);
        while let Some(id) = cur {
            if chain.contains(&id) {
                break;
            }
            cur = by_id
                .get(id.as_str())
                .and_then(|s| s.parent())
                .map(str::to_string);
            chain.push(id);
        }
        for old in chain.iter().skip(max) {
            let _ = std::fs::remove_file(self.path(old));
        }
        Ok(())
    }
}

/// A file that cannot be read as a snapshot.
struct Corrupt {
    /// The session the file still names, if any.
    session: Option<String>,
    error: Box<Error>,
}

/// The session a damaged snapshot file still names: its `sessionId` (or its state's)
/// when the file is JSON, else the first legible `"sessionId": "…"` in its text.
fn legible_session(text: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(text) {
        let named = |v: &serde_json::Value| v.get("sessionId")?.as_str().map(str::to_string);
        return named(&v).or_else(|| named(v.get("state")?));
    }
    let text = String::from_utf8_lossy(text);
    let key = "\"sessionId\"";
    let rest = text[text.find(key)? + key.len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    let id = &rest[..end];
    (!id.is_empty() && !id.contains('\\')).then(|| id.to_string())
}

impl SessionStore for FileSessionStore {
    fn get_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        Box::pin(async move {
            check_snapshot_id(snapshot_id)?;
            let path = self.path(snapshot_id);
            tokio::task::spawn_blocking(move || Self::read(&path))
                .await
                .map_err(|e| Error::internal(format!("store task failed: {e}")))?
        })
    }

    fn list_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSnapshot>>> {
        Box::pin(async move {
            let dir = self.dir.clone();
            let session = session_id.to_string();
            tokio::task::spawn_blocking(move || Self::read_session(&dir, &session))
                .await
                .map_err(|e| Error::internal(format!("store task failed: {e}")))?
        })
    }

    fn save_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
        head: Option<&'a HeadCheck>,
        update: SnapshotUpdate<'a>,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        // The update closure borrows from the caller; the write is a few small file
        // operations, done in place.
        Box::pin(async move { self.save_blocking(snapshot_id, head, update) })
    }

    fn reject_ambiguous_session(&self) -> bool {
        self.reject_ambiguous
    }
}
