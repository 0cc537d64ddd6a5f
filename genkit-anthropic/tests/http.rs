//! The plugin against the local server, over real HTTP on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{KEY, genkit, genkit_with, server, web_search};
use futures::StreamExt;
use genkit_anthropic::server::Reply;
use genkit_anthropic::{Anthropic, Backend};
use genkit_core::{FinishReason, Message, Part, Role, Status, ToolChoice};
use genkit_middleware::Retry;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[tokio::test]
async fn text_generation_sends_key_version_and_the_messages_api_body() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .system("Be brief.")
        .prompt("Why is the sky blue?")
        .config(json!({"temperature": 0.3, "topP": 0.9, "topK": 5}))
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "This is the local Anthropic server (claude-sonnet-4-5) answering: Why is the sky blue?"
    );
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    let u = r.usage();
    assert_eq!(u.input_tokens, Some(7));
    assert_eq!(u.output_tokens, Some(13));
    assert_eq!(
        r.custom.as_ref().unwrap()["id"],
        json!("msg_local_00000001")
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/messages");
    assert_eq!(reqs[0].api_key.as_deref(), Some(KEY));
    assert_eq!(reqs[0].version.as_deref(), Some("2023-06-01"));
    assert_eq!(
        reqs[0].body,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 4096,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Why is the sky blue?"}]}],
            "system": [{"type": "text", "text": "Be brief."}]})
    );
}

#[tokio::test]
async fn parallel_tool_calls_and_their_results_in_one_user_turn() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("Compare: rust; go")
        .tools([web_search()])
        .tool_choice(ToolChoice::Required)
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "Based on web_search: Results for: rust\nBased on web_search: Results for: go"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    let first = &reqs[0].body;
    assert_eq!(first["tool_choice"], json!({"type": "any"}));
    assert_eq!(first["tools"][0]["name"], json!("web_search"));
    assert_eq!(first["tools"][0]["input_schema"]["type"], json!("object"));
    let msgs = &reqs[1].body["messages"];
    assert_eq!(
        msgs[1],
        json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_local_1_0", "name": "web_search", "input": {"query": "rust"}},
            {"type": "tool_use", "id": "toolu_local_1_1", "name": "web_search", "input": {"query": "go"}}]})
    );
    assert_eq!(
        msgs[2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_local_1_0", "content": [{"type": "text", "text": "Results for: rust"}]},
            {"type": "tool_result", "tool_use_id": "toolu_local_1_1", "content": [{"type": "text", "text": "Results for: go"}]}]})
    );
}

#[tokio::test]
async fn thinking_blocks_come_back_signed_and_go_back_on_the_next_turn() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("Research: Rust")
        .tools([web_search()])
        .config(json!({"thinking": {"enabled": true, "budgetTokens": 2048}}))
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on web_search: Results for: Rust");
    assert_eq!(r.reasoning(), "Thinking about: Research: Rust");
    let reqs = srv.requests();
    assert_eq!(
        reqs[0].body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(reqs[0].body["max_tokens"], json!(4096));
    // The model turn kept its signature, and sent it back first in the next request
    // (the server refuses a continued tool turn without it, or with another signature).
    let model_msg = &r.request.as_ref().unwrap().messages[1];
    let sig = model_msg.content[0]
        .metadata_value("thoughtSignature")
        .cloned()
        .unwrap();
    let sent = &reqs[1].body["messages"][1]["content"][0];
    assert_eq!(sent["type"], json!("thinking"));
    assert_eq!(sent["signature"], sig);
    assert_eq!(sent["thinking"], json!("Thinking about: Research: Rust"));
}

#[tokio::test]
async fn a_tampered_or_missing_thinking_block_is_refused_by_the_server() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let history = vec![
        Message::user("Search: x"),
        Message::new(
            Role::Model,
            vec![
                Part::reasoning("Thinking about: Search: x")
                    .with_metadata("thoughtSignature", json!("forged")),
                Part::tool_request("web_search", Some("toolu_1".into()), json!({"query": "x"})),
            ],
        ),
        Message::new(
            Role::Tool,
            vec![Part::tool_response(
                "web_search",
                Some("toolu_1".into()),
                json!("r"),
            )],
        ),
    ];
    let e = ai
        .generate()
        .messages(history)
        .tools([web_search()])
        .config(json!({"thinking": {"budgetTokens": 1024}}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(
        e.message()
            .contains("Invalid `signature` in `thinking` block"),
        "{e}"
    );
}

#[tokio::test]
async fn streaming_text_and_thinking_arrive_in_pieces() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let mut stream = ai
        .generate()
        .prompt("Tell me about the Rust language")
        .config(json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}))
        .stream();
    let (mut texts, mut thoughts) = (Vec::new(), Vec::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        texts.push(chunk.text());
        thoughts.push(chunk.reasoning());
    }
    let r = stream.response().await.unwrap();
    assert!(
        texts.iter().filter(|t| !t.is_empty()).count() > 2,
        "{texts:?}"
    );
    assert_eq!(texts.concat(), r.text());
    assert_eq!(
        thoughts.concat(),
        "Thinking about: Tell me about the Rust language"
    );
    assert_eq!(
        r.text(),
        "This is the local Anthropic server (claude-sonnet-4-5) answering: Tell me about the Rust language"
    );
    let parts = &r.message.as_ref().unwrap().content;
    assert!(parts[0].metadata_value("thoughtSignature").is_some());
    // Thinking (7 words) and text (15 words).
    assert_eq!(r.usage().output_tokens, Some(22));
    assert_eq!(srv.requests()[0].body["stream"], json!(true));
}

#[tokio::test]
async fn streamed_tool_calls_are_assembled_and_run() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let mut stream = ai
        .generate()
        .prompt("Search: a; b")
        .tools([web_search()])
        .stream();
    let mut requests = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        requests.extend(chunk.tool_requests().map(|r| r.input.clone()));
    }
    let r = stream.response().await.unwrap();
    assert_eq!(
        requests,
        vec![Some(json!({"query": "a"})), Some(json!({"query": "b"}))]
    );
    assert_eq!(
        r.text(),
        "Based on web_search: Results for: a\nBased on web_search: Results for: b"
    );
}

#[derive(Deserialize, JsonSchema, Debug, PartialEq)]
struct Person {
    name: String,
    age: u32,
}

#[tokio::test]
async fn typed_output_uses_structured_outputs_with_a_strict_schema() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("Describe: Ada")
        .output::<Person>()
        .await
        .unwrap();
    assert_eq!(
        r.output::<Person>().unwrap(),
        Person {
            name: "Ada".into(),
            age: 42
        }
    );
    let f = &srv.requests()[0].body["output_config"]["format"];
    assert_eq!(f["type"], json!("json_schema"));
    assert_eq!(f["schema"]["additionalProperties"], json!(false));
    assert!(f["schema"].get("$schema").is_none());
    assert_eq!(f["schema"]["required"], json!(["name", "age"]));
}

#[tokio::test]
async fn older_models_get_json_from_the_prompt_instead() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .model("anthropic/claude-3-5-haiku-latest")
        .prompt("Describe: Ada")
        .output::<Person>()
        .await;
    // The local server answers in prose without output_config: the output does not
    // parse, but the request is what matters here.
    let _ = r;
    let body = &srv.requests()[0].body;
    assert!(body.get("output_config").is_none(), "{body}");
    assert_eq!(body["model"], json!("claude-3-5-haiku-latest"));
}

#[tokio::test]
async fn images_by_base64_and_url_and_pdf_documents() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let msg = Message::new(
        Role::User,
        vec![
            Part::text("What is in these?"),
            Part::media(
                "data:image/png;base64,iVBORw0KGgo=",
                Some("image/png".into()),
            ),
            Part::media("https://example.com/cat.jpg", Some("image/jpeg".into())),
            Part::media("data:application/pdf;base64,JVBERi0=", None),
        ],
    );
    ai.generate().message(msg).await.unwrap();
    let content = &srv.requests()[0].body["messages"][0]["content"];
    assert_eq!(
        content[1],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})
    );
    assert_eq!(
        content[2],
        json!({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}})
    );
    assert_eq!(content[3]["type"], json!("document"));
    let e = ai
        .generate()
        .message(Message::new(
            Role::User,
            vec![Part::media("data:text/plain;base64,aGk=", None)],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("send text as a text part"), "{e}");
}

#[tokio::test]
async fn stop_sequences_and_max_tokens_are_finish_reasons() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("hello there")
        .config(json!({"stopSequences": ["server"]}))
        .await
        .unwrap();
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.text(), "This is the local Anthropic ");
    assert_eq!(r.custom.as_ref().unwrap()["stopSequence"], json!("server"));
    let r = ai
        .generate()
        .prompt("hello there")
        .config(json!({"maxOutputTokens": 3}))
        .await
        .unwrap();
    assert_eq!(r.finish_reason, Some(FinishReason::Length));
    assert_eq!(r.text(), "This is the");
    assert_eq!(srv.requests()[1].body["max_tokens"], json!(3));
}

#[tokio::test]
async fn overloaded_is_unavailable_and_rate_limits_carry_the_retry_hint() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::overloaded());
    let e = ai.generate().prompt("x").await.unwrap_err();
    assert_eq!(e.status(), Status::Unavailable);
    assert_eq!(e.message(), "Overloaded");
    assert_eq!(e.details().unwrap()["type"], json!("overloaded_error"));
    srv.push(Reply::rate_limited(7));
    let e = ai.generate().prompt("x").await.unwrap_err();
    assert_eq!(e.status(), Status::ResourceExhausted);
    assert_eq!(e.details().unwrap()["retryAfterMs"], json!(7000));
    for (code, status) in [
        (400, Status::InvalidArgument),
        (403, Status::PermissionDenied),
        (413, Status::InvalidArgument),
        (500, Status::Internal),
    ] {
        srv.push(Reply::error(code, "scripted"));
        let e = ai.generate().prompt("x").await.unwrap_err();
        assert_eq!(e.status(), status, "{code}");
        assert_eq!(e.message(), "scripted");
    }
}

#[tokio::test]
async fn retry_honours_retry_after_then_succeeds() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::overloaded());
    srv.push(Reply::rate_limited(0));
    let r = ai
        .generate()
        .prompt("hello")
        .use_(
            Retry::new()
                .max_retries(2)
                .initial_delay(Duration::from_millis(1)),
        )
        .await
        .unwrap();
    assert!(r.text().ends_with("answering: hello"));
    assert_eq!(srv.requests().len(), 3);
}

#[tokio::test]
async fn a_wrong_key_and_an_unknown_model_surface_the_apis_errors() {
    let srv = server().await;
    let ai = genkit_with(Anthropic::new("sk-ant-wrong-999").with_base_url(srv.base_url())).await;
    let e = ai.generate().prompt("x").await.unwrap_err();
    assert_eq!(e.status(), Status::Unauthenticated);
    assert_eq!(e.message(), "invalid x-api-key");
    assert!(!e.to_string().contains("sk-ant-wrong-999"));
    let ai = genkit(&srv).await;
    let e = ai
        .generate()
        .model("anthropic/gpt-4o")
        .prompt("x")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert_eq!(e.message(), "model: gpt-4o");
    let e = ai
        .generate()
        .prompt("x")
        .config(json!({"thinking": {"budgetTokens": 500}}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert_eq!(
        e.message(),
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    );
    let e = ai
        .generate()
        .prompt("x")
        .config(json!({"top_logprobs": 3}))
        .await
        .unwrap_err();
    assert_eq!(e.message(), "top_logprobs: Extra inputs are not permitted");
}

#[tokio::test]
async fn any_claude_name_resolves_on_first_use_and_known_ones_are_listed() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .model("anthropic/claude-3-haiku-20240307")
        .prompt("hi")
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "This is the local Anthropic server (claude-3-haiku-20240307) answering: hi"
    );
    let keys: Vec<String> = ai
        .registry()
        .list_resolvable()
        .iter()
        .map(|a| a.desc().key.clone())
        .collect();
    for m in genkit_anthropic::KNOWN_MODELS {
        assert!(keys.contains(&format!("/model/anthropic/{m}")), "{keys:?}");
    }
    assert!(keys.contains(&"/model/anthropic/claude-3-haiku-20240307".to_string()));
}

#[tokio::test]
async fn stream_errors_are_typed() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let start = json!({"type": "message_start", "message": {"id": "m", "type": "message",
        "role": "assistant", "model": "claude-x", "content": [], "stop_reason": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}}});
    let text_start = json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}});
    let overloaded =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    srv.push(Reply::sse([start.clone(), text_start.clone(), overloaded]));
    let mut s = ai.generate().prompt("x").stream();
    while s.next().await.is_some() {}
    let e = s.response().await.unwrap_err();
    assert_eq!(e.status(), Status::Unavailable);
    assert_eq!(e.message(), "Overloaded");

    srv.push(Reply::sse([start.clone(), text_start.clone()]).break_after(2));
    let mut s = ai.generate().prompt("x").stream();
    while s.next().await.is_some() {}
    assert_eq!(
        s.response().await.unwrap_err().status(),
        Status::Unavailable
    );

    srv.push(Reply::sse([start, text_start]));
    let mut s = ai.generate().prompt("x").stream();
    while s.next().await.is_some() {}
    let e = s.response().await.unwrap_err();
    assert_eq!(e.status(), Status::Unavailable);
    assert!(e.message().contains("message_stop"), "{e}");
}

#[tokio::test]
async fn a_malformed_answer_is_internal() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::raw(200, "application/json", "{\"content\": ["));
    let e = ai.generate().prompt("x").await.unwrap_err();
    assert_eq!(e.status(), Status::Internal);
    assert!(e.message().contains("malformed"), "{e}");
}

#[tokio::test]
async fn interrupts_resume_with_tool_results_paired_by_id() {
    use genkit_core::{ToolAction, ToolContext};
    use std::sync::Arc;
    let srv = server().await;
    let ai = genkit(&srv).await;
    let ask = Arc::new(ToolAction::new(
        "ask_user",
        "Ask the user a question",
        |input: common::SearchInput, cx: ToolContext| async move {
            Err::<String, _>(cx.interrupt(json!({"question": input.query})))
        },
    ));
    let r = ai
        .generate()
        .prompt("Ask: favourite colour?")
        .tools([ask.clone()])
        .await
        .unwrap();
    assert_eq!(r.finish_reason, Some(FinishReason::Interrupted));
    let interrupt = r.interrupts()[0].clone();
    let r = ai
        .generate()
        .messages(r.messages())
        .tools([ask])
        .respond(&interrupt, json!("blue"))
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on ask_user: blue");
    let last = srv.requests().pop().unwrap();
    assert_eq!(
        last.body["messages"][2]["content"][0]["tool_use_id"],
        json!("toolu_local_1_0")
    );
}

#[tokio::test]
async fn from_env_or_local_starts_a_local_server_without_a_key() {
    // SAFETY of the test: no other test in this binary reads these variables.
    let (plugin, backend) = if std::env::var_os("ANTHROPIC_API_KEY").is_none() {
        Anthropic::from_env_or_local().await.unwrap()
    } else {
        return;
    };
    assert!(matches!(backend, Backend::Local { .. }), "{backend}");
    assert!(plugin.local_server().is_some());
    let ai = genkit_with(plugin).await;
    let r = ai.generate().prompt("hi").await.unwrap();
    assert!(r.text().ends_with("answering: hi"));
    let visible = format!("{:?}", Anthropic::new("sk-ant-visible-1"));
    assert!(!visible.contains("sk-ant-visible-1"), "{visible}");
}
