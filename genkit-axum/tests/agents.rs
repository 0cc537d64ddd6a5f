//! Agents over real HTTP on 127.0.0.1, as genkit-fastapi's serve_agent: turns with
//! server-managed and client-managed state, streaming, snapshots, abort, body shapes.

mod common;

use std::time::Duration;

use axum::Router;
use common::{app, frames, serve};
use genkit_axum::{ServeOptions, agent, agent_with, api_key};
use genkit_core::agent::InMemorySessionStore;
use serde_json::{Value, json};

async fn post(url: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("send");
    let code = r.status().as_u16();
    let text = r.text().await.expect("body");
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn user(text: &str) -> Value {
    json!({"message": {"role": "user", "content": [{"text": text}]}})
}

/// Every text of the contents of a model request, joined.
fn request_text(body: &Value) -> String {
    body["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p["text"].as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn server_managed_turns_remember_and_snapshots_can_be_read() {
    let a = app().await;
    let my_agent =
        a.ai.define_agent("myAgent")
            .system("You are a helpful assistant.")
            .store(InMemorySessionStore::new())
            .build()
            .expect("agent");
    let url = serve(Router::new().merge(agent(my_agent))).await;

    let (code, first) = post(
        &format!("{url}/myAgent"),
        json!({"data": user("My name is Ada."), "init": {}}),
    )
    .await;
    assert_eq!(code, 200, "{first}");
    let first = &first["result"];
    let snapshot = first["snapshotId"]
        .as_str()
        .expect("snapshotId")
        .to_string();
    let session = first["sessionId"].as_str().expect("sessionId").to_string();
    assert_eq!(first["finishReason"], "stop");
    assert!(
        first.get("state").is_none(),
        "server-managed output carries no state"
    );

    let (code, second) = post(
        &format!("{url}/myAgent"),
        json!({"data": user("What is my name?"), "init": {"snapshotId": snapshot}}),
    )
    .await;
    assert_eq!(code, 200, "{second}");
    assert_eq!(second["result"]["sessionId"], session.as_str());
    // The second model call saw the first turn.
    let requests = a.gemini.requests();
    assert_eq!(requests.len(), 2);
    let seen = request_text(&requests[1].body);
    assert!(
        seen.contains("My name is Ada.") && seen.contains("What is my name?"),
        "{seen}"
    );

    let latest = second["result"]["snapshotId"].as_str().expect("snapshotId");
    let (code, snap) = post(
        &format!("{url}/myAgent/getSnapshot"),
        json!({"data": {"snapshotId": latest}}),
    )
    .await;
    assert_eq!(code, 200, "{snap}");
    assert_eq!(snap["result"]["status"], "completed");
    assert_eq!(
        snap["result"]["state"]["messages"].as_array().map(Vec::len),
        Some(4)
    );
    let (code, by_session) = post(
        &format!("{url}/myAgent/getSnapshot"),
        json!({"data": {"sessionId": session}}),
    )
    .await;
    assert_eq!(
        (code, by_session["result"]["snapshotId"].as_str()),
        (200, Some(latest))
    );
    let r = reqwest::Client::new()
        .post(format!("{url}/myAgent/getSnapshot"))
        .json(&json!({"data": "no-such-snapshot"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let (code, both) = post(
        &format!("{url}/myAgent/getSnapshot"),
        json!({"data": {"snapshotId": latest, "sessionId": session}}),
    )
    .await;
    assert_eq!(
        (code, both["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );

    // Aborting a finished turn changes nothing and reports its status.
    let (code, aborted) = post(
        &format!("{url}/myAgent/abort"),
        json!({"data": {"snapshotId": latest}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        aborted["result"],
        json!({"snapshotId": latest, "status": "completed"})
    );
}

#[tokio::test]
async fn a_streamed_turn_sends_chunks_then_the_output() {
    let a = app().await;
    let my_agent =
        a.ai.define_agent("myAgent")
            .store(InMemorySessionStore::new())
            .build()
            .expect("agent");
    let url = serve(agent(my_agent)).await;
    let r = reqwest::Client::new()
        .post(format!("{url}/myAgent?stream=true"))
        .json(&json!({"data": user("Tell me about Rust.")}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let frames = frames(&r.text().await.expect("body"));
    let (last, chunks) = frames.split_last().expect("frames");
    let out = &last["result"];
    assert_eq!(out["finishReason"], "stop");
    let streamed: String = chunks
        .iter()
        .filter_map(|c| c["message"]["modelChunk"]["content"][0]["text"].as_str())
        .collect();
    assert!(streamed.contains("Tell me about Rust."), "{streamed}");
    let turn_end = chunks
        .iter()
        .find_map(|c| c["message"].get("turnEnd"))
        .expect("a turnEnd chunk");
    assert_eq!(turn_end["snapshotId"], out["snapshotId"]);
}

#[tokio::test]
async fn client_managed_state_travels_with_the_client() {
    let a = app().await;
    let my_agent = a.ai.define_agent("notes").build().expect("agent");
    let url = serve(agent(my_agent)).await;
    let (code, first) = post(
        &format!("{url}/notes"),
        json!({"message": "Remember: blue."}),
    )
    .await;
    assert_eq!(code, 200, "{first}");
    let state = first["result"]["state"].clone();
    assert!(state["messages"].is_array(), "{first}");
    assert!(first["result"].get("snapshotId").is_none());
    let (code, second) = post(
        &format!("{url}/notes"),
        json!({"data": user("Which colour?"), "init": {"state": state}}),
    )
    .await;
    assert_eq!(code, 200, "{second}");
    let seen = request_text(&a.gemini.requests()[1].body);
    assert!(
        seen.contains("Remember: blue.") && seen.contains("Which colour?"),
        "{seen}"
    );
    // No store: no snapshot routes, and a snapshot id is refused.
    let (code, _) = post(&format!("{url}/notes/getSnapshot"), json!({"data": "x"})).await;
    assert_eq!(code, 404);
    let (code, refused) = post(
        &format!("{url}/notes"),
        json!({"data": user("hi"), "init": {"snapshotId": "s1"}}),
    )
    .await;
    assert_eq!(code, 400, "{refused}");
    assert_eq!(refused["status"], "FAILED_PRECONDITION");
}

#[tokio::test]
async fn body_shapes_are_those_of_serve_agent() {
    let a = app().await;
    let my_agent =
        a.ai.define_agent("myAgent")
            .store(InMemorySessionStore::new())
            .build()
            .expect("agent");
    let opts = ServeOptions::new().context(api_key("Bearer k"));
    let url = serve(agent_with(my_agent, "/chat/", opts)).await;
    let client = reqwest::Client::new();
    let send = |body: Value, path: &'static str| {
        let req = client
            .post(format!("{url}{path}"))
            .bearer_auth("k")
            .json(&body);
        async move {
            let r = req.send().await.expect("send");
            let code = r.status().as_u16();
            (code, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // `?session_id=` names the session.
    let (code, out) = send(json!({"message": "hello"}), "/chat?session_id=abc").await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["result"]["sessionId"], "abc");
    // `input` instead of `data`; the session continues by id.
    let (code, out) = send(
        json!({"input": user("again"), "init": {"sessionId": "abc"}}),
        "/chat",
    )
    .await;
    assert_eq!(code, 200, "{out}");
    let seen = request_text(&a.gemini.requests()[1].body);
    assert!(seen.contains("hello") && seen.contains("again"), "{seen}");
    // Shapes that are not a turn.
    let (code, out) = send(json!({"foo": 1}), "/chat").await;
    assert_eq!(
        (code, out["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let (code, out) = send(json!({"data": {"mesage": "typo"}}), "/chat").await;
    assert_eq!(code, 400);
    assert!(
        out["message"].as_str().unwrap_or("").contains("mesage"),
        "{out}"
    );
    let (code, out) = send(json!({"data": null, "init": {"snapshot": "x"}}), "/chat").await;
    assert_eq!(code, 400);
    assert!(
        out["message"].as_str().unwrap_or("").contains("snapshot"),
        "{out}"
    );
    // Auth applies to every route.
    let r = client
        .post(format!("{url}/chat/getSnapshot"))
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn a_detached_turn_can_be_aborted() {
    let a = app().await;
    let my_agent =
        a.ai.define_agent("myAgent")
            .store(InMemorySessionStore::new())
            .abort_poll_interval(Duration::from_millis(20))
            .build()
            .expect("agent");
    let url = serve(agent(my_agent)).await;
    // A slow model keeps the detached turn running while it is aborted.
    a.gemini.set_latency(Duration::from_secs(5));
    let mut input = user("A long task.");
    input["detach"] = json!(true);
    let (code, out) = post(&format!("{url}/myAgent"), json!({"data": input})).await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["result"]["finishReason"], "detached");
    let snapshot = out["result"]["snapshotId"]
        .as_str()
        .expect("snapshotId")
        .to_string();
    let (code, aborted) = post(&format!("{url}/myAgent/abort"), json!({"data": snapshot})).await;
    assert_eq!(code, 200, "{aborted}");
    assert_eq!(
        aborted["result"],
        json!({"snapshotId": snapshot, "status": "pending"})
    );
    let (_, snap) = post(
        &format!("{url}/myAgent/getSnapshot"),
        json!({"data": {"snapshotId": snapshot}}),
    )
    .await;
    assert_eq!(snap["result"]["status"], "aborted");
}
