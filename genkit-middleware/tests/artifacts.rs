//! `Artifacts` inside an agent: `write_artifact` adds a session artifact (streamed as an
//! `artifact` chunk and kept in the snapshot), the next model call sees it listed, and
//! `read_artifact` returns it; outside a session both tools explain instead of failing.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use genkit_core::agent::{GetSnapshotRequest, InMemorySessionStore};
use genkit_core::{GenerateResponse, Genkit, Message, ModelInfo, Part, Role, ToolAction, text_of};
use genkit_middleware::{ARTIFACTS_MARKER, Artifacts};
use serde_json::{Value, json};

/// A scripted model: "write …" asks for write_artifact, "read …" for read_artifact, a
/// tool result is answered with its JSON. Records the system text of every call.
async fn instance(systems: Arc<Mutex<Vec<String>>>) -> Genkit {
    let ai = Genkit::builder()
        .without_submitted_actions()
        .build()
        .await
        .expect("genkit");
    ai.define_model("scripted", ModelInfo::default(), move |req, _| {
        let systems = systems.clone();
        async move {
            let system: String = req
                .messages
                .iter()
                .filter(|m| m.role == Role::System)
                .map(|m| text_of(&m.content))
                .collect();
            systems.lock().expect("lock").push(system);
            let last = req.messages.last().expect("a message");
            if let Some(out) = last.content.iter().find_map(|p| p.tool_response.as_ref()) {
                let out = out.output.clone().unwrap_or(Value::Null);
                return Ok(GenerateResponse::from_text(out.to_string()));
            }
            let text = last.text();
            let call = if text.starts_with("write") {
                Part::tool_request(
                    "write_artifact",
                    Some("w".into()),
                    json!({"name": "notes", "content": "hello world"}),
                )
            } else {
                Part::tool_request("read_artifact", Some("r".into()), json!({"name": "notes"}))
            };
            Ok(GenerateResponse::from_message(Message::new(
                Role::Model,
                vec![call],
            )))
        }
    })
    .expect("model");
    ai
}

#[tokio::test]
async fn artifacts_are_written_listed_and_read_within_a_session() {
    let systems = Arc::new(Mutex::new(Vec::new()));
    let ai = instance(systems.clone()).await;
    let agent = ai
        .define_agent("writer")
        .model("scripted")
        .system("You keep notes.")
        .use_(Artifacts::new())
        .store(InMemorySessionStore::new())
        .build()
        .expect("agent");

    let mut conn = agent.stream_bidi().await.expect("connection");
    conn.send_text("write the notes").await.expect("send");
    conn.send_text("read the notes").await.expect("send");
    conn.close();
    let mut artifacts = Vec::new();
    let mut texts = Vec::new();
    while let Some(chunk) = conn.next().await {
        let chunk = chunk.expect("chunk");
        if let Some(a) = chunk.artifact {
            artifacts.push(a);
        }
        if let Some(m) = chunk.model_chunk {
            texts.push(m.text());
        }
    }
    let output = conn.output().await.expect("output");
    assert_eq!(artifacts.len(), 1, "one artifact chunk, from the write");
    assert_eq!(artifacts[0].name.as_deref(), Some("notes"));
    assert_eq!(text_of(&artifacts[0].parts), "hello world");

    // The read turn answered with the artifact's content.
    let reply: Value =
        serde_json::from_str(&output.message.expect("message").text()).expect("json reply");
    assert_eq!(
        reply,
        json!({"name": "notes", "content": "hello world", "found": true})
    );

    // Every model call had the listing; after the write it names the artifact.
    let systems = systems.lock().expect("lock").clone();
    assert!(
        systems.iter().all(|s| s.contains("<artifacts>")),
        "{systems:#?}"
    );
    assert!(systems[0].contains("(none yet)"), "{}", systems[0]);
    assert!(systems.last().expect("calls").contains("notes (11 chars)"));

    // The snapshot keeps the artifact, and the listing never entered the history.
    let snap = agent
        .get_snapshot(GetSnapshotRequest::snapshot(
            output.snapshot_id.expect("snapshot id"),
        ))
        .await
        .expect("read")
        .expect("snapshot");
    let state = snap.state.expect("state");
    assert_eq!(state.artifacts.len(), 1);
    let history = serde_json::to_string(&state.messages).expect("json");
    assert!(!history.contains(ARTIFACTS_MARKER), "{history}");
}

#[tokio::test]
async fn outside_a_session_the_tools_explain_instead_of_failing() {
    let ai = instance(Arc::default()).await;
    let r = ai
        .generate()
        .model("scripted")
        .prompt("read the notes")
        .use_(Artifacts::new())
        .await
        .expect("generate");
    let reply: Value = serde_json::from_str(&r.text()).expect("json");
    assert_eq!(reply["found"], false);
    assert!(
        reply["content"]
            .as_str()
            .expect("text")
            .contains("No agent session")
    );

    // Read-only offers no write tool.
    let tools: Vec<String> = genkit_core::Middleware::tools(&Artifacts::new().readonly(true))
        .iter()
        .map(|t: &Arc<ToolAction>| t.name().to_string())
        .collect();
    assert_eq!(tools, ["read_artifact"]);
}
