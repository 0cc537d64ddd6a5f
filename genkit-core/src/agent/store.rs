//! `SessionStore`: where server-managed agents keep their snapshots, and the
//! in-memory store.
//!
//! A store holds [`SessionSnapshot`]s by id. Every write is an atomic
//! read-modify-write ([`SessionStore::save_snapshot`]): the update function sees the
//! row as stored and returns the row to write (or `None` to skip). Stores enforce
//! Genkit's rules on every write ([`check_update`]): terminal statuses (completed,
//! failed, aborted) never change, a row never moves to another session, and a new turn
//! that continues a session's head is refused with ABORTED when another turn got
//! there first ([`HeadCheck`]), so two processes never silently lose a turn.
//!
//! ```
//! use genkit_core::agent::{InMemorySessionStore, SessionSnapshot, SessionStore, SnapshotStatus};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> genkit_core::Result<()> {
//! let store = InMemorySessionStore::new();
//! let first = |_: Option<&SessionSnapshot>| {
//!     let mut s = SessionSnapshot::new("s1");
//!     s.session_id = Some("chat".into());
//!     Some(s)
//! };
//! store.save_snapshot("s1", None, &first).await?;
//! let leaf = store.session_leaf("chat").await?.expect("saved");
//! assert_eq!(leaf.snapshot_id, "s1");
//! assert_eq!(leaf.status(), SnapshotStatus::Completed); // filled in by the store
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use hashbrown::HashTable;
use tokio::sync::broadcast;

use super::types::{SessionSnapshot, SnapshotStatus};
use super::util::now_iso;
use crate::error::{Error, Result, Status};
#[cfg(test)]
use crate::types::Message;

/// The update of one row: sees the stored row (if any), returns the row to write or
/// `None` to leave it as it is. It may be called more than once (stores may retry).
pub type SnapshotUpdate<'a> =
    &'a (dyn Fn(Option<&SessionSnapshot>) -> Option<SessionSnapshot> + Send + Sync);

/// How long a `pending` snapshot holds its session without a heartbeat, unless the
/// agent says otherwise: Genkit's 60 s.
pub const DEFAULT_PENDING_EXPIRY: Duration = Duration::from_secs(60);

/// The version check of a new turn that continues a session's head: the write is
/// refused with ABORTED if the session has moved on since the turn loaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeadCheck {
    /// The session.
    pub session_id: String,
    /// The snapshot the turn continues (`None` for a new session).
    pub parent_id: Option<String>,
    /// A `pending` sibling whose heartbeat is older than this (its detached turn died
    /// with its process) no longer counts as a conflict.
    pub pending_expiry: Duration,
}

impl HeadCheck {
    /// A check for a turn of `session_id` continuing `parent_id`, with
    /// [`DEFAULT_PENDING_EXPIRY`].
    pub fn new(session_id: impl Into<String>, parent_id: Option<String>) -> Self {
        HeadCheck {
            session_id: session_id.into(),
            parent_id,
            pending_expiry: DEFAULT_PENDING_EXPIRY,
        }
    }

    /// Sets how long a pending sibling without a heartbeat still conflicts.
    pub fn pending_expiry(mut self, expiry: Duration) -> Self {
        self.pending_expiry = expiry;
        self
    }

    /// The ABORTED error for a conflicting snapshot `other`.
    pub fn conflict(&self, other: &str) -> Error {
        Error::new(
            Status::Aborted,
            format!(
                "session '{}' was advanced by another turn (snapshot '{other}') while this turn ran; its result was not saved: load the session again and retry",
                self.session_id
            ),
        )
        .with_details(serde_json::json!({
            "reason": "SESSION_CONFLICT",
            "sessionId": self.session_id,
            "conflictingSnapshotId": other,
        }))
    }

    /// True when `s` (another row of the session) means the head moved: a completed
    /// or running sibling (a failed or aborted one does not count, nor a pending one
    /// whose heartbeat is older than `pending_expiry`).
    pub fn conflicts_with(&self, s: &SessionSnapshot, own_id: &str) -> bool {
        s.snapshot_id != own_id
            && s.session() == Some(self.session_id.as_str())
            && s.parent() == self.parent_id.as_deref()
            && !matches!(s.status(), SnapshotStatus::Failed | SnapshotStatus::Aborted)
            && !s.heartbeat_expired(self.pending_expiry)
    }
}

/// Where a server-managed agent keeps its sessions.
///
/// Implementations: [`InMemorySessionStore`], [`FileSessionStore`](super::FileSessionStore),
/// and SQLite and PostgreSQL in the `genkit-store` crate.
pub trait SessionStore: Send + Sync + 'static {
    /// The snapshot with this id.
    fn get_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>>;

    /// Every snapshot of a session (any order).
    fn list_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSnapshot>>>;

    /// Atomically reads the row `snapshot_id`, applies `update`, checks the result with
    /// [`check_update`] (and `head` for a new row), and writes it. Returns the row as
    /// written, or `None` when `update` skipped.
    ///
    /// The `head` check of a new row runs before `update` is called: an update that
    /// returns `None` checks a coming turn without writing (agents do so before they
    /// call the model, so a turn that could not be saved costs no model call).
    fn save_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
        head: Option<&'a HeadCheck>,
        update: SnapshotUpdate<'a>,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>>;

    /// When a session has several leaves (it was branched), `true` refuses to pick
    /// one (FAILED_PRECONDITION); `false` (the default) picks the newest.
    fn reject_ambiguous_session(&self) -> bool {
        false
    }

    /// The persisted statuses of a snapshot as they change, starting with the current
    /// one and ending after a terminal status; `None` when the store cannot notify
    /// (then a detached turn polls its snapshot to see an abort).
    fn on_snapshot_status_change<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> Option<BoxStream<'a, Result<SnapshotStatus>>> {
        let _ = snapshot_id;
        None
    }

    /// The session's leaf: the snapshot no other snapshot of it continues.
    fn session_leaf<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        Box::pin(async move {
            let all = self.list_session(session_id).await?;
            select_leaf(all, session_id, self.reject_ambiguous_session())
        })
    }
}

impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    fn get_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        (**self).get_snapshot(snapshot_id)
    }
    fn list_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSnapshot>>> {
        (**self).list_session(session_id)
    }
    fn save_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
        head: Option<&'a HeadCheck>,
        update: SnapshotUpdate<'a>,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        (**self).save_snapshot(snapshot_id, head, update)
    }
    fn reject_ambiguous_session(&self) -> bool {
        (**self).reject_ambiguous_session()
    }
    fn on_snapshot_status_change<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> Option<BoxStream<'a, Result<SnapshotStatus>>> {
        (**self).on_snapshot_status_change(snapshot_id)
    }
    fn session_leaf<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        (**self).session_leaf(session_id)
    }
}

/// The leaf among a session's snapshots; several leaves pick the newest
/// (`createdAt`, then id) unless `reject_ambiguous`.
pub fn select_leaf(
    all: Vec<SessionSnapshot>,
    session_id: &str,
    reject_ambiguous: bool,
) -> Result<Option<SessionSnapshot>> {
    let refs: Vec<&SessionSnapshot> = all.iter().collect();
    let Some(i) = leaf_index(&refs, session_id, reject_ambiguous)? else {
        return Ok(None);
    };
    Ok(all.into_iter().nth(i))
}

/// [`select_leaf`] over borrowed rows: the index of the leaf.
fn leaf_index(
    all: &[&SessionSnapshot],
    session_id: &str,
    reject_ambiguous: bool,
) -> Result<Option<usize>> {
    if all.is_empty() {
        return Ok(None);
    }
    let parents: std::collections::HashSet<&str> = all.iter().filter_map(|s| s.parent()).collect();
    let leaves: Vec<(usize, &SessionSnapshot)> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| !parents.contains(s.snapshot_id.as_str()))
        .map(|(i, s)| (i, *s))
        .collect();
    if leaves.is_empty() {
        return Err(Error::failed_precondition(format!(
            "Session '{session_id}' has no leaf snapshot (corrupt or cyclic history). Resume by snapshotId instead."
        )));
    }
    if leaves.len() > 1 && reject_ambiguous {
        return Err(Error::failed_precondition(format!(
            "Session '{session_id}' has branching snapshots ({} leaves), so there is no single latest snapshot. Resume by snapshotId instead.",
            leaves.len()
        )));
    }
    fn key(s: &SessionSnapshot) -> (Option<i64>, &str) {
        (super::util::ms_from_iso(&s.created_at), &s.snapshot_id)
    }
    Ok(leaves
        .iter()
        .max_by(|(_, a), (_, b)| key(a).cmp(&key(b)))
        .map(|(i, _)| *i))
}

/// Checks a snapshot id: non-empty, no `/`, `\` or NUL, not `.` or `..`
/// (INVALID_ARGUMENT, reason INVALID_SNAPSHOT_ID).
pub fn check_snapshot_id(id: &str) -> Result<()> {
    if id.trim().is_empty() || id == "." || id == ".." || id.contains(['/', '\\', '\0']) {
        return Err(
            Error::invalid_argument(format!("invalid snapshot id '{id}'"))
                .with_details(serde_json::json!({"reason": "INVALID_SNAPSHOT_ID"})),
        );
    }
    Ok(())
}

/// Applies `update` to `existing` with Genkit's rules: fills `snapshotId`, `createdAt`,
/// `updatedAt`, status (`completed`) and `sessionId` (from the state); a terminal
/// status never changes and a row never changes session (FAILED_PRECONDITION).
pub fn check_update(
    snapshot_id: &str,
    existing: Option<&SessionSnapshot>,
    update: SnapshotUpdate<'_>,
) -> Result<Option<SessionSnapshot>> {
    let Some(mut new) = update(existing) else {
        return Ok(None);
    };
    new.snapshot_id = snapshot_id.to_string();
    if new.created_at.is_empty() {
        new.created_at = existing
            .map(|e| e.created_at.clone())
            .unwrap_or_else(now_iso);
    }
    new.updated_at = Some(now_iso());
    if new.status.is_none() {
        new.status = Some(SnapshotStatus::Completed);
    }
    if new.session_id.is_none() {
        new.session_id = new.state.as_ref().and_then(|s| s.session_id.clone());
    }
    if let Some(old) = existing {
        let (was, now) = (old.status(), new.status());
        if was.is_terminal() && was != now {
            return Err(Error::failed_precondition(format!(
                "snapshot '{snapshot_id}' is {} and cannot become {}",
                was.as_str(),
                now.as_str()
            )));
        }
        if old.session() != new.session() {
            return Err(Error::failed_precondition(format!(
                "snapshot '{snapshot_id}' belongs to session '{}' and cannot move to '{}'",
                old.session().unwrap_or(""),
                new.session().unwrap_or("")
            )));
        }
    }
    Ok(Some(new))
}

/// The snapshots, boxed (a table slot is a pointer), each holding its messages shared
/// with the row it was saved over or continues ([`Messages`]): a session of n turns
/// keeps each message once, not once per later snapshot (n²/2 copies).
#[derive(Default)]
struct Rows {
    /// Every row, in the order first saved (rows are replaced, never removed). Boxed:
    /// the table grows by doubling, and ~320-byte rows would leave up to half of it
    /// spare; pointers leave 8 bytes a slot.
    #[expect(
        clippy::vec_box,
        reason = "a doubling Vec of 320-byte rows keeps up to half of it spare"
    )]
    all: Vec<Box<SessionSnapshot>>,
    /// Indices into `all`, found by the row's own `snapshot_id` (no second copy of
    /// the id as a key).
    by_id: HashTable<usize>,
    hasher: RandomState,
    /// Indices into `all`, by session.
    by_session: HashMap<String, Vec<usize>>,
}

impl Rows {
    fn index(&self, snapshot_id: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(snapshot_id);
        self.by_id
            .find(hash, |&i| {
                self.all
                    .get(i)
                    .is_some_and(|r| r.snapshot_id == snapshot_id)
            })
            .copied()
    }

    fn get(&self, snapshot_id: &str) -> Option<&SessionSnapshot> {
        self.index(snapshot_id)
            .and_then(|i| self.all.get(i))
            .map(|r| &**r)
    }

    fn of_session<'a>(&'a self, session_id: &str) -> Vec<&'a SessionSnapshot> {
        self.by_session
            .get(session_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|&i| self.all.get(i).map(|r| &**r))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves `row` over the row of its id, or as a new one.
    fn put(&mut self, row: SessionSnapshot) {
        if let Some(i) = self.index(&row.snapshot_id)
            && let Some(slot) = self.all.get_mut(i)
        {
            **slot = row;
            return;
        }
        let i = self.all.len();
        if let Some(sid) = row.session() {
            match self.by_session.get_mut(sid) {
                Some(ids) => ids.push(i),
                None => {
                    self.by_session.insert(sid.to_string(), vec![i]);
                }
            }
        }
        let hash = self.hasher.hash_one(row.snapshot_id.as_str());
        self.all.push(Box::new(row));
        let (all, hasher) = (&self.all, &self.hasher);
        self.by_id.insert_unique(hash, i, |&j| {
            all.get(j)
                .map_or(0, |r| hasher.hash_one(r.snapshot_id.as_str()))
        });
    }
}

/// A store in this process's memory: for tests and single-process apps that can lose
/// their sessions on restart. It notifies status changes
/// ([`SessionStore::on_snapshot_status_change`]).
pub struct InMemorySessionStore {
    rows: Mutex<Rows>,
    reject_ambiguous: bool,
    changes: broadcast::Sender<(String, SnapshotStatus)>,
}

impl Default for InMemorySessionStore {
    fn default() -> Self {
        InMemorySessionStore {
            rows: Mutex::default(),
            reject_ambiguous: false,
            changes: broadcast::channel(256).0,
        }
    }
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn status_of(&self, id: &str) -> Option<SnapshotStatus> {
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .map(|r| r.status())
    }

    /// Refuse to pick among several leaves of a session.
    pub fn reject_ambiguous(mut self, yes: bool) -> Self {
        self.reject_ambiguous = yes;
        self
    }

    /// How many snapshots it holds.
    pub fn len(&self) -> usize {
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .all
            .len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SessionStore for InMemorySessionStore {
    fn get_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        // A copy of the row: its messages are shared, not copied.
        let out = rows.get(snapshot_id).cloned();
        Box::pin(async move { Ok(out) })
    }

    fn list_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSnapshot>>> {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let out: Vec<SessionSnapshot> = rows.of_session(session_id).into_iter().cloned().collect();
        Box::pin(async move { Ok(out) })
    }

    fn session_leaf<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        // Picks the leaf among the rows in place and copies only it.
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let all = rows.of_session(session_id);
        let out = leaf_index(&all, session_id, self.reject_ambiguous)
            .map(|i| i.and_then(|i| all.get(i).map(|s| SessionSnapshot::clone(s))));
        Box::pin(async move { out })
    }

    fn save_snapshot<'a>(
        &'a self,
        snapshot_id: &'a str,
        head: Option<&'a HeadCheck>,
        update: SnapshotUpdate<'a>,
    ) -> BoxFuture<'a, Result<Option<SessionSnapshot>>> {
        let result = (|| {
            check_snapshot_id(snapshot_id)?;
            let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
            let existing = rows.get(snapshot_id);
            if existing.is_none()
                && let Some(h) = head
                && let Some(other) = rows
                    .of_session(&h.session_id)
                    .into_iter()
                    .find(|r| h.conflicts_with(r, snapshot_id))
            {
                return Err(h.conflict(&other.snapshot_id));
            }
            let Some(mut new) = check_update(snapshot_id, existing, update)? else {
                return Ok(None);
            };
            let changed = existing.map(SessionSnapshot::status) != Some(new.status());
            // Share messages with the row this one replaces, else with its parent (a
            // turn's history already shares them; a rebuilt one is matched by value).
            let base = existing
                .or_else(|| new.parent().and_then(|p| rows.get(p)))
                .and_then(|b| b.state.as_ref());
            if let (Some(state), Some(base)) = (new.state.as_mut(), base) {
                state.messages = state.messages.shared_with(&base.messages);
            }
            rows.put(new.clone());
            if changed {
                let _ = self.changes.send((snapshot_id.to_string(), new.status()));
            }
            Ok(Some(new))
        })();
        Box::pin(async move { result })
    }

    fn reject_ambiguous_session(&self) -> bool {
        self.reject_ambiguous
    }

    fn on_snapshot_status_change<'a>(
        &'a self,
        snapshot_id: &'a str,
    ) -> Option<BoxStream<'a, Result<SnapshotStatus>>> {
        use futures::StreamExt;
        // Subscribe before reading the current status, so no change is missed.
        let rx = self.changes.subscribe();
        let first = self.status_of(snapshot_id);
        let state = (rx, first, false);
        let stream = futures::stream::unfold(state, move |(mut rx, first, done)| async move {
            if done {
                return None;
            }
            if let Some(s) = first {
                return Some((Ok(s), (rx, None, s.is_terminal())));
            }
            loop {
                match rx.recv().await {
                    Ok((id, s)) if id == snapshot_id => {
                        return Some((Ok(s), (rx, None, s.is_terminal())));
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(s) = self.status_of(snapshot_id) {
                            return Some((Ok(s), (rx, None, s.is_terminal())));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Some(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::SessionState;

    fn snapshot(parent: Option<&str>, texts: &[&str]) -> SessionSnapshot {
        let mut s = SessionSnapshot::new("");
        s.session_id = Some("chat".into());
        s.parent_id = parent.map(Into::into);
        s.state = Some(SessionState {
            messages: texts.iter().map(|t| Message::user(*t)).collect(),
            ..SessionState::default()
        });
        s
    }

    async fn save(store: &InMemorySessionStore, id: &str, s: SessionSnapshot) {
        let write = move |_: Option<&SessionSnapshot>| Some(s.clone());
        store.save_snapshot(id, None, &write).await.expect("saved");
    }

    fn texts(s: &SessionSnapshot) -> Vec<String> {
        let state = s.state.as_ref().expect("state");
        state.messages.iter().map(Message::text).collect()
    }

    fn shared(store: &InMemorySessionStore, a: &str, b: &str) -> usize {
        let rows = store.rows.lock().expect("rows");
        let messages = |id: &str| {
            rows.get(id)
                .and_then(|r| r.state.as_ref())
                .as_ref()
                .map(|s| s.messages.iter_shared().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let (a, b) = (messages(a), messages(b));
        a.iter().zip(&b).filter(|(x, y)| Arc::ptr_eq(x, y)).count()
    }

    #[tokio::test]
    async fn snapshots_share_their_parents_messages_and_read_back_whole() {
        let store = InMemorySessionStore::new();
        save(&store, "s1", snapshot(None, &["a", "b"])).await;
        save(&store, "s2", snapshot(Some("s1"), &["a", "b", "c", "d"])).await;
        // A branch from s1 whose history was rewritten after its first message.
        save(&store, "s3", snapshot(Some("s1"), &["a", "x", "y"])).await;
        assert_eq!(shared(&store, "s1", "s2"), 2);
        assert_eq!(shared(&store, "s1", "s3"), 1);
        for (id, want) in [
            ("s1", vec!["a", "b"]),
            ("s2", vec!["a", "b", "c", "d"]),
            ("s3", vec!["a", "x", "y"]),
        ] {
            let got = store.get_snapshot(id).await.expect("get").expect(id);
            assert_eq!(texts(&got), want, "{id}");
            assert_eq!(got.parent_id.as_deref(), (id != "s1").then_some("s1"));
        }
        let listed = store.list_session("chat").await.expect("list");
        assert_eq!(listed.len(), 3);

        // Saved over (a pending turn completing): shares with the row it replaces, and
        // the update sees the row whole.
        let seen = std::sync::Mutex::new(Vec::new());
        let complete = |old: Option<&SessionSnapshot>| {
            let mut s = old.cloned()?;
            seen.lock().expect("seen").push(texts(&s));
            if let Some(state) = s.state.as_mut() {
                state.messages.push(Message::model("e"));
            }
            Some(s)
        };
        store
            .save_snapshot("s2", None, &complete)
            .await
            .expect("update");
        assert_eq!(*seen.lock().expect("seen"), vec![vec!["a", "b", "c", "d"]]);
        let got = store.get_snapshot("s2").await.expect("get").expect("s2");
        assert_eq!(texts(&got), ["a", "b", "c", "d", "e"]);
        assert_eq!(shared(&store, "s1", "s2"), 2);
    }
}
