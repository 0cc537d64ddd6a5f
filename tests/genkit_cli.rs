//! End to end with the real Genkit CLI (npm genkit-cli 1.43, installed on first use by
//! `genkit_testkit::genkit_cli`) driving `cargo run --example research` (its binary, built once),
//! with no API key: the example talks to its in-process local Gemini server.
//!
//! - `genkit start --noui -- <research>`: the runtime announces itself with its runtime
//!   file and stays up after `main`'s work; `flow:run` plain and `-s`, bad input (an
//!   error, not a crash), `trace:get`, `flow:batchRun`; ending the CLI stops the runtime
//!   and removes its file.
//! - `genkit start -- <research>` (with the Dev UI server): its API on :4000 lists our
//!   actions and runs a flow.
//! - One-shot mode, `genkit flow:run research_flow '{..}' -- <research>`: reflection v2.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::http;

fn genkit_cli() -> PathBuf {
    genkit_testkit::genkit_cli()
}

/// The research example's binary, built once per test run.
fn research_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--example", "research", "--message-format=json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo build --example research");
        assert!(
            out.status.success(),
            "cargo build --example research failed"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "research")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("the example's executable")
    })
    .clone()
}

/// A fresh project directory: the CLI and the runtime both take it as the root (no
/// marker file above it), so they agree on `.genkit/runtimes/`.
fn project_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genkit-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project dir");
    dir
}

fn cli(dir: &Path, args: &[&str]) -> Output {
    // The CLI flag goes before a `--` (after it, it would be the app's argument).
    let mut full: Vec<&str> = Vec::with_capacity(args.len() + 1);
    match args.iter().position(|a| *a == "--") {
        Some(i) => {
            full.extend_from_slice(&args[..i]);
            full.push("--non-interactive");
            full.extend_from_slice(&args[i..]);
        }
        None => {
            full.extend_from_slice(args);
            full.push("--non-interactive");
        }
    }
    let mut child = Command::new(genkit_cli())
        .args(&full)
        .current_dir(dir)
        .env_remove("GENKIT_ENV")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("genkit");
    // A CLI call that hangs fails the test instead of the whole run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("`genkit {}` did not finish within 120 s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("genkit output");
    eprintln!(
        "$ genkit {}\n-- status {:?}\n-- stdout\n{}\n-- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `genkit start` with its output collected, killed on drop.
struct Started {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Started {
    fn launch(dir: &Path, noui: bool) -> Started {
        let mut args = vec!["start", "--non-interactive"];
        if noui {
            args.push("--noui");
        }
        let bin = research_bin();
        let bin = bin.to_str().expect("utf-8 path");
        args.extend(["--", bin]);
        let mut child = Command::new(genkit_cli())
            .args(&args)
            .current_dir(dir)
            .env_remove("GENKIT_ENV")
            .env_remove("GEMINI_API_KEY")
            .env_remove("GOOGLE_API_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, as a terminal's foreground job.
            .process_group(0)
            .spawn()
            .expect("genkit start");
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap_or_else(|e| e.into_inner());
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Started { child, output }
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits for `pred` on the output.
    fn wait_output(&mut self, what: &str, pred: impl Fn(&str) -> Option<String>) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(v) = pred(&self.output()) {
                return v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "genkit start exited ({status}) before {what}:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} in:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ends the CLI as Ctrl-C in its terminal would: SIGINT to its process group.
    fn interrupt(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", "--", &format!("-{}", self.child.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the runtime file the example writes under `<dir>/.genkit/runtimes/`.
fn wait_runtime_file(dir: &Path, started: &mut Started) -> (PathBuf, Value) {
    let runtimes = dir.join(".genkit/runtimes");
    let found = started.wait_output("a runtime file", |_| {
        std::fs::read_dir(&runtimes)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("999999-"))
            })
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| p.display().to_string())
    });
    let path = PathBuf::from(found);
    let info = serde_json::from_str(&std::fs::read_to_string(&path).expect("runtime file"))
        .expect("runtime file JSON");
    (path, info)
}

fn pid_alive(pid: u64) -> bool {
    // A zombie (exited, not yet reaped by the CLI) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.split(") ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, secs: u64, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn trace_id_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.split("Trace ID:").nth(1))
        .map(|t| t.trim().to_owned())
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no trace id in:\n{out}"))
}

/// One CLI session at a time: each `genkit start` takes the first free telemetry port
/// from 4033 (and the Dev UI :4000), so parallel sessions would race for them.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `trace:get --format json` of the seed's flow run: the tree flow → generate → model
/// → tool → model, each span with `genkit:input` and `genkit:output` (what the Dev UI
/// shows for each step), and the model spans with their `gen_ai.*` attributes.
fn assert_dev_ui_trace(dir: &Path, trace: &str) {
    // Spans reach the telemetry server shortly after the run: wait for all five.
    let deadline = Instant::now() + Duration::from_secs(30);
    let spans: Vec<Value> = loop {
        let out = cli(dir, &["trace:get", trace, "--format", "json"]);
        let got = String::from_utf8_lossy(&out.stdout).into_owned();
        let doc: Option<Value> = got
            .find('{')
            .and_then(|i| serde_json::from_str(&got[i..]).ok());
        let spans: Vec<Value> = doc
            .as_ref()
            .and_then(|d| d["spans"].as_object())
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        if spans.len() >= 5 || Instant::now() > deadline {
            assert!(out.status.success(), "{}", text(&out));
            break spans;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let attrs = |s: &Value| s["attributes"].clone();
    let named = |name: &str| -> Vec<&Value> {
        spans
            .iter()
            .filter(|s| s["attributes"]["genkit:name"] == json!(name))
            .collect()
    };
    let mut names: Vec<&str> = spans
        .iter()
        .filter_map(|s| s["attributes"]["genkit:name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "generate",
            "googleai/gemini-2.0-flash",
            "googleai/gemini-2.0-flash",
            "research_flow",
            "web_search"
        ],
        "{spans:#?}"
    );
    // The CLI prints attributes holding a JSON object or array parsed; others as sent.
    let json_attr = |s: &Value, key: &str| -> Value {
        match &s["attributes"][key] {
            Value::String(text) => serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{key} is JSON text: {e}: {text}")),
            other => other.clone(),
        }
    };
    for s in &spans {
        for key in ["genkit:input", "genkit:output"] {
            assert!(
                !json_attr(s, key).is_null(),
                "{key} on {}: {:#}",
                s["displayName"],
                s["attributes"]
            );
        }
        assert_eq!(s["attributes"]["genkit:state"], json!("success"), "{s:#}");
    }
    let generate = named("generate")[0];
    assert_eq!(
        json_attr(generate, "genkit:input")["messages"][0]["content"][0]["text"],
        json!("Research: Rust")
    );
    assert_eq!(
        json_attr(generate, "genkit:input")["tools"],
        json!(["web_search"])
    );
    let tool = named("web_search")[0];
    assert_eq!(json_attr(tool, "genkit:input"), json!({"query": "Rust"}));
    assert_eq!(
        tool["attributes"]["gen_ai.operation.name"],
        json!("execute_tool")
    );
    assert_eq!(tool["attributes"]["gen_ai.tool.name"], json!("web_search"));
    assert_eq!(tool["parentSpanId"], generate["spanId"]);
    for model in named("googleai/gemini-2.0-flash") {
        assert_eq!(model["parentSpanId"], generate["spanId"]);
        let a = attrs(model);
        assert_eq!(a["gen_ai.operation.name"], json!("chat"), "{a:#}");
        assert_eq!(a["gen_ai.provider.name"], json!("gcp.gemini"), "{a:#}");
        assert_eq!(
            a["gen_ai.request.model"],
            json!("gemini-2.0-flash"),
            "{a:#}"
        );
        assert_eq!(
            json_attr(model, "gen_ai.response.finish_reasons"),
            json!(["stop"]),
            "{a:#}"
        );
        // Token counts as numbers, and the model version the server reported.
        let output = json_attr(model, "genkit:output");
        for (attr, usage) in [
            ("gen_ai.usage.input_tokens", "inputTokens"),
            ("gen_ai.usage.output_tokens", "outputTokens"),
        ] {
            assert!(a[attr].as_u64().is_some_and(|n| n > 0), "{attr}: {a:#}");
            assert_eq!(a[attr], output["usage"][usage], "{attr}: {a:#}");
        }
        assert_eq!(
            a["gen_ai.response.model"], output["custom"]["modelVersion"],
            "{a:#}"
        );
        assert!(a["gen_ai.response.model"].is_string(), "{a:#}");
    }
}

#[test]
fn genkit_start_runs_flows_streams_traces_and_batches() {
    let _one = one_at_a_time();
    let dir = project_dir("start");
    // A stale runtime file from a dead process confuses nothing.
    let runtimes = dir.join(".genkit/runtimes");
    std::fs::create_dir_all(&runtimes).expect("runtimes dir");
    std::fs::write(
        runtimes.join("999999-3100-1.json"),
        r#"{"id":"999999-3100","pid":999999,"reflectionServerUrl":"http://127.0.0.1:1","timestamp":"2020-01-01T00:00:00.000Z","genkitVersion":"rust/0.0.0","reflectionApiSpecVersion":1}"#,
    )
    .expect("stale file");
    let mut started = Started::launch(&dir, true);
    let (file, info) = wait_runtime_file(&dir, &mut started);
    let pid = info["pid"].as_u64().expect("pid");
    assert_eq!(info["reflectionApiSpecVersion"], json!(1));
    assert!(
        info["genkitVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("rust/"))
    );
    assert!(
        info.get("name").is_none_or(Value::is_string),
        "never `name: null`"
    );
    // main's work is done (it printed its report) but the runtime stays up.
    started.wait_output("the example's output", |o| {
        o.contains("using local").then_some(String::new())
    });

    // Plain run: result and trace id.
    let out = cli(&dir, &["flow:run", "research_flow", r#"{"query":"Rust"}"#]);
    let plain = text(&out);
    assert!(out.status.success(), "{plain}");
    assert!(plain.contains("Result:"), "{plain}");
    let trace = trace_id_of(&plain);

    // Streamed run.
    let out = cli(
        &dir,
        &["flow:run", "research_flow", r#"{"query":"Rust"}"#, "-s"],
    );
    let streamed = text(&out);
    assert!(out.status.success(), "{streamed}");
    assert!(streamed.contains("Result:"), "{streamed}");
    // The flow relays its generate chunks: the tool turn's chunk is printed before
    // the result (the result itself is a plain string).
    let (chunks, _) = streamed.split_once("Result:").unwrap_or_default();
    assert!(chunks.contains("toolResponse"), "{streamed}");
    assert!(chunks.contains("web_search"), "{streamed}");
    trace_id_of(&streamed);

    // Bad input: an error, not a crash.
    let out = cli(&dir, &["flow:run", "research_flow", r#"{"query":5}"#]);
    let bad = text(&out);
    assert!(bad.contains("INVALID_ARGUMENT"), "{bad}");
    assert!(pid_alive(pid), "the runtime survived bad input");

    // The trace of the plain run, read back from the telemetry server.
    let out = cli(&dir, &["trace:get", &trace]);
    let got = text(&out);
    assert!(out.status.success(), "{got}");
    for name in [
        "research_flow",
        "generate",
        "googleai/gemini-2.0-flash",
        "web_search",
    ] {
        assert!(got.contains(name), "span {name} in trace:\n{got}");
    }
    // The same trace as the Dev UI reads it: every span keeps its input and output.
    assert_dev_ui_trace(&dir, &trace);

    // Batch run.
    let batch = dir.join("batch.json");
    std::fs::write(&batch, r#"[{"query":"alpha"},{"query":"beta"}]"#).expect("batch file");
    let out = cli(
        &dir,
        &[
            "flow:batchRun",
            "research_flow",
            batch.to_str().expect("path"),
        ],
    );
    let batched = text(&out);
    assert!(out.status.success(), "{batched}");
    assert!(
        batched.contains("alpha") && batched.contains("beta"),
        "{batched}"
    );

    // Ending the CLI ends the runtime, which removes its file.
    started.interrupt();
    wait_until("the runtime to exit", 30, || !pid_alive(pid));
    assert!(
        !file.exists(),
        "runtime file removed on exit: {}",
        file.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `genkit start` with the Dev UI, once the UI knows our runtime: the session and the
/// UI's address.
fn dev_ui(dir: &Path) -> (Started, String) {
    let mut started = Started::launch(dir, false);
    let (_, info) = wait_runtime_file(dir, &mut started);
    let ui = started.wait_output("the Dev UI address", |o| {
        o.lines()
            .find_map(|l| l.split("Genkit Developer UI:").nth(1))
            .map(|u| u.trim().to_owned())
    });
    let id = info["id"].as_str().unwrap_or("?").to_owned();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, body) = http(&ui, "GET", "/api/getActiveRuntimes", "");
        if status == 200 && body.contains(&id) {
            break;
        }
        // On a timeout, say what the CLI printed and whether the runtime file is still
        // there (the CLI deletes the file of a runtime whose health check fails).
        assert!(
            Instant::now() < deadline,
            "the Dev UI at {ui} never listed runtime {id}: getActiveRuntimes {status} {body}\nruntime files: {:?}\nCLI output:\n{}",
            std::fs::read_dir(dir.join(".genkit/runtimes"))
                .map(|d| d
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name())
                    .collect::<Vec<_>>())
                .unwrap_or_default(),
            started.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (started, ui)
}

#[test]
fn dev_ui_api_lists_our_actions_and_runs_a_flow() {
    let _one = one_at_a_time();
    let dir = project_dir("ui");
    // The UI knows our runtime...
    let (mut started, ui) = dev_ui(&dir);
    // ... lists its actions ...
    let (status, body) = http(&ui, "GET", "/api/listActions", "");
    assert_eq!(status, 200, "{body}");
    let actions: Value = serde_json::from_str(&body).expect("listActions JSON");
    let actions = &actions["result"]["data"];
    for key in [
        "/flow/research_flow",
        "/tool/web_search",
        "/model/googleai/gemini-2.0-flash",
        "/util/generate",
    ] {
        assert_eq!(actions[key]["key"], json!(key), "{key} in {actions}");
    }
    // ... and runs a flow.
    let (status, body) = http(
        &ui,
        "POST",
        "/api/runAction",
        &json!({"key": "/flow/research_flow", "input": {"query": "Rust"}}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let run: Value = serde_json::from_str(&body).expect("runAction JSON");
    assert!(
        run["result"].as_str().is_some_and(|r| !r.is_empty()),
        "{run}"
    );
    assert_eq!(
        run["telemetry"]["traceId"].as_str().map(str::len),
        Some(32),
        "{run}"
    );
    // The Dev UI's model runner: a streamed model call, chunks then the response.
    let (status, body) = http(
        &ui,
        "POST",
        "/api/streamAction",
        &json!({
            "key": "/model/googleai/gemini-2.0-flash",
            "input": {"messages": [{"role": "user", "content": [{"text": "Say hi"}]}]}
        })
        .to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (last, chunks) = lines.split_last().expect("lines");
    assert!(!chunks.is_empty(), "streamed chunks: {body}");
    assert!(chunks.iter().all(|c| c["content"].is_array()), "{body}");
    assert_eq!(last["result"]["message"]["role"], json!("model"), "{body}");
    assert_eq!(last["result"]["finishReason"], json!("stop"), "{body}");
    started.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_shot_flow_run_uses_reflection_v2() {
    let _one = one_at_a_time();
    let dir = project_dir("oneshot");
    let bin = research_bin();
    let out = cli(
        &dir,
        &[
            "flow:run",
            "research_flow",
            r#"{"query":"Rust"}"#,
            "--",
            bin.to_str().expect("path"),
        ],
    );
    let got = text(&out);
    assert!(out.status.success(), "{got}");
    assert!(got.contains("Result:"), "{got}");
    trace_id_of(&got);
    // v2 needs no runtime file.
    assert!(
        !dir.join(".genkit/runtimes").exists()
            || std::fs::read_dir(dir.join(".genkit/runtimes"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The research example registers every provider: the Dev UI lists the models each
/// plugin knows and runs `/util/generate` with any of them, listed or not.
#[test]
fn dev_ui_lists_and_runs_every_providers_models() {
    let _one = one_at_a_time();
    let dir = project_dir("providers");
    let (mut started, ui) = dev_ui(&dir);
    let (status, body) = http(&ui, "GET", "/api/listActions", "");
    assert_eq!(status, 200, "{body}");
    let actions: Value = serde_json::from_str(&body).expect("listActions JSON");
    let actions = &actions["result"]["data"];
    for key in [
        "/model/openai/gpt-4o-mini",
        "/model/openai/gpt-5",
        "/embedder/openai/text-embedding-3-small",
        "/model/googleai/gemini-2.5-flash-lite",
        "/model/googleai/gemini-3-pro-preview",
        "/model/anthropic/claude-sonnet-4-5",
        "/model/anthropic/claude-haiku-4-5",
    ] {
        assert_eq!(actions[key]["key"], json!(key), "{key} in {actions}");
    }
    let supports = &actions["/model/openai/gpt-4o-mini"]["metadata"]["model"]["supports"];
    assert_eq!(supports["tools"], json!(true), "{supports}");
    // The Dev UI's generate runner, with a listed model, an unlisted one, and one the
    // provider does not have.
    let generate = |model: &str| {
        let input = json!({"model": model, "messages": [{"role": "user", "content": [{"text": "Say hi"}]}]});
        let (status, body) = http(
            &ui,
            "POST",
            "/api/runAction",
            &json!({"key": "/util/generate", "input": input}).to_string(),
        );
        (status, body)
    };
    for (model, answer) in [
        (
            "openai/gpt-4o-mini",
            "local OpenAI server (gpt-4o-mini) answering: Say hi",
        ),
        (
            "openai/gpt-4.5-preview",
            "local OpenAI server (gpt-4.5-preview) answering: Say hi",
        ),
        (
            "googleai/gemini-3-pro-preview",
            "local Gemini server (gemini-3-pro-preview) answering: Say hi",
        ),
        (
            "anthropic/claude-3-haiku-20240307",
            "local Anthropic server (claude-3-haiku-20240307) answering: Say hi",
        ),
    ] {
        let (status, body) = generate(model);
        assert_eq!(status, 200, "{model}: {body}");
        let run: Value = serde_json::from_str(&body).expect("runAction JSON");
        assert_eq!(
            run["result"]["message"]["content"][0]["text"]
                .as_str()
                .map(|t| t.contains(answer)),
            Some(true),
            "{model}: {run}"
        );
    }
    // The Dev UI's API answers 200 with the runtime's error inside.
    let (_, body) = generate("openai/llama-x");
    let err: Value = serde_json::from_str(&body).expect("runAction JSON");
    assert_eq!(err["error"]["code"], json!(5), "NOT_FOUND: {body}");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("The model `llama-x` does not exist")),
        "{body}"
    );
    started.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}
