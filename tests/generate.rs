//! The generate loop end to end through the public API, with scripted models.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use genkit::prelude::*;
use genkit::{GenerateRequest, ToolAction, ToolRef};
use serde_json::Value;

/// A model that answers with the queued responses, in order, recording every request.
/// When streaming, it sends each text part of a reply word by word first.
struct Scripted {
    requests: Arc<Mutex<Vec<GenerateRequest>>>,
}

async fn scripted(ai: &Genkit, name: &str, replies: Vec<GenerateResponse>) -> Scripted {
    let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    ai.define_model(
        name,
        ModelInfo::new(name, ModelSupports::full()),
        move |req, cx| {
            let queue = queue.clone();
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((*req).clone());
                let reply = queue
                    .lock()
                    .unwrap()
                    .pop_front()
                    .ok_or_else(|| Error::internal("script exhausted"))?;
                if cx.is_streaming()
                    && let Some(m) = &reply.message
                {
                    for p in &m.content {
                        if let Some(t) = &p.text {
                            for w in t.split_inclusive(' ') {
                                cx.send_chunk(GenerateResponseChunk::from_text(w)).await;
                            }
                        } else {
                            cx.send_chunk(GenerateResponseChunk::new(vec![p.clone()]))
                                .await;
                        }
                    }
                }
                Ok(reply)
            }
        },
    )
    .unwrap();
    Scripted { requests }
}

fn tool_call(calls: &[(&str, &str, Value)]) -> GenerateResponse {
    let parts = calls
        .iter()
        .map(|(name, r, input)| Part::tool_request(*name, Some(r.to_string()), input.clone()))
        .collect();
    GenerateResponse::from_message(Message::new(Role::Model, parts))
}

async fn instance() -> Genkit {
    Genkit::builder()
        .without_submitted_actions()
        .build()
        .await
        .unwrap()
}

#[derive(Deserialize, JsonSchema)]
struct Query {
    query: String,
}

fn search_tool() -> ToolRef {
    Arc::new(ToolAction::new(
        "web_search",
        "Search the web for a query.",
        |q: Query, _| async move { Ok::<_, Error>(format!("Results for: {}", q.query)) },
    ))
}

#[tokio::test]
async fn multi_turn_tool_loop() {
    let ai = instance().await;
    let model = scripted(
        &ai,
        "m",
        vec![
            tool_call(&[("web_search", "1", json!({"query": "rust"}))]),
            tool_call(&[("web_search", "2", json!({"query": "genkit"}))]),
            GenerateResponse::from_text("done"),
        ],
    )
    .await;
    let resp = ai
        .generate()
        .model("m")
        .prompt("research")
        .tools([search_tool()])
        .await
        .unwrap();
    assert_eq!(resp.text(), "done");
    let reqs = model.requests.lock().unwrap();
    assert_eq!(reqs.len(), 3);
    // Turn 3 sees: user, model(tool req), tool(resp), model(tool req), tool(resp).
    let roles: Vec<Role> = reqs[2].messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Model, Role::Tool, Role::Model, Role::Tool]
    );
    let tr = reqs[2].messages[4].content[0]
        .tool_response
        .as_ref()
        .unwrap();
    assert_eq!(tr.name, "web_search");
    assert_eq!(tr.r#ref.as_deref(), Some("2"));
    assert_eq!(tr.output, Some(json!("Results for: genkit")));
    // The tool definition reached the model with schema and description.
    let def = &reqs[0].tools.as_ref().unwrap()[0];
    assert_eq!(def.description, "Search the web for a query.");
    assert_eq!(
        def.input_schema.as_ref().unwrap()["properties"]["query"]["type"],
        "string"
    );
    // The response carries the last turn's request and the full history.
    assert_eq!(resp.request.as_ref().unwrap().messages.len(), 5);
    assert_eq!(resp.messages().len(), 6);
}

#[tokio::test]
async fn parallel_tool_calls_run_concurrently() {
    let ai = instance().await;
    scripted(
        &ai,
        "m",
        vec![
            tool_call(&[("a", "1", json!({})), ("b", "2", json!({}))]),
            GenerateResponse::from_text("ok"),
        ],
    )
    .await;
    // Each tool waits for the other at a barrier: only a concurrent run gets past it.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mk = |name: &'static str| {
        let barrier = barrier.clone();
        Arc::new(ToolAction::new(
            name,
            "waits for its sibling",
            move |_: Value, _| {
                let barrier = barrier.clone();
                async move {
                    tokio::time::timeout(Duration::from_secs(5), barrier.wait())
                        .await
                        .map_err(|_| Error::internal("tools did not run concurrently"))?;
                    Ok::<_, Error>(name)
                }
            },
        ))
    };
    let resp = ai
        .generate()
        .model("m")
        .prompt("go")
        .tools((mk("a"), mk("b")))
        .await
        .unwrap();
    assert_eq!(resp.text(), "ok");
    let tool_msg = &resp.request.as_ref().unwrap().messages[2];
    let outputs: Vec<_> = tool_msg
        .content
        .iter()
        .map(|p| p.tool_response.as_ref().unwrap().output.clone())
        .collect();
    assert_eq!(outputs, [Some(json!("a")), Some(json!("b"))]);
}

#[tokio::test]
async fn max_turns_exceeded_is_aborted() {
    let ai = instance().await;
    let calls: Vec<_> = (0..4)
        .map(|i| tool_call(&[("web_search", &i.to_string(), json!({"query": "x"}))]))
        .collect();
    let model = scripted(&ai, "m", calls).await;
    let err = ai
        .generate()
        .model("m")
        .prompt("loop")
        .tools([search_tool()])
        .max_turns(2)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::Aborted);
    assert_eq!(err.message(), "Exceeded maximum tool call iterations (2)");
    assert!(err.details().unwrap()["response"]["message"].is_object());
    // The model is called max+1 times; tools run max times.
    assert_eq!(model.requests.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn unknown_tool_is_not_found() {
    let ai = instance().await;
    scripted(&ai, "m", vec![tool_call(&[("nope", "1", json!({}))])]).await;
    let err = ai
        .generate()
        .model("m")
        .prompt("x")
        .tools([search_tool()])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::NotFound);
    assert_eq!(err.message(), "Tool nope not found");
}

#[tokio::test]
async fn unknown_model_and_missing_model() {
    let ai = instance().await;
    let err = ai.generate().model("ghost").prompt("x").await.unwrap_err();
    assert_eq!(err.status(), Status::NotFound);
    assert_eq!(err.message(), "Model 'ghost' not found");
    let err = ai.generate().prompt("x").await.unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert_eq!(
        err.message(),
        "Must supply a `model` to `generate()` calls."
    );
}

#[tokio::test]
async fn bad_tool_input_is_invalid_argument_naming_the_field() {
    let ai = instance().await;
    scripted(
        &ai,
        "m",
        vec![tool_call(&[("web_search", "1", json!({"q": 1}))])],
    )
    .await;
    let err = ai
        .generate()
        .model("m")
        .prompt("x")
        .tools([search_tool()])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("web_search"), "{err}");
    assert!(err.message().contains("query"), "{err}");
    assert_eq!(err.details().unwrap()["tool"], "web_search");
}

#[tokio::test]
async fn tool_error_propagates_with_its_status() {
    let ai = instance().await;
    scripted(&ai, "m", vec![tool_call(&[("broken", "1", json!({}))])]).await;
    let broken = Arc::new(ToolAction::new(
        "broken",
        "fails",
        |_: Value, _| async move { Err::<String, _>(Error::new(Status::Unavailable, "backend down")) },
    ));
    let err = ai
        .generate()
        .model("m")
        .prompt("x")
        .tools([broken])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::Unavailable);
    assert_eq!(err.message(), "backend down");
    assert_eq!(
        err.details().unwrap(),
        &json!({"tool": "broken", "turn": 0})
    );
}

#[tokio::test]
async fn duplicate_tool_names_are_rejected() {
    let ai = instance().await;
    scripted(&ai, "m", vec![GenerateResponse::from_text("x")]).await;
    let err = ai
        .generate()
        .model("m")
        .prompt("x")
        .tools([search_tool(), search_tool()])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(
        err.message()
            .starts_with("Cannot provide two tools with the same name")
    );
}

#[tokio::test]
async fn streaming_chunk_order_across_turns() {
    let ai = instance().await;
    let first = GenerateResponse::from_message(Message::new(
        Role::Model,
        vec![
            Part::text("let me look "),
            Part::tool_request("web_search", Some("1".into()), json!({"query": "q"})),
        ],
    ));
    scripted(
        &ai,
        "m",
        vec![first, GenerateResponse::from_text("found it all")],
    )
    .await;
    let mut stream = ai
        .generate()
        .model("m")
        .prompt("x")
        .tools([search_tool()])
        .stream();
    let mut seen = Vec::new();
    while let Some(chunk) = stream.next().await {
        let c = chunk.unwrap();
        seen.push((
            c.role.unwrap(),
            c.index.unwrap(),
            c.text(),
            c.tool_requests().count(),
        ));
    }
    let resp = stream.response().await.unwrap();
    assert_eq!(resp.text(), "found it all");
    let expected = vec![
        (Role::Model, 0, "let ".to_string(), 0),
        (Role::Model, 0, "me ".to_string(), 0),
        (Role::Model, 0, "look ".to_string(), 0),
        (Role::Model, 0, String::new(), 1),
        (Role::Tool, 1, String::new(), 0),
        (Role::Model, 2, "found ".to_string(), 0),
        (Role::Model, 2, "it ".to_string(), 0),
        (Role::Model, 2, "all".to_string(), 0),
    ];
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn streaming_error_is_yielded_and_returned() {
    let ai = instance().await;
    scripted(&ai, "m", vec![]).await;
    let mut stream = ai.generate().model("m").prompt("x").stream();
    let first = stream.next().await.unwrap();
    assert_eq!(first.unwrap_err().message(), "script exhausted");
    assert!(stream.next().await.is_none());
    assert_eq!(
        stream.response().await.unwrap_err().status(),
        Status::Internal
    );
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
struct Recipe {
    title: String,
    minutes: u32,
}

#[tokio::test]
async fn typed_output_success() {
    let ai = instance().await;
    let model = scripted(
        &ai,
        "m",
        vec![GenerateResponse::from_text(
            "```json\n{\"title\": \"Soup\", \"minutes\": 20}\n```",
        )],
    )
    .await;
    let resp = ai
        .generate()
        .model("m")
        .prompt("recipe")
        .output::<Recipe>()
        .await
        .unwrap();
    assert_eq!(
        resp.output::<Recipe>().unwrap(),
        Recipe {
            title: "Soup".into(),
            minutes: 20
        }
    );
    let req = &model.requests.lock().unwrap()[0];
    let out = req.output.as_ref().unwrap();
    assert_eq!(out.format.as_deref(), Some("json"));
    assert_eq!(out.constrained, Some(true));
    assert_eq!(
        out.schema.as_ref().unwrap()["properties"]["minutes"]["type"],
        "integer"
    );
    // The reply is annotated with the output format, as Genkit does.
    let meta = resp.message.as_ref().unwrap().metadata.as_ref().unwrap();
    assert_eq!(meta["generate"]["output"]["format"], "json");
}

#[tokio::test]
async fn typed_output_schema_failure() {
    let ai = instance().await;
    scripted(
        &ai,
        "m",
        vec![GenerateResponse::from_text("{\"title\": \"Soup\"}")],
    )
    .await;
    let err = ai
        .generate()
        .model("m")
        .prompt("recipe")
        .output::<Recipe>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(
        err.message()
            .starts_with("Schema validation failed. Parse Errors:"),
        "{err}"
    );
    assert!(err.message().contains("minutes"), "{err}");
}

#[tokio::test]
async fn model_without_native_constrained_output_gets_instructions() {
    let ai = instance().await;
    let queue = Arc::new(Mutex::new(Vec::new()));
    let seen = queue.clone();
    ai.define_model("plain", ModelInfo::default(), move |req, _| {
        let seen = seen.clone();
        async move {
            seen.lock()
                .unwrap()
                .push(req.messages.last().unwrap().text());
            Ok(GenerateResponse::from_text(
                "{\"title\": \"T\", \"minutes\": 1}",
            ))
        }
    })
    .unwrap();
    ai.generate()
        .model("plain")
        .prompt("r")
        .output::<Recipe>()
        .await
        .unwrap();
    let text = queue.lock().unwrap()[0].clone();
    assert!(text.starts_with("r"), "{text}");
    assert!(text.contains("Output should be in JSON format"), "{text}");
}

#[tokio::test]
async fn return_tool_requests_stops_before_running_tools() {
    let ai = instance().await;
    scripted(
        &ai,
        "m",
        vec![tool_call(&[("web_search", "1", json!({"query": "x"}))])],
    )
    .await;
    let resp = ai
        .generate()
        .model("m")
        .prompt("x")
        .tools([search_tool()])
        .return_tool_requests(true)
        .await
        .unwrap();
    assert_eq!(resp.tool_requests().len(), 1);
    assert_eq!(resp.tool_requests()[0].name, "web_search");
}

#[tokio::test]
async fn interrupt_then_resume_with_restart_and_respond() {
    let ai = instance().await;
    let model = scripted(
        &ai,
        "m",
        vec![
            tool_call(&[
                ("web_search", "1", json!({"query": "safe"})),
                ("delete", "2", json!({"path": "/tmp/x"})),
            ]),
            GenerateResponse::from_text("deleted"),
            tool_call(&[("delete", "3", json!({"path": "/etc"}))]),
            GenerateResponse::from_text("not deleted"),
        ],
    )
    .await;
    let runs = Arc::new(Mutex::new(0));
    let counter = runs.clone();
    let delete = Arc::new(ToolAction::new(
        "delete",
        "Deletes a path",
        move |_: Value, ctx: ToolContext| {
            let counter = counter.clone();
            async move {
                if ctx.resumed().and_then(|r| r.get("toolApproved")) != Some(&json!(true)) {
                    return Err(ctx.interrupt(json!({"reason": "needs approval"})));
                }
                *counter.lock().unwrap() += 1;
                Ok("gone")
            }
        },
    ));
    let searches = Arc::new(Mutex::new(0));
    let sc = searches.clone();
    let search = Arc::new(ToolAction::new(
        "web_search",
        "search",
        move |_: Value, _| {
            let sc = sc.clone();
            async move {
                *sc.lock().unwrap() += 1;
                Ok::<_, Error>("results")
            }
        },
    ));

    let first = ai
        .generate()
        .model("m")
        .prompt("clean up")
        .tools((search.clone(), delete.clone()))
        .await
        .unwrap();
    assert_eq!(first.finish_reason, Some(FinishReason::Interrupted));
    assert_eq!(
        first.finish_message.as_deref(),
        Some("One or more tool calls resulted in interrupts.")
    );
    let interrupts = first.interrupts();
    assert_eq!(interrupts.len(), 1);
    assert_eq!(
        interrupts[0].metadata_value("interrupt"),
        Some(&json!({"reason": "needs approval"}))
    );
    // The completed search keeps its output as pendingOutput.
    let msg = first.message.as_ref().unwrap();
    assert_eq!(
        msg.content[0].metadata_value("pendingOutput"),
        Some(&json!("results"))
    );

    let pending = interrupts[0].clone();
    let resumed = ai
        .generate()
        .model("m")
        .messages(first.messages())
        .tools((search.clone(), delete.clone()))
        .restart(&pending, json!({"toolApproved": true}))
        .await
        .unwrap();
    assert_eq!(resumed.text(), "deleted");
    assert_eq!(*runs.lock().unwrap(), 1);
    assert_eq!(
        *searches.lock().unwrap(),
        1,
        "a tool that already ran is not run again"
    );
    let req = model.requests.lock().unwrap()[1].clone();
    let tool_msg = req.messages.last().unwrap();
    assert_eq!(tool_msg.role, Role::Tool);
    assert_eq!(tool_msg.metadata.as_ref().unwrap()["resumed"], json!(true));
    let outputs: Vec<_> = tool_msg
        .content
        .iter()
        .map(|p| p.tool_response.as_ref().unwrap().output.clone().unwrap())
        .collect();
    assert_eq!(outputs, [json!("results"), json!("gone")]);
    assert_eq!(
        tool_msg.content[0].metadata_value("source"),
        Some(&json!("pending"))
    );
    let model_msg = &req.messages[req.messages.len() - 2];
    assert_eq!(
        model_msg.content[1].metadata_value("resolvedInterrupt"),
        Some(&json!({"reason": "needs approval"}))
    );

    // Deny by answering with a replacement output instead.
    let second = ai
        .generate()
        .model("m")
        .prompt("delete /etc")
        .tools([delete.clone()])
        .await
        .unwrap();
    let pending = second.interrupts()[0].clone();
    let answered = ai
        .generate()
        .model("m")
        .messages(second.messages())
        .tools([delete])
        .respond(&pending, json!("denied by user"))
        .await
        .unwrap();
    assert_eq!(answered.text(), "not deleted");
    assert_eq!(*runs.lock().unwrap(), 1, "a denied tool never runs");
}

#[tokio::test]
async fn resume_without_tool_requests_is_failed_precondition() {
    let ai = instance().await;
    scripted(&ai, "m", vec![]).await;
    let err = ai
        .generate()
        .model("m")
        .prompt("x")
        .resume(genkit::Resume::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
}

#[tokio::test]
async fn unresolved_interrupt_on_resume_is_invalid_argument() {
    let ai = instance().await;
    scripted(&ai, "m", vec![]).await;
    let history = vec![
        Message::user("x"),
        Message::new(
            Role::Model,
            vec![Part::tool_request("t", Some("9".into()), json!({}))],
        ),
    ];
    let err = ai
        .generate()
        .model("m")
        .messages(history)
        .resume(genkit::Resume::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(
        err.message().starts_with("Unresolved tool request 't#9'"),
        "{err}"
    );
}

#[tokio::test]
async fn blocked_and_empty_responses_fail() {
    let ai = instance().await;
    let mut blocked = GenerateResponse::from_text("");
    blocked.finish_reason = Some(FinishReason::Blocked);
    blocked.finish_message = Some("unsafe".into());
    let empty = GenerateResponse {
        finish_reason: Some(FinishReason::Other),
        ..Default::default()
    };
    scripted(&ai, "m", vec![blocked, empty]).await;
    let err = ai.generate().model("m").prompt("x").await.unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
    assert_eq!(err.message(), "Generation blocked: unsafe");
    let err = ai.generate().model("m").prompt("x").await.unwrap_err();
    assert_eq!(
        err.message(),
        "Model did not generate a message. Finish reason: 'other': undefined"
    );
}

#[tokio::test]
async fn util_generate_runs_the_loop_from_json() {
    let ai = instance().await;
    ai.registry().register_tool(search_tool()).unwrap();
    scripted(
        &ai,
        "m",
        vec![
            tool_call(&[("web_search", "1", json!({"query": "json"}))]),
            GenerateResponse::from_text("from json"),
        ],
    )
    .await;
    let input = json!({
        "model": "m",
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "tools": ["web_search"],
        "maxTurns": 3
    });
    let out = ai
        .run_action("/util/generate", input, Default::default())
        .await
        .unwrap();
    assert_eq!(out["message"]["content"][0]["text"], "from json");
    assert_eq!(out["finishReason"], "stop");
    assert_eq!(out["usage"], json!({}));
    assert_eq!(out["request"]["messages"][2]["role"], "tool");
    assert!(out.get("latencyMs").is_none());

    let bad = json!({"messages": [{"role": "robot", "content": []}]});
    let err = ai
        .run_action("/util/generate", bad, Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().starts_with("messages[0].role"), "{err}");

    let unknown_tool = json!({"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}], "tools": ["ghost"]});
    let err = ai
        .run_action("/util/generate", unknown_tool, Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.message(), "Tool ghost not found");
}

#[tokio::test]
async fn util_generate_streams_json_chunks() {
    let ai = instance().await;
    scripted(&ai, "m", vec![GenerateResponse::from_text("a b")]).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let input = json!({"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]});
    let run = ai.run_action("/util/generate", input, genkit::RunOptions::streaming(tx));
    let (out, chunks) = tokio::join!(run, async {
        let mut v = Vec::new();
        while let Some(c) = rx.recv().await {
            v.push(c);
        }
        v
    });
    assert_eq!(out.unwrap()["message"]["content"][0]["text"], "a b");
    assert_eq!(
        chunks,
        vec![
            json!({"role": "model", "index": 0, "content": [{"text": "a "}]}),
            json!({"role": "model", "index": 0, "content": [{"text": "b"}]}),
        ]
    );
}

#[derive(Deserialize, JsonSchema)]
struct TopicIn {
    topic: String,
}

#[tokio::test]
async fn flow_by_key_with_json_input_and_bad_input() {
    let ai = instance().await;
    scripted(&ai, "m", vec![GenerateResponse::from_text("summary")]).await;
    ai.define_flow(
        "summarize",
        |ai: Genkit, input: TopicIn, cx: FlowContext| async move {
            cx.send_chunk(json!({"step": "start"})).await?;
            let r = ai
                .generate()
                .model("m")
                .prompt(format!("Summarize {}", input.topic))
                .await?;
            Ok::<_, Error>(r.text())
        },
    )
    .unwrap();
    let out = ai
        .run_action(
            "/flow/summarize",
            json!({"topic": "rust"}),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(out, json!("summary"));
    let err = ai
        .run_action(
            "/flow/summarize",
            json!({"topik": "rust"}),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("topic"), "{err}");
    let err = ai
        .run_action("/flow/nope", json!({}), Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::NotFound);
}

#[tokio::test]
async fn registry_rejects_duplicates_and_lists_actions() {
    let ai = instance().await;
    ai.registry().register_tool(search_tool()).unwrap();
    let err = ai.registry().register_tool(search_tool()).unwrap_err();
    assert_eq!(err.status(), Status::AlreadyExists);
    let keys: Vec<String> = ai
        .registry()
        .list()
        .iter()
        .map(|a| a.desc().key.clone())
        .collect();
    assert!(keys.contains(&"/tool/web_search".to_string()));
    assert!(keys.contains(&"/util/generate".to_string()));
    let listed = ai
        .registry()
        .lookup("/tool/web_search")
        .unwrap()
        .desc()
        .to_json();
    assert_eq!(listed["description"], "Search the web for a query.");
    assert_eq!(listed["inputSchema"]["required"], json!(["query"]));
}

#[tokio::test]
async fn dropping_a_stream_cancels_the_generation() {
    let ai = instance().await;
    let started = Arc::new(tokio::sync::Notify::new());
    let finished = Arc::new(Mutex::new(false));
    let (s, f) = (started.clone(), finished.clone());
    ai.define_model("slow", ModelInfo::default(), move |_, cx| {
        let (s, f) = (s.clone(), f.clone());
        async move {
            cx.send_chunk(GenerateResponseChunk::from_text("first"))
                .await;
            s.notify_one();
            tokio::time::sleep(Duration::from_secs(30)).await;
            *f.lock().unwrap() = true;
            Ok(GenerateResponse::from_text("late"))
        }
    })
    .unwrap();
    let mut stream = ai.generate().model("slow").prompt("x").stream();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.text(), "first");
    drop(stream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!*finished.lock().unwrap());
}

// ---------------------------------------------------------------------------------
// Against the local Gemini look-alike over HTTP.

use genkit::googleai::GoogleAi;
use genkit::googleai::server::{LocalGemini, Reply};
use genkit::{AugmentWithContext, DocumentData};

async fn with_gemini() -> (Genkit, LocalGemini) {
    let gemini = LocalGemini::start().await.unwrap();
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(GoogleAi::new("k").with_base_url(gemini.base_url()))
        .model("googleai/gemini-2.5-flash")
        .build()
        .await
        .unwrap();
    (ai, gemini)
}

fn gemini_event(text: &str, last: bool) -> Value {
    let mut candidate =
        json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
    if last {
        candidate["finishReason"] = json!("STOP");
    }
    json!({"candidates": [candidate]})
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Answer {
    answer: String,
    note: Option<String>,
}

/// Streamed JSON: each model chunk carries the object so far; the final output is
/// whole. A typed read of an unfinished object works when its fields allow it.
#[tokio::test]
async fn streamed_json_chunks_carry_the_partial_output() {
    let (ai, gemini) = with_gemini().await;
    gemini.push(Reply::sse([
        gemini_event("Here: {\"answer\": \"4", false),
        gemini_event("2\", \"no", false),
        gemini_event("te\": \"ok\"}", true),
    ]));
    let mut stream = ai
        .generate()
        .prompt("What is it?")
        .output::<Answer>()
        .stream();
    let mut outputs = Vec::new();
    while let Some(chunk) = stream.next().await {
        outputs.push(chunk.unwrap().output);
    }
    assert_eq!(
        outputs,
        [
            Some(json!({"answer": "4"})),
            Some(json!({"answer": "42"})),
            Some(json!({"answer": "42", "note": "ok"})),
        ]
    );
    let response = stream.response().await.unwrap();
    assert_eq!(
        response.output::<Answer>().unwrap(),
        Answer {
            answer: "42".into(),
            note: Some("ok".into())
        }
    );
}

/// A JSON answer the model did not finish is read leniently and validated as it is.
#[tokio::test]
async fn truncated_json_answers_are_read_leniently() {
    let (ai, gemini) = with_gemini().await;
    gemini.push(Reply::json(gemini_event(
        "{\"answer\": \"42\", \"note\": \"cut",
        true,
    )));
    let response = ai
        .generate()
        .prompt("What is it?")
        .output::<Answer>()
        .await
        .unwrap();
    assert_eq!(
        response.output::<Answer>().unwrap(),
        Answer {
            answer: "42".into(),
            note: Some("cut".into())
        }
    );
    // Without the required field it is still a schema failure.
    gemini.push(Reply::json(gemini_event("{\"note\": \"cut", true)));
    let e = ai
        .generate()
        .prompt("What is it?")
        .output::<Answer>()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().starts_with("Schema validation failed"), "{e}");
}

fn context_part_sent(gemini: &LocalGemini) -> Option<String> {
    let body = gemini.requests().pop().unwrap().body;
    let parts = body["contents"][0]["parts"].as_array().unwrap().clone();
    assert_eq!(parts[0]["text"], json!("Capital?"));
    parts
        .get(1)
        .map(|p| p["text"].as_str().unwrap().to_string())
}

/// Docs: Genkit's rendering by default, a rendering of your own, or none; the
/// conversation the response reports never holds it.
#[tokio::test]
async fn docs_rendering_default_custom_and_off() {
    let (ai, gemini) = with_gemini().await;
    let docs = vec![
        DocumentData::from("Paris is in France.").with_metadata("id", "p"),
        DocumentData::from("Rome is in Italy."),
    ];
    let response = ai
        .generate()
        .prompt("Capital?")
        .docs(docs.clone())
        .await
        .unwrap();
    assert_eq!(
        context_part_sent(&gemini).as_deref(),
        Some(
            "\n\nUse the following information to complete your task:\n\n- [p]: Paris is in France.\n- [1]: Rome is in Italy.\n\n"
        )
    );
    let history = response.messages();
    assert_eq!(history[0].content.len(), 1, "{history:?}");
    assert_eq!(
        response.request.as_ref().unwrap().docs.as_ref(),
        Some(&docs)
    );

    ai.generate()
        .prompt("Capital?")
        .docs(docs.clone())
        .use_(
            AugmentWithContext::new()
                .preface("Sources:\n")
                .item_template(|d, i| format!("({i}) {}\n", d.text())),
        )
        .await
        .unwrap();
    assert_eq!(
        context_part_sent(&gemini).as_deref(),
        Some("Sources:\n(0) Paris is in France.\n(1) Rome is in Italy.\n\n")
    );

    ai.generate()
        .prompt("Capital?")
        .docs(docs)
        .use_(AugmentWithContext::off())
        .await
        .unwrap();
    assert_eq!(context_part_sent(&gemini), None);
}

/// A model that claims `supports.context` receives `docs` as they are.
#[tokio::test]
async fn models_with_native_context_receive_the_docs() {
    let ai = instance().await;
    let mut supports = ModelSupports::full();
    supports.context = Some(true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    ai.define_model(
        "native",
        ModelInfo::new("native", supports),
        move |req, _| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push((*req).clone());
                Ok(GenerateResponse::from_text("ok"))
            }
        },
    )
    .unwrap();
    ai.generate()
        .model("native")
        .prompt("Capital?")
        .docs(vec![DocumentData::from("Paris is in France.")])
        .await
        .unwrap();
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(req.messages[0].content.len(), 1);
    assert_eq!(req.docs.unwrap()[0].text(), "Paris is in France.");
}

/// Two parallel calls of one tool without ids (Gemini gives none) that both
/// interrupt: answers given in order go to the calls in order.
#[tokio::test]
async fn id_less_interrupts_of_one_tool_are_answered_in_order() {
    let (ai, gemini) = with_gemini().await;
    let confirm = Arc::new(ToolAction::new(
        "confirm",
        "Confirm an action with the user",
        |q: Query, ctx: ToolContext| async move {
            Err::<String, _>(ctx.interrupt(json!({"ask": q.query})))
        },
    ));
    let first = ai
        .generate()
        .prompt("Confirm: delete a; delete b")
        .tools([confirm.clone()])
        .await
        .unwrap();
    let interrupts = first.interrupts();
    assert_eq!(interrupts.len(), 2);
    assert!(
        interrupts
            .iter()
            .all(|p| p.tool_request.as_ref().unwrap().r#ref.is_none())
    );
    let done = ai
        .generate()
        .messages(first.messages())
        .tools([confirm])
        .respond(&interrupts[0].clone(), json!("yes to a"))
        .respond(&interrupts[1].clone(), json!("no to b"))
        .await
        .unwrap();
    assert_eq!(
        done.text(),
        "Based on confirm: yes to a\nBased on confirm: no to b"
    );
    let sent = gemini.requests().pop().unwrap().body;
    let responses = &sent["contents"][2]["parts"];
    assert_eq!(responses[0]["functionResponse"].get("id"), None);
    assert_eq!(
        responses[1]["functionResponse"]["response"]["content"],
        json!("no to b")
    );
}
