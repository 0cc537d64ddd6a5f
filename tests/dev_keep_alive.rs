//! Dev mode keeps the program up after `main`'s work, even when `main` finishes while
//! the Genkit CLI has a run in flight.
//!
//! The keep-alive hangs on `main` dropping the user's last `Genkit` handle, so this test
//! needs a real `main` thread: it is a `harness = false` test that runs itself as a
//! child process with `GENKIT_ENV=dev`. The child's `main` returns as soon as a slow flow
//! started through the reflection API is running; the run must still answer, and the
//! runtime must stay up until `/api/__quitquitquit`, then exit 0 and remove its runtime
//! file. A `main` that panics is a crash: it is not kept up.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use genkit::prelude::*;

mod common;
use common::http;

/// Set in the child process.
const CHILD: &str = "GENKIT_RS_DEV_KEEP_ALIVE_CHILD";
/// What the child prints once `main`'s work is done.
const MAIN_DONE: &str = "main: work done";
/// How long the flow keeps running after `main`'s work is done.
const RUN_MS: u64 = 400;

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("serve") => child(),
        Ok("panic") => panicking_child(),
        _ => {
            parent();
            a_panicking_main_is_not_kept_up();
            println!("dev_keep_alive: 2 passed, 0 failed");
        }
    }
}

/// Runs `f` on main's thread in a multi-thread runtime, as `#[tokio::main]` does.
fn on_multi_thread_runtime<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// The child's instance: dev mode starts its reflection API.
async fn instance() -> Genkit {
    Genkit::builder()
        .without_submitted_actions()
        .build()
        .await
        .expect("build")
}

/// A `main` that panics after building its instance: a crash, not kept up.
fn panicking_child() {
    on_multi_thread_runtime(async {
        let _ai = instance().await;
        panic!("main failed");
    });
}

fn a_panicking_main_is_not_kept_up() {
    let (dir, mut child) = dev_child("panic", 0);
    let child = child
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child");
    let mut kill = KillOnDrop(child);
    let exit = wait_for("exit of the panicking main (it was kept up)", || {
        kill.0.try_wait().expect("wait")
    });
    let mut stderr = String::new();
    if let Some(mut e) = kill.0.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(!exit.success(), "a panic is a failure: {exit}");
    assert!(stderr.contains("main failed"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The program under test: a flow that tells `main` it started, then runs on.
fn child() {
    on_multi_thread_runtime(async {
        let started = std::sync::Arc::new(tokio::sync::Notify::new());
        let ai = instance().await;
        let notify = std::sync::Arc::clone(&started);
        ai.define_flow("slow", move |_ai, ms: u64, _cx| {
            let notify = std::sync::Arc::clone(&notify);
            async move {
                notify.notify_one();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, Error>(ms)
            }
        })
        .expect("flow");
        // `main`'s work ends while the CLI's run is in flight; `ai` is dropped here.
        started.notified().await;
        println!("{MAIN_DONE}");
    });
    println!("main: returned");
}

fn parent() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (dir, mut child) = dev_child("serve", port);
    let mut child = child
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child");
    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut kill = KillOnDrop(child);

    let file = wait_for("the runtime file", || runtime_file(&dir));
    let addr = format!("127.0.0.1:{port}");
    let body = format!(r#"{{"key":"/flow/slow","input":{RUN_MS}}}"#);
    // The run is sent on its own thread: `main` finishes while it is in flight.
    let run = {
        let addr = addr.clone();
        std::thread::spawn(move || http(&addr, "POST", "/api/runAction", &body))
    };
    let line = lines
        .recv_timeout(Duration::from_secs(30))
        .expect("the child's output");
    assert_eq!(
        line, MAIN_DONE,
        "main's work ended while the run was in flight"
    );
    let (status, answer) = run.join().expect("the run");
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains(&format!(r#"{{"result":{RUN_MS},"telemetry":{{"traceId":""#)),
        "the run in flight answered: {answer}"
    );
    // Still serving after main's work and the run, with the same actions.
    let (status, answer) = http(&addr, "GET", "/api/actions", "");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"/flow/slow\""), "{answer}");
    assert!(file.exists(), "the runtime file stays while serving");
    let (status, _) = http(&addr, "GET", "/api/__quitquitquit", "");
    assert_eq!(status, 200);

    let exit = wait_for("the child's exit", || kill.0.try_wait().expect("wait"));
    assert!(exit.success(), "exit status {exit}");
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(5)).as_deref(),
        Ok("main: returned"),
        "main returned only once stopped"
    );
    assert!(!file.exists(), "the runtime file is removed on the way out");
    let _ = std::fs::remove_dir_all(&dir);
}

/// This binary as a dev-mode child running `mode`, in a fresh project directory
/// (returned) with the reflection API on `port` (0: any).
fn dev_child(mode: &str, port: u16) -> (PathBuf, Command) {
    let dir = std::env::temp_dir().join(format!("genkit-keep-alive-{mode}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project dir");
    let mut child = Command::new(std::env::current_exe().expect("this test's binary"));
    child
        .env(CHILD, mode)
        .env("GENKIT_ENV", "dev")
        .env("GENKIT_REFLECTION_PORT", port.to_string())
        .env_remove("GENKIT_TELEMETRY_SERVER")
        .env_remove("GENKIT_REFLECTION_V2_SERVER")
        .current_dir(&dir);
    (dir, child)
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn runtime_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir.join(".genkit/runtimes"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "no {what} within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}
