//! `ToolApproval` against the local Gemini-compatible server over real HTTP: interrupt,
//! then resume by approving, denying, or answering with a replacement output.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{genkit, server};
use genkit_core::{Error, FinishReason, Genkit, Role, Status, ToolAction, ToolRef};
use genkit_middleware::ToolApproval;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct DeleteInput {
    /// The file to delete.
    path: String,
}

fn delete_file(runs: Arc<AtomicUsize>) -> ToolRef {
    Arc::new(ToolAction::new(
        "delete_file",
        "Delete a file",
        move |input: DeleteInput, _ctx| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Error>(format!("deleted {}", input.path)) }
        },
    ))
}

async fn interrupted(ai: &Genkit, tool: &ToolRef) -> genkit_core::GenerateResponse {
    let r = ai
        .generate()
        .prompt("Delete file: notes.txt")
        .tools([tool])
        .use_(ToolApproval::new())
        .await
        .unwrap();
    assert_eq!(r.finish_reason, Some(FinishReason::Interrupted));
    r
}

#[tokio::test]
async fn an_unapproved_tool_interrupts_with_genkits_data() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = delete_file(runs.clone());
    let r = interrupted(&ai, &tool).await;
    let interrupts = r.interrupts();
    assert_eq!(interrupts.len(), 1);
    let part = interrupts[0];
    assert_eq!(part.tool_request.as_ref().unwrap().name, "delete_file");
    assert_eq!(
        part.metadata_value("interrupt"),
        Some(&json!({"message": "Tool not in approved list: delete_file"}))
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(srv.requests().len(), 1);
}

#[tokio::test]
async fn approving_runs_the_tool_and_continues_the_same_generation() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = delete_file(runs.clone());
    let r = interrupted(&ai, &tool).await;
    let part = r.interrupts()[0].clone();
    let r = ai
        .generate()
        .messages(r.messages())
        .tools([&tool])
        .use_(ToolApproval::new())
        .restart(&part, json!({"toolApproved": true}))
        .await
        .unwrap();
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.text(), "Based on delete_file: deleted notes.txt");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // History: user, model (tool request, resolved), tool (resumed), model.
    let msgs = r.messages();
    let roles: Vec<Role> = msgs.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Model, Role::Tool, Role::Model]);
    assert!(
        msgs[1].content[0]
            .metadata_value("resolvedInterrupt")
            .is_some()
    );
    assert_eq!(
        msgs[2].content[0].tool_response.as_ref().unwrap().output,
        Some(json!("deleted notes.txt"))
    );
}

#[tokio::test]
async fn denying_answers_for_the_tool_without_running_it() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = delete_file(runs.clone());
    let r = interrupted(&ai, &tool).await;
    let part = r.interrupts()[0].clone();
    let r = ai
        .generate()
        .messages(r.messages())
        .tools([&tool])
        .use_(ToolApproval::new())
        .respond(&part, ToolApproval::denied("The user declined."))
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(
        r.text(),
        r#"Based on delete_file: {"status":"denied","message":"The user declined."}"#
    );
}

#[tokio::test]
async fn a_replaced_output_is_what_the_model_sees() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = delete_file(runs.clone());
    let r = interrupted(&ai, &tool).await;
    let part = r.interrupts()[0].clone();
    let r = ai
        .generate()
        .messages(r.messages())
        .tools([&tool])
        .use_(ToolApproval::new())
        .respond(&part, json!("moved notes.txt to the trash instead"))
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(
        r.text(),
        "Based on delete_file: moved notes.txt to the trash instead"
    );
    let tool_msg = &r.messages()[2];
    assert_eq!(
        tool_msg.content[0].metadata_value("interruptResponse"),
        Some(&json!(true))
    );
}

#[tokio::test]
async fn allowed_tools_run_and_a_bare_resume_does_not_approve() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = delete_file(runs.clone());
    let r = ai
        .generate()
        .prompt("Delete file: a.txt")
        .tools([&tool])
        .use_(ToolApproval::allowed_tools(["delete_file"]))
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on delete_file: deleted a.txt");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // `resumed: true` without `toolApproved` is not an approval: the restarted tool
    // interrupts again.
    let r = interrupted(&ai, &tool).await;
    let part = r.interrupts()[0].clone();
    let e = ai
        .generate()
        .messages(r.messages())
        .tools([&tool])
        .use_(ToolApproval::new())
        .restart(&part, json!(true))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::FailedPrecondition);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn tool_approval_by_name_in_util_generate() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let runs = Arc::new(AtomicUsize::new(0));
    ai.registry()
        .register_tool(delete_file(runs.clone()))
        .unwrap();
    let out = ai
        .run_action(
            "/util/generate",
            json!({
                "messages": [{"role": "user", "content": [{"text": "Delete file: b.txt"}]}],
                "tools": ["delete_file"],
                "use": [{"name": "tool_approval", "config": {"allowedTools": []}}],
            }),
            genkit_core::RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(out["finishReason"], json!("interrupted"));
    assert_eq!(
        out["message"]["content"][0]["metadata"]["interrupt"]["message"],
        json!("Tool not in approved list: delete_file")
    );
    // Resume with `resume.restart` and `metadata.resumed.toolApproved`, as the Dev UI
    // would send it.
    let mut messages = out["request"]["messages"].as_array().unwrap().clone();
    messages.push(out["message"].clone());
    let mut restart = out["message"]["content"][0].clone();
    restart["metadata"] = json!({"resumed": {"toolApproved": true}});
    let out = ai
        .run_action(
            "/util/generate",
            json!({
                "messages": messages,
                "tools": ["delete_file"],
                "resume": {"restart": [restart]},
                "use": [{"name": "tool_approval"}],
            }),
            genkit_core::RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        out["message"]["content"][0]["text"],
        json!("Based on delete_file: deleted b.txt")
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
