//! Stores under faults: a process killed (SIGKILL) during a detached turn or while it
//! holds the file store's lock, a runtime that dies under a detached turn, and a
//! corrupt snapshot file. The child processes are this test binary, run again with
//! `crash_child` and a job in `GENKIT_STORE_CRASH_CHILD`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{Cluster, genkit, genkit_on, tempdir, user_texts};
use genkit_core::agent::{
    Agent, AgentFinishReason, AgentInit, AgentInput, FileSessionStore, GetSnapshotRequest,
    InMemorySessionStore, SessionSnapshot, SessionStore, SnapshotStatus,
};
use genkit_core::{Genkit, Status};
use genkit_googleai::server::{LocalGemini, Reply};
use genkit_store::{PostgresSessionStore, SqliteSessionStore};
use serde_json::{Value, json};

const CHILD_ENV: &str = "GENKIT_STORE_CRASH_CHILD";
/// The heartbeat of detached turns in these tests, and when it expires.
const HEARTBEAT: Duration = Duration::from_millis(100);
const EXPIRY: Duration = Duration::from_secs(3);

/// Where a child or the test keeps its sessions.
#[derive(Clone)]
enum Place {
    Files(std::path::PathBuf),
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Place {
    fn to_json(&self) -> Value {
        match self {
            Place::Files(d) => json!({"files": d}),
            Place::Sqlite(p) => json!({"sqlite": p}),
            Place::Postgres(c) => json!({"postgres": c}),
        }
    }

    fn from_json(v: &Value) -> Place {
        let s = |k: &str| v[k].as_str().map(str::to_string);
        if let Some(d) = s("files") {
            Place::Files(d.into())
        } else if let Some(p) = s("sqlite") {
            Place::Sqlite(p.into())
        } else {
            Place::Postgres(s("postgres").expect("a place"))
        }
    }

    async fn open(&self) -> Arc<dyn SessionStore> {
        match self {
            Place::Files(d) => Arc::new(FileSessionStore::open(d).unwrap()),
            Place::Sqlite(p) => Arc::new(SqliteSessionStore::open(p).unwrap()),
            Place::Postgres(c) => Arc::new(PostgresSessionStore::connect(c).await.unwrap()),
        }
    }
}

fn new_agent(ai: &Genkit, store: Arc<dyn SessionStore>) -> Agent {
    ai.define_agent("myAgent")
        .tools(["web_search"])
        .store_ref(store)
        .abort_poll_interval(Duration::from_millis(20))
        .heartbeat_interval(HEARTBEAT)
        .heartbeat_expiry(EXPIRY)
        .build()
        .unwrap()
}

/// The child process: runs one job, printing what the test waits for, then waits to
/// be killed.
#[test]
#[ignore = "the child process of the crash tests, started by them"]
fn crash_child() {
    let Ok(job) = std::env::var(CHILD_ENV) else {
        return;
    };
    let job: Value = serde_json::from_str(&job).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let place = Place::from_json(&job["place"]);
        match job["job"].as_str() {
            Some("detach") => {
                let ai = genkit(job["gemini"].as_str().unwrap()).await;
                let agent = new_agent(&ai, place.open().await);
                let session = job["session"].as_str().unwrap();
                let out = agent
                    .run(
                        AgentInit::session(session),
                        AgentInput::text("Search: the turn that dies").detached(),
                        None,
                        None,
                    )
                    .await
                    .unwrap();
                say(&format!("SNAPSHOT {}", out.snapshot_id.unwrap()));
            }
            Some("hold_lock") => {
                let Place::Files(dir) = place else {
                    panic!("hold_lock is for the file store")
                };
                let store = FileSessionStore::open(dir).unwrap();
                // The update runs under the store's lock: it never returns.
                let hold = |_: Option<&SessionSnapshot>| {
                    say("LOCKED");
                    std::thread::sleep(Duration::from_secs(120));
                    None
                };
                let _ = store.save_snapshot("held", None, &hold).await;
            }
            other => panic!("unknown job {other:?}"),
        }
        tokio::time::sleep(Duration::from_secs(120)).await;
    });
}

fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A child process running `job`, killed on drop.
struct ChildProcess {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl ChildProcess {
    fn start(job: Value) -> ChildProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, job.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        ChildProcess { child, lines }
    }

    /// What follows `prefix` on the first line that holds it (libtest may have
    /// started the line with the test's name).
    fn wait_for(&mut self, prefix: &str) -> String {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            if let Some(at) = line.find(prefix) {
                return line[at + prefix.len()..].trim().to_string();
            }
        }
        let status = self.child.wait().unwrap();
        panic!("the child ended ({status}) before printing {prefix:?}");
    }

    /// SIGKILL: no destructor, no finalizer, no unlock runs.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn snapshot(agent: &Agent, id: &str) -> SessionSnapshot {
    agent
        .get_snapshot(GetSnapshotRequest::snapshot(id))
        .await
        .unwrap()
        .unwrap()
}

/// A detached turn of `sid` died (its process killed, its runtime gone) while the model
/// answered slowly; `pending` is its snapshot. While its heartbeat is fresh, a new turn
/// is refused before it calls the model; once it expires, the session goes on.
async fn session_survives_the_dead_turn(
    server: &LocalGemini,
    agent: &Agent,
    sid: &str,
    pending: &str,
) {
    let before = server.requests().len();
    let err = agent
        .run(
            AgentInit::session(sid),
            AgentInput::text("too early"),
            None,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::Aborted, "{err}");
    let details = err.details().cloned().unwrap_or_default();
    assert_eq!(details["reason"], "SESSION_CONFLICT", "{details}");
    assert_eq!(details["conflictingSnapshotId"], pending, "{details}");
    assert_eq!(
        server.requests().len(),
        before,
        "a turn that cannot be saved must not call the model"
    );

    // No heartbeat comes any more: the snapshot reads as expired, then the session
    // takes new turns.
    let mut status = snapshot(agent, pending).await.status();
    for _ in 0..200 {
        if status == SnapshotStatus::Expired {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = snapshot(agent, pending).await.status();
    }
    assert_eq!(status, SnapshotStatus::Expired);
    let out = agent
        .run(
            AgentInit::session(sid),
            AgentInput::text("after the crash"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop), "{out:?}");
    assert!(
        server.requests().len() > before,
        "the turn called the model"
    );
    let next = agent
        .run(
            AgentInit::session(sid),
            AgentInput::text("and again"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        next.finish_reason,
        Some(AgentFinishReason::Stop),
        "{next:?}"
    );
    let leaf = agent
        .get_snapshot(GetSnapshotRequest::session(sid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leaf.snapshot_id, next.snapshot_id.unwrap());
    assert_eq!(leaf.parent_id, out.snapshot_id);
    assert_eq!(
        user_texts(&leaf),
        ["Search: first", "after the crash", "and again"]
    );
    // The dead turn stays as it was left, for whoever looks.
    assert_eq!(
        snapshot(agent, pending).await.status(),
        SnapshotStatus::Expired
    );
}

/// A session with one completed turn, whose next model call hangs (until the process
/// or runtime making it dies); with the count of model calls so far.
async fn session_whose_next_model_call_hangs(
    server: &LocalGemini,
    agent: &Agent,
) -> (String, usize) {
    let first = agent
        .run(
            AgentInit::default(),
            AgentInput::text("Search: first"),
            None,
            None,
        )
        .await
        .unwrap();
    server.push(Reply::default_behaviour().delay(Duration::from_secs(120)));
    (first.session_id.unwrap(), server.requests().len())
}

/// Waits until the model server got the call after the first `calls`.
async fn model_called(server: &LocalGemini, calls: usize) {
    for _ in 0..400 {
        if server.requests().len() > calls {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        server.requests().len(),
        calls + 1,
        "the dying turn called the model"
    );
}

/// Runs a detached turn of a new session in a child process against `place`, kills
/// the child with SIGKILL while the model is answering, then checks the session.
async fn kill_during_detached_turn(place: Place) {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let agent = new_agent(&ai, place.open().await);
    let (sid, calls) = session_whose_next_model_call_hangs(&server, &agent).await;
    let mut child = ChildProcess::start(json!({
        "job": "detach",
        "place": place.to_json(),
        "gemini": server.base_url(),
        "session": sid,
    }));
    let pending = child.wait_for("SNAPSHOT ");
    model_called(&server, calls).await;
    // The child's heartbeat runs while the model is slow.
    let s = snapshot(&agent, &pending).await;
    let created = s.created_at.clone();
    let mut beat = s.heartbeat_at.clone();
    for _ in 0..200 {
        if beat.as_deref().is_some_and(|b| *b > *created) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        beat = snapshot(&agent, &pending).await.heartbeat_at;
    }
    assert!(
        beat.as_deref().is_some_and(|b| *b > *created),
        "no heartbeat after {created}: {beat:?}"
    );
    assert_eq!(
        snapshot(&agent, &pending).await.status(),
        SnapshotStatus::Pending
    );
    child.kill();
    session_survives_the_dead_turn(&server, &agent, &sid, &pending).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_detached_turn_does_not_block_a_file_store_session() {
    kill_during_detached_turn(Place::Files(tempdir("crash-files"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_detached_turn_does_not_block_an_sqlite_session() {
    kill_during_detached_turn(Place::Sqlite(tempdir("crash-sqlite").join("s.db"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_detached_turn_does_not_block_a_postgres_session() {
    let cluster = Cluster::start();
    kill_during_detached_turn(Place::Postgres(cluster.config())).await;
}

/// The in-memory store lives in one process, so its detached turn dies with the
/// runtime that runs it: shut down under the turn, no finalizer runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_runtime_under_a_detached_turn_does_not_block_an_in_memory_session() {
    let server = LocalGemini::start().await.unwrap();
    let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new());
    let ai = genkit_on(&server).await;
    let agent = new_agent(&ai, store.clone());
    let (sid, calls) = session_whose_next_model_call_hangs(&server, &agent).await;
    let (url, session) = (server.base_url(), sid.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let doomed = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let id = rt.block_on(async {
            let ai = genkit(&url).await;
            let other = new_agent(&ai, store);
            let out = other
                .run(
                    AgentInit::session(&session),
                    AgentInput::text("Search: the turn that dies").detached(),
                    None,
                    None,
                )
                .await
                .unwrap();
            out.snapshot_id.unwrap()
        });
        tx.send(id).unwrap();
        // Until the model call has arrived.
        std::thread::park();
        rt.shutdown_background();
    });
    let pending = tokio::task::spawn_blocking(move || rx.recv().unwrap())
        .await
        .unwrap();
    model_called(&server, calls).await;
    doomed.thread().unpark();
    doomed.join().unwrap();
    assert_eq!(
        snapshot(&agent, &pending).await.status(),
        SnapshotStatus::Pending
    );
    session_survives_the_dead_turn(&server, &agent, &sid, &pending).await;
}

/// A process killed while it holds the file store's lock does not block the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_lock_of_a_killed_process_is_taken_over_at_once() {
    let dir = tempdir("dead-lock");
    let mut child = ChildProcess::start(json!({
        "job": "hold_lock",
        "place": Place::Files(dir.clone()).to_json(),
    }));
    child.wait_for("LOCKED");
    let store = Arc::new(FileSessionStore::open(&dir).unwrap());
    let write = {
        let store = store.clone();
        tokio::spawn(async move {
            let row = |_: Option<&SessionSnapshot>| {
                let mut s = SessionSnapshot::new("");
                s.session_id = Some("chat".into());
                Some(s)
            };
            store.save_snapshot("after", None, &row).await
        })
    };
    // The lock holds while its holder lives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "a write got past a held lock");
    child.kill();
    let saved = write.await.unwrap().unwrap().expect("written");
    assert_eq!(saved.snapshot_id, "after");
    assert_eq!(
        store
            .get_snapshot("after")
            .await
            .unwrap()
            .unwrap()
            .session(),
        Some("chat")
    );
}

/// A corrupt file fails its own session only, naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_file_fails_only_its_own_session() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let dir = tempdir("corrupt-one");
    let agent = new_agent(&ai, Arc::new(FileSessionStore::open(&dir).unwrap()));
    let mut sessions = Vec::new();
    for text in ["Search: one", "Search: two", "Search: three"] {
        let out = agent
            .run(AgentInit::default(), AgentInput::text(text), None, None)
            .await
            .unwrap();
        sessions.push((out.session_id.unwrap(), out.snapshot_id.unwrap()));
    }
    // Damage two files: one cut short (no longer JSON), one with a bad field.
    let (bad_sid, bad_snap) = &sessions[0];
    let bad_file = dir.join(format!("{bad_snap}.json"));
    let text = std::fs::read_to_string(&bad_file).unwrap();
    std::fs::write(&bad_file, &text[..text.len() / 2]).unwrap();
    let (odd_sid, odd_snap) = &sessions[1];
    let odd_file = dir.join(format!("{odd_snap}.json"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&odd_file).unwrap()).unwrap();
    v["status"] = json!(42);
    std::fs::write(&odd_file, v.to_string()).unwrap();
    // And a stray file that is no snapshot of any session.
    std::fs::write(dir.join("notes.json"), "[1, 2").unwrap();

    for (sid, file) in [(bad_sid, &bad_file), (odd_sid, &odd_file)] {
        let err = agent
            .get_snapshot(GetSnapshotRequest::session(sid))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Status::DataLoss, "{err}");
        assert!(err.message().contains(&file.display().to_string()), "{err}");
        let out = agent
            .run(AgentInit::session(sid), AgentInput::text("hi"), None, None)
            .await
            .unwrap();
        assert_eq!(out.finish_reason, Some(AgentFinishReason::Failed));
        assert_eq!(out.error.unwrap().status.as_deref(), Some("DATA_LOSS"));
    }
    // The untouched session keeps working: read, continued, branched anew.
    let (good_sid, good_snap) = &sessions[2];
    let leaf = agent
        .get_snapshot(GetSnapshotRequest::session(good_sid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&leaf.snapshot_id, good_snap);
    let out = agent
        .run(
            AgentInit::session(good_sid),
            AgentInput::text("still here"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop), "{out:?}");
    let s = snapshot(&agent, &out.snapshot_id.unwrap()).await;
    assert_eq!(user_texts(&s), ["Search: three", "still here"]);
    let fresh = agent
        .run(AgentInit::default(), AgentInput::text("new"), None, None)
        .await
        .unwrap();
    assert_eq!(fresh.finish_reason, Some(AgentFinishReason::Stop));
}
