//! Agents against the local Gemini-compatible server over HTTP, with every store.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{genkit_on, tempdir};
use futures::StreamExt;
use genkit_core::agent::{
    Agent, AgentFinishReason, AgentInit, AgentInput, AgentStreamChunk, Artifact, FileSessionStore,
    GetSnapshotRequest, InMemorySessionStore, SessionStore, SnapshotStatus, current_session,
};
use genkit_core::{Error, Genkit, Part, RunOptions, Status, ToolContext};
use genkit_googleai::server::{LocalGemini, Reply};
use genkit_store::SqliteSessionStore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

fn agent(ai: &Genkit, store: Option<Arc<dyn SessionStore>>) -> Agent {
    let b = ai
        .define_agent("myAgent")
        .system("You are a helpful assistant.")
        .tools(["web_search"]);
    match store {
        Some(s) => b.store_ref(s),
        None => b,
    }
    .build()
    .expect("agent")
}

async fn collect(conn: &mut genkit_core::agent::BidiConnection) -> Vec<AgentStreamChunk> {
    let mut out = Vec::new();
    while let Some(c) = conn.next().await {
        out.push(c.expect("chunk"));
    }
    out
}

fn turn_ends(chunks: &[AgentStreamChunk]) -> Vec<(Option<String>, Option<AgentFinishReason>)> {
    chunks
        .iter()
        .filter_map(|c| c.turn_end.as_ref())
        .map(|t| (t.snapshot_id.clone(), t.finish_reason))
        .collect()
}

fn user_texts(msgs: &genkit_core::agent::Messages) -> Vec<String> {
    msgs.iter()
        .filter(|m| m.role == genkit_core::Role::User)
        .map(|m| m.text())
        .collect()
}

/// A turn's snapshot holds the messages of the snapshot it continues (the same
/// allocations, not copies), loads hand them back shared, and the JSON is that of a
/// plain `Vec<Message>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_turns_share_history_with_the_snapshots_they_continue() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new());
    let agent = agent(&ai, Some(store.clone()));
    let mut ids = Vec::new();
    for text in ["Hello", "Search: rust", "Again"] {
        let out = agent
            .run(
                AgentInit::session("shared"),
                AgentInput::text(text),
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop), "{out:?}");
        ids.push(out.snapshot_id.unwrap());
    }
    let mut earlier: Option<genkit_core::agent::Messages> = None;
    for id in &ids {
        let state = store
            .get_snapshot(id)
            .await
            .unwrap()
            .unwrap()
            .state
            .unwrap();
        let msgs = state.messages;
        if let Some(before) = &earlier {
            assert!(msgs.len() > before.len());
            for (a, b) in before.iter_shared().zip(msgs.iter_shared()) {
                assert!(Arc::ptr_eq(a, b), "a copied message: {a:?}");
            }
        }
        // Two loads of one snapshot share everything.
        let again = store
            .get_snapshot(id)
            .await
            .unwrap()
            .unwrap()
            .state
            .unwrap();
        assert!(
            msgs.iter_shared()
                .zip(again.messages.iter_shared())
                .all(|(a, b)| Arc::ptr_eq(a, b))
        );
        assert_eq!(
            serde_json::to_string(&msgs).unwrap(),
            serde_json::to_string(&msgs.to_vec()).unwrap()
        );
        earlier = Some(msgs);
    }
    assert_eq!(
        user_texts(&earlier.unwrap()),
        ["Hello", "Search: rust", "Again"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidi_multi_turn_with_tools_and_inputs_in_order() {
    let server = LocalGemini::start().await.unwrap();
    // Slow streaming so the later inputs arrive while the first turn runs.
    server.set_stream_pace(Duration::from_millis(20));
    let ai = genkit_on(&server).await;
    let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new());
    let agent = agent(&ai, Some(store.clone()));
    let mut conn = agent.stream_bidi().await.unwrap();
    conn.send_text("Search: rust").await.unwrap();
    let first = conn.next().await.expect("a chunk").unwrap();
    assert!(first.model_chunk.is_some(), "{first:?}");
    conn.send_text("Search: go").await.unwrap();
    conn.send_text("Search: zig").await.unwrap();
    conn.close();
    assert_eq!(
        conn.send_text("late").await.unwrap_err().status(),
        Status::FailedPrecondition
    );
    let mut chunks = vec![first];
    chunks.extend(collect(&mut conn).await);
    let ends = turn_ends(&chunks);
    assert_eq!(ends.len(), 3, "{ends:?}");
    assert!(
        ends.iter()
            .all(|(id, r)| id.is_some() && *r == Some(AgentFinishReason::Stop))
    );
    let tool_requests = chunks
        .iter()
        .filter_map(|c| c.model_chunk.as_ref())
        .flat_map(|m| m.tool_requests())
        .filter(|t| t.name == "web_search")
        .count();
    assert_eq!(tool_requests, 3);
    let out = conn.output().await.unwrap();
    assert_eq!(out.snapshot_id, ends[2].0);
    assert!(
        out.text().contains("Based on web_search: Results for: zig"),
        "{}",
        out.text()
    );
    let snap = agent
        .get_snapshot(GetSnapshotRequest::snapshot(
            out.snapshot_id.clone().unwrap(),
        ))
        .await
        .unwrap()
        .unwrap();
    let state = snap.state.unwrap();
    assert_eq!(
        user_texts(&state.messages),
        ["Search: rust", "Search: go", "Search: zig"]
    );
    // The preamble is sent, not stored.
    assert!(
        state
            .messages
            .iter()
            .all(|m| m.role != genkit_core::Role::System)
    );
    let last = server.requests().pop().unwrap();
    assert_eq!(
        last.body["systemInstruction"]["parts"][0]["text"],
        "You are a helpful assistant."
    );
    // Each snapshot continues the previous one.
    assert_eq!(snap.parent_id, ends[1].0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_mid_turn_finishes_the_turn() {
    let server = LocalGemini::start().await.unwrap();
    server.set_stream_pace(Duration::from_millis(30));
    let ai = genkit_on(&server).await;
    let agent = agent(&ai, Some(Arc::new(InMemorySessionStore::new())));
    let mut conn = agent.stream_bidi().await.unwrap();
    conn.send_text("Tell me a long story about the sea")
        .await
        .unwrap();
    let first = conn.next().await.unwrap().unwrap();
    assert!(first.model_chunk.is_some());
    conn.close();
    let rest = collect(&mut conn).await;
    assert_eq!(turn_ends(&rest).len(), 1);
    let out = conn.output().await.unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop));
    assert!(
        out.text().contains("Tell me a long story"),
        "{}",
        out.text()
    );
}

async fn resume_after_reopen(open: impl Fn() -> Arc<dyn SessionStore>) {
    let server = LocalGemini::start().await.unwrap();
    let session_id;
    let first_snapshot;
    {
        let ai = genkit_on(&server).await;
        let agent = agent(&ai, Some(open()));
        let out = agent
            .run(
                AgentInit::default(),
                AgentInput::text("My name is Ferris"),
                None,
                None,
            )
            .await
            .unwrap();
        session_id = out.session_id.unwrap();
        first_snapshot = out.snapshot_id.unwrap();
    }
    // Everything in memory is gone: a new instance, agent and store.
    let ai = genkit_on(&server).await;
    let agent = agent(&ai, Some(open()));
    let mut conn = agent
        .stream_bidi_with(AgentInit::session(&session_id))
        .await
        .unwrap();
    conn.send_text("What is my name?").await.unwrap();
    conn.close();
    let out = conn.output().await.unwrap();
    assert_eq!(out.session_id.as_deref(), Some(session_id.as_str()));
    let sent = server.requests().pop().unwrap().body.to_string();
    assert!(
        sent.contains("My name is Ferris"),
        "history not sent: {sent}"
    );
    let snap = agent
        .get_snapshot(GetSnapshotRequest::session(&session_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snap.parent_id.as_deref(), Some(first_snapshot.as_str()));
    assert_eq!(
        user_texts(&snap.state.unwrap().messages),
        ["My name is Ferris", "What is my name?"]
    );
    // And by snapshot id: a branch from the first turn.
    let out = agent
        .run(
            AgentInit::snapshot(&first_snapshot),
            AgentInput::text("Again"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_file_store_after_reopening() {
    let dir = tempdir("file-resume");
    resume_after_reopen(|| Arc::new(FileSessionStore::open(&dir).unwrap())).await;
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_sqlite_after_reopening() {
    let dir = tempdir("sqlite-resume");
    let db = dir.join("s.db");
    resume_after_reopen(|| Arc::new(SqliteSessionStore::open(&db).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_managed_state_round_trips() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let agent = agent(&ai, None);
    assert!(!agent.has_store());
    let out = agent
        .run(AgentInit::default(), AgentInput::text("Hello"), None, None)
        .await
        .unwrap();
    assert!(out.snapshot_id.is_none());
    let state = out.state.expect("client-managed output carries the state");
    assert_eq!(state.session_id, out.session_id);
    let out2 = agent
        .run(
            AgentInit::state(state.clone()),
            AgentInput::text("Again"),
            None,
            None,
        )
        .await
        .unwrap();
    let state2 = out2.state.unwrap();
    assert_eq!(state2.session_id, state.session_id);
    assert_eq!(user_texts(&state2.messages), ["Hello", "Again"]);
    // A client-managed agent has no sessions to look up.
    let err = agent
        .run(AgentInit::session("x"), AgentInput::text("Hi"), None, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
    // And detach needs a store.
    let err = agent
        .run(
            AgentInit::default(),
            AgentInput::text("Hi").detached(),
            None,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
}

fn agent_with_poll(ai: &Genkit, store: SqliteSessionStore) -> Agent {
    ai.define_agent("myAgent")
        .tools(["web_search"])
        .store(store)
        .abort_poll_interval(Duration::from_millis(20))
        .build()
        .unwrap()
}

async fn poll_until_settled(agent: &Agent, id: &str) -> genkit_core::agent::SessionSnapshot {
    for _ in 0..400 {
        let s = agent
            .get_snapshot(GetSnapshotRequest::snapshot(id))
            .await
            .unwrap()
            .unwrap();
        if s.status() != SnapshotStatus::Pending {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("snapshot {id} stayed pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detach_poll_and_abort() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let dir = tempdir("detach");
    let agent = agent(
        &ai,
        Some(Arc::new(
            SqliteSessionStore::open(dir.join("d.db")).unwrap(),
        )),
    );
    // A detached turn that completes.
    let out = agent
        .run(
            AgentInit::default(),
            AgentInput::text("Search: detached").detached(),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Detached));
    let id = out.snapshot_id.unwrap();
    let done = poll_until_settled(&agent, &id).await;
    assert_eq!(done.status(), SnapshotStatus::Completed);
    let msgs = done.state.unwrap().messages;
    assert!(msgs.last().unwrap().text().contains("Based on web_search"));
    // Aborting a finished turn changes nothing and reports its status.
    let r = agent.abort(&id).await.unwrap();
    assert_eq!(r.status, Some(SnapshotStatus::Completed));

    // A detached turn that is aborted while the model is slow.
    server.set_latency(Duration::from_secs(5));
    let out = agent
        .run(
            AgentInit::session(out.session_id.unwrap()),
            AgentInput::text("slow").detached(),
            None,
            None,
        )
        .await
        .unwrap();
    let id = out.snapshot_id.unwrap();
    let pending = agent
        .get_snapshot(GetSnapshotRequest::snapshot(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status(), SnapshotStatus::Pending);
    assert!(pending.heartbeat_at.is_some());
    // Aborted from another instance (another process): the running turn sees it by
    // polling its snapshot.
    let other_ai = genkit_on(&server).await;
    let other = agent_with_poll(
        &other_ai,
        SqliteSessionStore::open(dir.join("d.db")).unwrap(),
    );
    let r = other.abort(&id).await.unwrap();
    assert_eq!(r.status, Some(SnapshotStatus::Pending));
    let settled = poll_until_settled(&agent, &id).await;
    assert_eq!(settled.status(), SnapshotStatus::Aborted);
    // Unknown ids: no status.
    assert_eq!(agent.abort("nope").await.unwrap().status, None);
    server.set_latency(Duration::ZERO);
}

/// Two "processes" (separate instances and store handles on one database) continue
/// the same session at once: one turn wins, the other gets ABORTED, none is lost.
async fn concurrent_turns(open: impl Fn() -> Arc<dyn SessionStore>) {
    let server = LocalGemini::start().await.unwrap();
    let (ai1, ai2) = (genkit_on(&server).await, genkit_on(&server).await);
    let (a1, a2) = (agent(&ai1, Some(open())), agent(&ai2, Some(open())));
    let out = a1
        .run(AgentInit::default(), AgentInput::text("first"), None, None)
        .await
        .unwrap();
    let sid = out.session_id.unwrap();
    server.set_latency(Duration::from_millis(300));
    let (r1, r2) = tokio::join!(
        a1.run(
            AgentInit::session(&sid),
            AgentInput::text("from one"),
            None,
            None
        ),
        a2.run(
            AgentInit::session(&sid),
            AgentInput::text("from two"),
            None,
            None
        ),
    );
    server.set_latency(Duration::ZERO);
    let results = [r1, r2];
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let errs: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert_eq!(errs.len(), 1, "{results:?}");
    assert_eq!(errs[0].status(), Status::Aborted, "{}", errs[0]);
    assert!(errs[0].message().contains("advanced by another turn"));
    let leaf = a2
        .get_snapshot(GetSnapshotRequest::session(&sid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leaf.snapshot_id, ok[0].snapshot_id.clone().unwrap());
    // The loser retries on the new head: nothing lost.
    let winner_text = user_texts(&leaf.state.unwrap().messages)[1].clone();
    let loser_text = if winner_text == "from one" {
        "from two"
    } else {
        "from one"
    };
    let out = a2
        .run(
            AgentInit::session(&sid),
            AgentInput::text(loser_text),
            None,
            None,
        )
        .await
        .unwrap();
    let snap = a2
        .get_snapshot(GetSnapshotRequest::snapshot(out.snapshot_id.unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user_texts(&snap.state.unwrap().messages),
        ["first".to_string(), winner_text, loser_text.to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_turns_file_store() {
    let dir = tempdir("file-conc");
    concurrent_turns(|| Arc::new(FileSessionStore::open(&dir).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_turns_sqlite_store() {
    let dir = tempdir("sqlite-conc");
    let db = dir.join("c.db");
    concurrent_turns(|| Arc::new(SqliteSessionStore::open(&db).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_and_unknown_version_rows_are_clear_errors() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let dir = tempdir("corrupt");
    let store = SqliteSessionStore::open(dir.join("x.db")).unwrap();
    store.write_raw("bad", "s1", 1, "{not json").unwrap();
    store.write_raw("future", "s2", 7, "{}").unwrap();
    let err = store.get_snapshot("bad").await.unwrap_err();
    assert_eq!(err.status(), Status::DataLoss);
    assert!(
        err.to_string().contains("stored snapshot 'bad' is corrupt"),
        "{err}"
    );
    let err = store.get_snapshot("future").await.unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
    assert!(err.to_string().contains("format version 7"), "{err}");
    let agent = agent(&ai, Some(Arc::new(store)));
    let out = agent
        .run(
            AgentInit::snapshot("bad"),
            AgentInput::text("hi"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Failed));
    let e = out.error.unwrap();
    assert_eq!(e.status.as_deref(), Some("DATA_LOSS"));
    // The file store names the corrupt file.
    let fdir = tempdir("corrupt-file");
    std::fs::write(fdir.join("broken.json"), "[1,").unwrap();
    let fs = FileSessionStore::open(&fdir).unwrap();
    let err = fs.get_snapshot("broken").await.unwrap_err();
    assert_eq!(err.status(), Status::DataLoss);
    assert!(err.to_string().contains("broken.json"), "{err}");
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Counter {
    count: u32,
    last: String,
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct CountInput {
    word: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_custom_state_round_trip() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    ai.define_tool(
        "count_word",
        "Count a word into the session state.",
        |i: CountInput, _cx: ToolContext| async move {
            let session = current_session().ok_or_else(|| Error::internal("no session"))?;
            session.update_custom(|c: Option<Counter>| Counter {
                count: c.map_or(0, |c| c.count) + 1,
                last: i.word.clone(),
            })?;
            session.add_artifact(Artifact::new("last-word", vec![Part::text(&i.word)]));
            Ok::<_, Error>(format!("counted {}", i.word))
        },
    )
    .unwrap();
    let agent = ai
        .define_agent("counter")
        .tools(["count_word"])
        .state::<Counter>()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let out = agent
        .run(
            AgentInit::default(),
            AgentInput::text("Count word: apple"),
            Some(tx),
            None,
        )
        .await
        .unwrap();
    let mut patches = Vec::new();
    let mut artifacts = Vec::new();
    while let Ok(c) = rx.try_recv() {
        if let Some(p) = c.custom_patch {
            patches.push(p);
        }
        if let Some(a) = c.artifact {
            artifacts.push(a);
        }
    }
    assert_eq!(artifacts.len(), 1);
    assert_eq!(
        out.artifacts.as_ref().unwrap()[0].name.as_deref(),
        Some("last-word")
    );
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0][0]["op"], "replace");
    assert_eq!(patches[0][0]["path"], "");
    let state = out.state.unwrap();
    let c: Counter = state.custom_as().unwrap().unwrap();
    assert_eq!(
        c,
        Counter {
            count: 1,
            last: "apple".into()
        }
    );
    let out = agent
        .run(
            AgentInit::state(state),
            AgentInput::text("Count word: pear"),
            None,
            None,
        )
        .await
        .unwrap();
    let c: Counter = out.state.unwrap().custom_as().unwrap().unwrap();
    assert_eq!(
        c,
        Counter {
            count: 2,
            last: "pear".into()
        }
    );
    // State that does not fit the schema: a failed invocation naming the problem.
    let mut bad = genkit_core::agent::SessionState::default();
    bad.custom = Some(json!({"count": "many"}));
    let out = agent
        .run(AgentInit::state(bad), AgentInput::text("x"), None, None)
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Failed));
    let e = out.error.unwrap();
    assert_eq!(e.status.as_deref(), Some("INVALID_ARGUMENT"));
    assert!(e.details.unwrap()["schema"].is_object());
    // The schema is published in the action's metadata.
    let action = ai.registry().lookup("/agent/counter").unwrap();
    let meta = &action.desc().metadata;
    assert_eq!(meta["agent"]["stateManagement"], "client");
    assert!(meta["agent"]["stateSchema"]["properties"]["count"].is_object());
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct TransferInput {
    account: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_answered_over_the_stream() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    ai.define_tool(
        "transfer_money",
        "Transfer money to an account.",
        |i: TransferInput, cx: ToolContext| async move {
            let approved = cx
                .resumed()
                .and_then(|r| r.get("toolApproved"))
                .and_then(Value::as_bool)
                == Some(true);
            if !approved {
                return Err(cx.interrupt(json!({"message": "needs approval"})));
            }
            Ok::<_, Error>(format!("sent to {}", i.account))
        },
    )
    .unwrap();
    let agent = ai
        .define_agent("banker")
        .tools(["transfer_money"])
        .store(InMemorySessionStore::new())
        .build()
        .unwrap();
    let mut conn = agent.stream_bidi().await.unwrap();
    conn.send_text("Transfer money: acct-42").await.unwrap();
    let mut interrupt: Option<Part> = None;
    while let Some(c) = conn.next().await {
        let c = c.unwrap();
        if let Some(end) = c.turn_end {
            assert_eq!(end.finish_reason, Some(AgentFinishReason::Interrupted));
            let snap = agent
                .get_snapshot(GetSnapshotRequest::snapshot(end.snapshot_id.unwrap()))
                .await
                .unwrap()
                .unwrap();
            let msgs = snap.state.unwrap().messages;
            interrupt = msgs.last().unwrap().interrupts().next().cloned();
            break;
        }
    }
    let interrupt = interrupt.expect("an interrupted tool request");
    assert_eq!(
        interrupt.tool_request.as_ref().unwrap().name,
        "transfer_money"
    );
    conn.send(AgentInput::restart(
        &interrupt,
        json!({"toolApproved": true}),
    ))
    .await
    .unwrap();
    conn.close();
    let rest = collect(&mut conn).await;
    assert_eq!(turn_ends(&rest)[0].1, Some(AgentFinishReason::Stop));
    let out = conn.output().await.unwrap();
    assert!(out.text().contains("sent to acct-42"), "{}", out.text());
    // An answer to a request the session never made is refused.
    let out = agent
        .run(
            AgentInit::session(out.session_id.unwrap()),
            AgentInput::respond(&Part::tool_request("other", None, json!({})), json!("x")),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Failed));
    assert_eq!(
        out.error.unwrap().status.as_deref(),
        Some("INVALID_ARGUMENT")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_actions_run_with_json() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let _agent = agent(&ai, Some(Arc::new(InMemorySessionStore::new())));
    for key in [
        "/agent/myAgent",
        "/agent-snapshot/myAgent",
        "/agent-abort/myAgent",
    ] {
        assert!(ai.registry().lookup(key).is_some(), "{key}");
    }
    let desc = ai
        .registry()
        .lookup("/agent/myAgent")
        .unwrap()
        .desc()
        .to_json();
    assert_eq!(desc["metadata"]["agent"]["stateManagement"], "server");
    assert_eq!(desc["metadata"]["bidi"], true);
    assert_eq!(desc["metadata"]["type"], "agent");
    assert!(desc["metadata"]["initSchema"]["properties"]["sessionId"].is_object());
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let out = ai
        .run_action(
            "/agent/myAgent",
            json!({"message": {"role": "user", "content": [{"text": "Search: json"}]}}),
            RunOptions::streaming(tx),
        )
        .await
        .unwrap();
    let mut kinds = Vec::new();
    while let Ok(c) = rx.try_recv() {
        kinds.push(c.as_object().unwrap().keys().next().unwrap().clone());
    }
    assert!(kinds.contains(&"modelChunk".to_string()));
    assert_eq!(kinds.last().map(String::as_str), Some("turnEnd"));
    assert_eq!(out["finishReason"], "stop");
    let sid = out["snapshotId"].as_str().unwrap();
    let snap = ai
        .run_action(
            "/agent-snapshot/myAgent",
            json!({"snapshotId": sid}),
            RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(snap["status"], "completed");
    assert_eq!(snap["parentId"], "");
    let err = ai
        .run_action(
            "/agent-snapshot/myAgent",
            json!({"snapshotId": "nope"}),
            RunOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::NotFound);
    let err = ai
        .run_action("/agent-snapshot/myAgent", json!({}), RunOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    let ab = ai
        .run_action(
            "/agent-abort/myAgent",
            json!({"snapshotId": sid}),
            RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(ab, json!({"snapshotId": sid, "status": "completed"}));
    // Envelope with init: continue the session.
    let out2 = ai
        .run_action(
            "/agent/myAgent",
            json!({"init": {"snapshotId": sid}, "input": {"message": {"role": "user", "content": [{"text": "more"}]}}}),
            RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(out2["sessionId"], out["sessionId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_turn_is_recorded_and_the_session_resumes_from_the_last_good_one() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new());
    let agent = agent(&ai, Some(store.clone()));
    let mut conn = agent.stream_bidi().await.unwrap();
    conn.send_text("hello").await.unwrap();
    let mut good = None;
    while let Some(c) = conn.next().await {
        if let Some(t) = c.unwrap().turn_end {
            good = t.snapshot_id;
            break;
        }
    }
    let good = good.unwrap();
    server.push(Reply::error(400, "Request contains an invalid argument."));
    conn.send_text("this one fails").await.unwrap();
    conn.close();
    let rest = collect(&mut conn).await;
    let ends = turn_ends(&rest);
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].1, Some(AgentFinishReason::Failed));
    let failed = store
        .get_snapshot(ends[0].0.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status(), SnapshotStatus::Failed);
    assert_eq!(
        failed.error.as_ref().unwrap().status.as_deref(),
        Some("INVALID_ARGUMENT")
    );
    let out = conn.output().await.unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Failed));
    assert_eq!(
        out.snapshot_id.as_deref(),
        Some(good.as_str()),
        "the last good snapshot"
    );
    // By session id, the next turn continues from the last completed snapshot.
    let sid = out.session_id.unwrap();
    let out = agent
        .run(
            AgentInit::session(&sid),
            AgentInput::text("again"),
            None,
            None,
        )
        .await
        .unwrap();
    let snap = store
        .get_snapshot(out.snapshot_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snap.parent_id.as_deref(), Some(good.as_str()));
    assert_eq!(
        user_texts(&snap.state.unwrap().messages),
        ["hello", "again"]
    );
    // A failed snapshot cannot be resumed by id.
    let out = agent
        .run(
            AgentInit::snapshot(failed.snapshot_id),
            AgentInput::text("x"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        out.error.unwrap().status.as_deref(),
        Some("INVALID_ARGUMENT")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_store_notifies_status_changes() {
    use genkit_core::agent::SessionSnapshot;
    let store = InMemorySessionStore::new();
    let pending = |_: Option<&SessionSnapshot>| {
        let mut s = SessionSnapshot::new("s1");
        s.session_id = Some("sess".into());
        s.status = Some(SnapshotStatus::Pending);
        Some(s)
    };
    store.save_snapshot("s1", None, &pending).await.unwrap();
    let mut changes = store
        .on_snapshot_status_change("s1")
        .expect("in-memory notifies");
    assert_eq!(
        changes.next().await.unwrap().unwrap(),
        SnapshotStatus::Pending
    );
    let abort = |e: Option<&SessionSnapshot>| {
        let mut e = e?.clone();
        e.status = Some(SnapshotStatus::Aborted);
        Some(e)
    };
    store.save_snapshot("s1", None, &abort).await.unwrap();
    assert_eq!(
        changes.next().await.unwrap().unwrap(),
        SnapshotStatus::Aborted
    );
    assert!(
        changes.next().await.is_none(),
        "ends after a terminal status"
    );
    // Terminal statuses are absorbing; sessions never change.
    let revive = |e: Option<&SessionSnapshot>| {
        let mut e = e?.clone();
        e.status = Some(SnapshotStatus::Completed);
        Some(e)
    };
    let err = store.save_snapshot("s1", None, &revive).await.unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
    let err = store
        .save_snapshot("../x", None, &pending)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);

    // Two branches of one session: the newest leaf, or FAILED_PRECONDITION when asked.
    let branch = |id: &'static str, at: &'static str| {
        move |_: Option<&SessionSnapshot>| {
            let mut s = SessionSnapshot::new(id);
            s.session_id = Some("b".into());
            s.parent_id = (id != "root").then(|| "root".into());
            s.created_at = at.into();
            Some(s)
        }
    };
    let strict = InMemorySessionStore::new().reject_ambiguous(true);
    for st in [&store, &strict] {
        st.save_snapshot("root", None, &branch("root", "2026-01-01T00:00:00.000Z"))
            .await
            .unwrap();
        st.save_snapshot("b1", None, &branch("b1", "2026-01-01T00:00:01.000Z"))
            .await
            .unwrap();
        st.save_snapshot("b2", None, &branch("b2", "2026-01-01T00:00:02.000Z"))
            .await
            .unwrap();
    }
    assert_eq!(
        store.session_leaf("b").await.unwrap().unwrap().snapshot_id,
        "b2"
    );
    let err = strict.session_leaf("b").await.unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_limit_and_summarizer_hook_shorten_the_conversation() {
    let server = LocalGemini::start().await.unwrap();
    let ai = genkit_on(&server).await;
    let limited = ai
        .define_agent("short")
        .system("Be brief.")
        .history_limit(3)
        .build()
        .unwrap();
    let mut conn = limited.stream_bidi().await.unwrap();
    for t in ["one", "two", "three"] {
        conn.send_text(t).await.unwrap();
    }
    conn.close();
    let out = conn.output().await.unwrap();
    let contents = server.requests().pop().unwrap().body["contents"].clone();
    let texts: Vec<&str> = contents
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["parts"][0]["text"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[0], "two");
    assert_eq!(texts[2], "three");
    // The kept history is what the session stores (client-managed here).
    assert_eq!(user_texts(&out.state.unwrap().messages), ["two", "three"]);

    let summarized = ai
        .define_agent("summarized")
        .history_with(|mut history: Vec<genkit_core::Message>| {
            if history.len() > 1 {
                let last = history.pop().unwrap();
                let summary = format!("Summary of {} earlier messages.", history.len());
                history = vec![genkit_core::Message::user(summary), last];
            }
            history
        })
        .build()
        .unwrap();
    let mut conn = summarized.stream_bidi().await.unwrap();
    conn.send_text("alpha").await.unwrap();
    conn.send_text("beta").await.unwrap();
    conn.close();
    conn.output().await.unwrap();
    let body = server.requests().pop().unwrap().body.to_string();
    assert!(body.contains("Summary of 2 earlier messages."), "{body}");
    assert!(!body.contains("alpha"), "{body}");
}
