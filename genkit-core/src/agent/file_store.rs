//! `FileSessionStore`: one pretty-printed JSON file per snapshot, as Genkit's.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::store::{HeadCheck, SessionStore, SnapshotUpdate, check_snapshot_id, check_update};
use super::types::SessionSnapshot;
use crate::error::{Error, Result, Status};

/// How long a lock file may live before it is taken to be left by a dead process.
const STALE_LOCK: Duration = Duration::from_secs(30);
/// How long a writer waits for the lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Snapshots as `<directory>/<snapshotId>.json` (camelCase, indented), written
/// atomically (`.tmp` + rename). Writes from several processes are serialized by a
/// lock file in the directory, so the version check of a new turn holds across
/// processes. Looking a session up reads every file: fine for development and small
/// deployments; use SQLite or PostgreSQL (`genkit-store`) beyond that.
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
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        crate::types::from_str::<SessionSnapshot>(&text)
            .map(Some)
            .map_err(|e| {
                Error::new(
                    Status::DataLoss,
                    format!(
                        "stored snapshot {} is corrupt: {}",
                        path.display(),
                        e.message()
                    ),
                )
            })
    }

    fn read_all(dir: &Path) -> Result<Vec<SessionSnapshot>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("json")
                && let Some(s) = Self::read(&path)?
            {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn lock(&self) -> Result<LockFile> {
        let path = self.dir.join(".genkit-sessions.lock");
        let start = std::time::Instant::now();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(LockFile(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if start.elapsed() > LOCK_WAIT {
                        return Err(Error::new(
                            Status::Aborted,
                            format!("timed out waiting for the store lock {}", path.display()),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(e.into()),
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
        let all = if (existing.is_none() && head.is_some()) || self.max_chain.is_some() {
            Some(Self::read_all(&self.dir)?)
        } else {
            None
        };
        if existing.is_none()
            && let (Some(h), Some(all)) = (head, &all)
            && let Some(other) = all.iter().find(|s| h.conflicts_with(s, snapshot_id))
        {
            return Err(h.conflict(&other.snapshot_id));
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
        if let (Some(max), Some(all)) = (self.max_chain, all) {
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

struct LockFile(PathBuf);

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
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
            let all = tokio::task::spawn_blocking(move || Self::read_all(&dir))
                .await
                .map_err(|e| Error::internal(format!("store task failed: {e}")))??;
            Ok(all
                .into_iter()
                .filter(|s| s.session() == Some(session_id))
                .collect())
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
