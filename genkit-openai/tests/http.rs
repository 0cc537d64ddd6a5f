//! The plugin against the local server, over real HTTP on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use genkit_core::{Error, FinishReason, Genkit, Status, ToolAction, ToolRef};
use genkit_openai::OpenAi;
use genkit_openai::server::{LocalOpenAi, Reply, ServerOptions};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

const KEY: &str = "sk-test-7f3a9c0001";

async fn server() -> LocalOpenAi {
    LocalOpenAi::start_with(ServerOptions::default().api_key(KEY))
        .await
        .expect("server starts")
}

async fn genkit(server: &LocalOpenAi) -> Genkit {
    Genkit::builder()
        .without_submitted_actions()
        .plugin(
            OpenAi::new(KEY)
                .with_base_url(server.base_url())
                .with_timeout(Duration::from_secs(20)),
        )
        .model("openai/gpt-4o-mini")
        .build()
        .await
        .expect("genkit builds")
}

#[derive(Deserialize, JsonSchema)]
struct SearchInput {
    /// What to search for.
    query: String,
}

fn web_search() -> ToolRef {
    Arc::new(ToolAction::new(
        "web_search",
        "Search the web",
        |input: SearchInput, _ctx| async move {
            Ok::<_, Error>(format!("Results for: {}", input.query))
        },
    ))
}

#[tokio::test]
async fn text_with_the_key_as_bearer_token() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai.generate().prompt("Why is the sky blue?").await.unwrap();
    assert_eq!(
        r.text(),
        "This is the local OpenAI server (gpt-4o-mini) answering: Why is the sky blue?"
    );
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.usage().input_tokens, Some(5));
    let reqs = srv.requests();
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].api_key.as_deref(), Some(KEY));
    assert_eq!(
        reqs[0].body["messages"],
        json!([{"role": "user", "content": "Why is the sky blue?"}])
    );
}

#[tokio::test]
async fn parallel_tool_calls_run_and_answer() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("Compare: rust; go")
        .tools([web_search()])
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "Based on web_search: Results for: rust\nBased on web_search: Results for: go"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    let msgs = &reqs[1].body["messages"];
    assert_eq!(msgs[1]["tool_calls"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        msgs[2],
        json!({"role": "tool", "tool_call_id": "call_0_0", "content": "Results for: rust"})
    );
    assert_eq!(
        reqs[0].body["tools"][0]["function"]["parameters"]["required"],
        json!(["query"])
    );
}

#[tokio::test]
async fn streaming_text_and_tool_call_deltas() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let mut s = ai
        .generate()
        .prompt("Compare: rust; go")
        .tools([web_search()])
        .stream();
    let mut texts = Vec::new();
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        if !c.text().is_empty() {
            texts.push(c.text());
        }
    }
    let r = s.response().await.unwrap();
    assert_eq!(
        r.text(),
        "Based on web_search: Results for: rust\nBased on web_search: Results for: go"
    );
    assert!(texts.len() > 2, "{texts:?}");
    assert_eq!(texts.concat(), r.text());
    let reqs = srv.requests();
    assert_eq!(reqs[0].body["stream"], json!(true));
    assert_eq!(
        reqs[0].body["stream_options"],
        json!({"include_usage": true})
    );
    assert_eq!(r.usage().output_tokens.map(|t| t > 0), Some(true));
}

#[derive(Deserialize, JsonSchema, Debug)]
struct Person {
    name: String,
    age: u32,
}

#[tokio::test]
async fn typed_output_through_json_schema() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("Describe: Ada")
        .output::<Person>()
        .await
        .unwrap();
    let p: Person = r.output().unwrap();
    assert_eq!((p.name.as_str(), p.age), ("Ada", 42));
    let body = &srv.requests()[0].body;
    assert_eq!(body["response_format"]["type"], json!("json_schema"));
    assert_eq!(
        body["response_format"]["json_schema"]["name"],
        json!("output")
    );
}

#[tokio::test]
async fn errors_carry_openai_messages_and_statuses() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let e = ai
        .generate()
        .model("openai/llama-9")
        .prompt("hi")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert_eq!(
        e.message(),
        "The model `llama-9` does not exist or you do not have access to it."
    );
    srv.push(Reply::rate_limited(Duration::from_millis(1500)));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::ResourceExhausted);
    assert_eq!(e.details().unwrap()["retryAfterMs"], json!(1500));
    let e = ai
        .generate()
        .prompt("hi")
        .config(json!({"temperature": 5}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("Expected a value <= 2"), "{e}");
    srv.push(Reply::raw(200, "{not json"));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::Internal);
    srv.push(Reply::error(503, "The server is overloaded."));
    assert_eq!(
        ai.generate().prompt("hi").await.unwrap_err().status(),
        Status::Unavailable
    );
}

#[tokio::test]
async fn the_key_never_shows_and_a_wrong_key_is_unauthenticated() {
    let srv = server().await;
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(OpenAi::new("sk-wrong-secret-99").with_base_url(srv.base_url()))
        .build()
        .await
        .unwrap();
    let e = ai
        .generate()
        .model("openai/gpt-4o")
        .prompt("hi")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::Unauthenticated);
    assert!(!format!("{e:?}").contains("sk-wrong-secret-99"));
}

#[tokio::test]
async fn a_stream_cut_before_done_is_unavailable() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::events(
        [json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": null}]})],
        false,
    ));
    let mut s = ai.generate().prompt("hi").stream();
    while s.next().await.is_some() {}
    let e = s.response().await.unwrap_err();
    assert_eq!(e.status(), Status::Unavailable, "{e}");
    srv.push(Reply::events(
        [json!({"error": {"message": "overloaded", "type": "server_error", "code": 503}})],
        false,
    ));
    let mut s = ai.generate().prompt("hi").stream();
    while s.next().await.is_some() {}
    let e = s.response().await.unwrap_err();
    assert_eq!(
        (e.status(), e.message()),
        (Status::Unavailable, "overloaded")
    );
}

#[tokio::test]
async fn embeddings_in_one_request_and_any_name_resolves() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let v = ai
        .embed(
            "openai/text-embedding-3-small",
            ["hello world", "hello there"],
        )
        .await
        .unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].embedding.len(), 1536);
    assert_ne!(v[0].embedding, v[1].embedding);
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body["input"], json!(["hello world", "hello there"]));
    let v = ai
        .embed_request(
            "openai/text-embedding-3-large",
            genkit_core::embedder::EmbedRequest::new(vec!["x".into()])
                .with_options(json!({"dimensions": 8})),
        )
        .await
        .unwrap();
    assert_eq!(v.embeddings[0].embedding.len(), 8);
    let keys: Vec<String> = ai
        .registry()
        .list_resolvable()
        .iter()
        .map(|a| a.desc().key.clone())
        .collect();
    assert!(
        keys.contains(&"/model/openai/gpt-5".to_string()),
        "{keys:?}"
    );
    assert!(keys.contains(&"/embedder/openai/text-embedding-3-small".to_string()));
}

#[tokio::test]
async fn an_ollama_stand_in_needs_no_key() {
    let ollama = OpenAi::local("ollama", ServerOptions::ollama())
        .await
        .unwrap();
    let srv_url = ollama.base_url().to_string();
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(ollama)
        .build()
        .await
        .unwrap();
    let r = ai
        .generate()
        .model("ollama/llama3.2")
        .prompt("hi")
        .config(json!({"maxOutputTokens": 5, "topK": 2}))
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "This is the local OpenAI server (llama3.2) answering: hi"
    );
    assert!(srv_url.starts_with("http://127.0.0.1:"));
}
