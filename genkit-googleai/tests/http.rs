//! The plugin against the local server, over real HTTP on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{KEY, genkit, genkit_with, plugin, server, web_search};
use futures::StreamExt;
use genkit_core::{Action, FinishReason, Role, Status};
use genkit_googleai::server::Reply;
use genkit_googleai::{Backend, GoogleAi, KEY_VARS};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[tokio::test]
async fn text_generation_sends_the_key_in_the_header_only() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai.generate().prompt("Why is the sky blue?").await.unwrap();
    assert_eq!(
        r.text(),
        "This is the local Gemini server (gemini-2.0-flash) answering: Why is the sky blue?"
    );
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.usage().input_tokens, Some(5));
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path,
        "/v1beta/models/gemini-2.0-flash:generateContent"
    );
    assert_eq!(reqs[0].query, None);
    assert_eq!(reqs[0].api_key.as_deref(), Some(KEY));
    assert_eq!(
        reqs[0].body["contents"],
        json!([{"role": "user", "parts": [{"text": "Why is the sky blue?"}]}])
    );
}

#[tokio::test]
async fn tool_loop_with_parallel_function_calls() {
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
    let second = &reqs[1].body["contents"];
    assert_eq!(second[1]["role"], json!("model"));
    assert_eq!(second[1]["parts"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        second[1]["parts"][1]["functionCall"],
        json!({"name": "web_search", "args": {"query": "go"}})
    );
    assert_eq!(
        second[2]["parts"][0]["functionResponse"],
        json!({"name": "web_search", "response": {"name": "web_search", "content": "Results for: rust"}})
    );
    assert_eq!(
        reqs[0].body["tools"][0]["functionDeclarations"][0]["parameters"]["type"],
        json!("OBJECT")
    );
}

#[tokio::test]
async fn thought_signatures_go_back_on_the_next_turn() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .model("googleai/gemini-2.5-flash")
        .prompt("Research: Rust")
        .tools([web_search()])
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on web_search: Results for: Rust");
    let reqs = srv.requests();
    let call = &reqs[1].body["contents"][1]["parts"][0];
    assert_eq!(call["thoughtSignature"], json!("bG9jYWwtc2ln1"));
    let model_msg = &r.request.as_ref().unwrap().messages[1];
    assert_eq!(
        model_msg.content[0].metadata_value("thoughtSignature"),
        Some(&json!("bG9jYWwtc2ln1"))
    );
}

#[tokio::test]
async fn thoughts_come_back_as_reasoning() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .model("googleai/gemini-2.5-pro")
        .prompt("Think")
        .config(json!({"thinkingConfig": {"includeThoughts": true, "thinkingBudget": 128}}))
        .await
        .unwrap();
    assert_eq!(r.reasoning(), "Thinking about: Think");
    assert_eq!(r.usage().thoughts_tokens, Some(3));
    assert_eq!(
        srv.requests()[0].body["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        json!(128)
    );
}

#[tokio::test]
async fn streaming_text_arrives_in_pieces() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let mut stream = ai
        .generate()
        .prompt("Tell me about the Rust language")
        .stream();
    let mut pieces = Vec::new();
    while let Some(chunk) = stream.next().await {
        pieces.push(chunk.unwrap().text());
    }
    let r = stream.response().await.unwrap();
    assert!(pieces.len() > 2, "{pieces:?}");
    assert_eq!(pieces.concat(), r.text());
    assert_eq!(
        r.text(),
        "This is the local Gemini server (gemini-2.0-flash) answering: Tell me about the Rust language"
    );
    let reqs = srv.requests();
    assert_eq!(
        reqs[0].path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    );
    assert_eq!(reqs[0].query.as_deref(), Some("alt=sse"));
}

#[tokio::test]
async fn streamed_function_calls_run_the_tools() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let mut stream = ai
        .generate()
        .prompt("Search: a; b")
        .tools([web_search()])
        .stream();
    let mut requests = 0;
    let mut tool_chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        requests += chunk.tool_requests().count();
        if chunk.role == Some(Role::Tool) {
            tool_chunks += 1;
        }
    }
    let r = stream.response().await.unwrap();
    assert_eq!(requests, 2);
    assert_eq!(tool_chunks, 1);
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
async fn json_output_with_a_schema() {
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
    let g = &srv.requests()[0].body["generationConfig"];
    assert_eq!(g["responseMimeType"], json!("application/json"));
    assert_eq!(g["responseSchema"]["type"], json!("OBJECT"));
    assert_eq!(g["responseSchema"]["required"], json!(["name", "age"]));
}

#[tokio::test]
async fn embeddings_single_and_batch() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let one = ai
        .embed("googleai/text-embedding-004", ["hello world"])
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].embedding.len(), 768);
    let many = ai
        .embed(
            "googleai/text-embedding-004",
            ["hello world", "other words", "hello world"],
        )
        .await
        .unwrap();
    assert_eq!(many.len(), 3);
    assert_eq!(many[0].embedding, one[0].embedding);
    assert_eq!(many[2].embedding, many[0].embedding);
    assert_ne!(many[1].embedding, many[0].embedding);
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].path,
        "/v1beta/models/text-embedding-004:embedContent"
    );
    assert_eq!(
        reqs[1].path,
        "/v1beta/models/text-embedding-004:batchEmbedContents"
    );
    assert_eq!(
        reqs[1].body["requests"][1]["model"],
        json!("models/text-embedding-004")
    );

    let req = genkit_core::embedder::EmbedRequest::new(vec!["x".into()])
        .with_options(json!({"outputDimensionality": 16, "taskType": "RETRIEVAL_QUERY"}));
    let out = ai
        .embed_request("googleai/gemini-embedding-001", req)
        .await
        .unwrap();
    assert_eq!(out.embeddings[0].embedding.len(), 16);
    let full = ai
        .embed("googleai/gemini-embedding-001", ["x"])
        .await
        .unwrap();
    assert_eq!(full[0].embedding.len(), 3072);
}

#[tokio::test]
async fn every_error_status_is_mapped_with_googles_message() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    for (code, status) in [
        (400, Status::InvalidArgument),
        (401, Status::Unauthenticated),
        (403, Status::PermissionDenied),
        (404, Status::NotFound),
        (429, Status::ResourceExhausted),
        (500, Status::Internal),
        (503, Status::Unavailable),
        (504, Status::DeadlineExceeded),
    ] {
        let message = format!("scripted failure {code}");
        srv.push(Reply::error(code, &message));
        let e = ai.generate().prompt("hi").await.unwrap_err();
        assert_eq!(e.status(), status, "HTTP {code}");
        assert_eq!(e.message(), message);
        assert_eq!(e.details().unwrap()["httpStatus"], json!(code));
    }
}

#[tokio::test]
async fn retry_delays_reach_the_error_details() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::rate_limited(Duration::from_millis(1500)));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::ResourceExhausted);
    assert_eq!(e.details().unwrap()["retryAfterMs"], json!(1500));
    srv.push(Reply::error(503, "overloaded").retry_after(7));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.details().unwrap()["retryAfterMs"], json!(7000));
}

#[tokio::test]
async fn validation_errors_come_back_as_invalid_argument() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let bad = std::sync::Arc::new(genkit_core::ToolAction::new(
        "bad name!",
        "A tool Gemini cannot declare",
        |input: common::SearchInput, _ctx| async move { Ok::<_, genkit_core::Error>(input.query) },
    ));
    let e = ai.generate().prompt("hi").tools([bad]).await.unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("Invalid function name"), "{e}");
}

#[tokio::test]
async fn unknown_models_are_not_found() {
    let srv = server().await;
    let ai = genkit_with(plugin(&srv).with_model("googleai/palm-2")).await;
    let e = ai
        .generate()
        .model("googleai/palm-2")
        .prompt("hi")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert!(e.message().contains("models/palm-2 is not found"), "{e}");
}

#[tokio::test]
async fn the_key_never_shows_in_errors_or_debug() {
    let srv = server().await;
    let wrong = "wrong-key-5d1e8b";
    let ai = genkit_with(GoogleAi::new(wrong).with_base_url(srv.base_url())).await;
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert_eq!(
        e.message(),
        "API key not valid. Please pass a valid API key."
    );
    srv.push(Reply::error(400, &format!("echoing {wrong}")));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert!(!format!("{e:?} {}", e.to_callable_json()).contains(wrong));
    assert!(!format!("{:?}", GoogleAi::new(wrong)).contains(wrong));
    assert!(
        srv.requests()
            .iter()
            .all(|r| !r.query.clone().unwrap_or_default().contains(wrong))
    );
}

#[tokio::test]
async fn a_blocked_prompt_is_a_clear_error() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::json(
        json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}),
    ));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::FailedPrecondition);
    assert!(
        e.message().contains("blocked") && e.message().contains("PROHIBITED_CONTENT"),
        "{e}"
    );
    srv.push(Reply::json(
        json!({"candidates": [{"content": {"parts": []}, "finishReason": "SAFETY"}]}),
    ));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.message(), "Generation blocked: SAFETY");
}

#[tokio::test]
async fn a_connection_dropped_mid_stream_is_unavailable() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let event = |t: &str| json!({"candidates": [{"content": {"role": "model", "parts": [{"text": t}]}, "index": 0}]});
    srv.push(Reply::sse([event("Hello "), event("world")]).break_after(1));
    let (texts, e) = common::stream_until_error(&ai).await;
    assert_eq!(e.status(), Status::Unavailable, "{e}");
    assert_eq!(texts, ["Hello "]);

    // A clean end before the final event is a broken stream too.
    srv.push(Reply::sse([event("Hello ")]));
    let e = ai
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::Unavailable, "{e}");

    // An error object inside the stream keeps its status.
    srv.push(Reply::sse([
        json!({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
    ]));
    let e = ai
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.message()),
        (Status::Unavailable, "overloaded")
    );
}

#[tokio::test]
async fn streams_split_anywhere_still_parse() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let whole = "data: {\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": [{\"text\": \"é1\"}]}}]}\r\n\r\ndata: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"2\"}]}, \"finishReason\": \"STOP\"}]}\r\n\r\n";
    let bytes = whole.as_bytes();
    // Split every few bytes, also inside the two-byte é and the CRLFs.
    for size in [1, 2, 3, 7, 61] {
        let frames: Vec<Vec<u8>> = bytes.chunks(size).map(<[u8]>::to_vec).collect();
        srv.push(Reply::sse_frames(frames));
        let r = ai
            .generate()
            .prompt("hi")
            .stream()
            .response()
            .await
            .unwrap();
        assert_eq!(r.text(), "é12", "pieces of {size} bytes");
        assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    }
}

#[tokio::test]
async fn malformed_json_is_a_typed_error() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::malformed_json());
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::Internal);
    assert!(e.message().contains("malformed JSON"), "{e}");
    srv.push(Reply::sse_frames(["data: {not json}\r\n\r\n"]));
    let e = ai
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::Internal);
    srv.push(Reply::raw(502, "text/html", "<html>Bad Gateway</html>"));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::Unavailable);
    assert!(e.message().contains("Bad Gateway"), "{e}");
}

#[tokio::test]
async fn slow_answers_time_out() {
    let srv = server().await;
    let ai = genkit_with(plugin(&srv).with_timeout(Duration::from_millis(200))).await;
    srv.push(Reply::default_behaviour().delay(Duration::from_secs(30)));
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::DeadlineExceeded, "{e}");

    // A stream that stalls between events times out too.
    srv.set_stream_pace(Duration::from_secs(30));
    let event = json!({"candidates": [{"content": {"parts": [{"text": "a"}]}}]});
    srv.push(Reply::sse([event.clone(), event]));
    let e = ai
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::DeadlineExceeded, "{e}");
}

#[tokio::test]
async fn from_env_or_local_uses_the_local_server_without_a_key() {
    if KEY_VARS
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|k| !k.trim().is_empty()))
    {
        return; // A real key is set: this machine would talk to Gemini.
    }
    let (plugin, backend) = GoogleAi::from_env_or_local().await.unwrap();
    assert!(backend.is_local());
    assert!(
        matches!(&backend, Backend::Local { base_url } if base_url.starts_with("http://127.0.0.1:"))
    );
    assert!(
        backend
            .to_string()
            .contains("local Gemini-compatible server")
    );
    assert_eq!(plugin.base_url(), backend.base_url());
    let ai = genkit_with(plugin).await;
    assert_researches(&ai).await;
}

/// One tool round through the look-alike's deterministic answer.
async fn assert_researches(ai: &genkit_core::Genkit) {
    let r = ai
        .generate()
        .prompt("Research: Rust")
        .tools([web_search()])
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on web_search: Results for: Rust");
}

#[tokio::test]
async fn the_plugin_speaks_http2_to_the_look_alike_when_asked() {
    let srv = server().await;
    // The look-alike answers both versions on one port.
    let url = format!("{}/v1beta/models", srv.base_url());
    for (client, version) in [
        (reqwest::Client::new(), reqwest::Version::HTTP_11),
        (
            reqwest::Client::builder()
                .http2_prior_knowledge()
                .build()
                .unwrap(),
            reqwest::Version::HTTP_2,
        ),
    ] {
        let r = client
            .get(&url)
            .header("x-goog-api-key", KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.version(), version);
        assert_eq!(r.status().as_u16(), 200);
    }
    let ai = genkit_with(plugin(&srv).with_http2_prior_knowledge()).await;
    assert_researches(&ai).await;
    let mut stream = ai.generate().prompt("Tell me a long story").stream();
    let mut chunks = 0;
    while let Some(c) = stream.next().await {
        c.unwrap();
        chunks += 1;
    }
    assert!(chunks > 1, "{chunks} chunks");

    // A server that speaks only HTTP/1 refuses h2c: UNAVAILABLE, not a hang.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let ai = genkit_with(
        GoogleAi::new(KEY)
            .with_base_url(format!("http://{addr}"))
            .with_http2_prior_knowledge()
            .with_timeout(Duration::from_secs(5)),
    )
    .await;
    let e = ai.generate().prompt("hi").await.unwrap_err();
    assert_eq!(e.status(), Status::Unavailable, "{e}");
    assert!(!e.to_string().contains(KEY), "{e}");
}

#[tokio::test]
async fn the_server_answers_bad_requests_with_googles_error_body() {
    let srv = server().await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/v1beta/models/gemini-2.0-flash:generateContent",
        srv.base_url()
    );
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let r = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["status"], json!("PERMISSION_DENIED"));

    let bad = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}], "colour": 1}]});
    let r = http
        .post(&url)
        .header("x-goog-api-key", KEY)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], json!(400));
    assert_eq!(v["error"]["status"], json!("INVALID_ARGUMENT"));
    assert_eq!(
        v["error"]["message"],
        json!(
            "Invalid JSON payload received. Unknown name \"colour\" at 'contents[0]': Cannot find field."
        )
    );

    let bad_role = json!({"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]});
    let r = http
        .post(&url)
        .header("x-goog-api-key", KEY)
        .json(&bad_role)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["error"]["message"],
        json!("Please use a valid role: user, model.")
    );

    // models.list wants a key, as Gemini's does.
    let r = http
        .get(format!("{}/v1beta/models", srv.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let models: serde_json::Value = http
        .get(format!("{}/v1beta/models?pageSize=2", srv.base_url()))
        .header("x-goog-api-key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["models"].as_array().map(Vec::len), Some(2));
    assert_eq!(models["models"][0]["inputTokenLimit"], json!(1_048_576));
    let token = models["nextPageToken"].as_str().unwrap();
    let rest: serde_json::Value = http
        .get(format!(
            "{}/v1beta/models?pageSize=1000&pageToken={token}",
            srv.base_url()
        ))
        .header("x-goog-api-key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["models"].as_array().map(Vec::len), Some(3));
    assert!(rest.get("nextPageToken").is_none());
}

#[tokio::test]
async fn any_model_name_is_resolved_on_first_use() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    assert!(
        ai.registry()
            .list()
            .iter()
            .all(|a| a.desc().name != "googleai/gemini-3-pro-preview")
    );
    let r = ai
        .generate()
        .model("googleai/gemini-3-pro-preview")
        .prompt("hello")
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "This is the local Gemini server (gemini-3-pro-preview) answering: hello"
    );
    assert_eq!(
        srv.requests()[0].path,
        "/v1beta/models/gemini-3-pro-preview:generateContent"
    );
    // Kept: the second lookup returns the same action.
    let a = ai
        .registry()
        .model("googleai/gemini-3-pro-preview")
        .unwrap();
    let b = ai
        .registry()
        .model("googleai/gemini-3-pro-preview")
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    // Embedders too.
    let e = ai
        .embed("googleai/text-embedding-005", ["x"])
        .await
        .unwrap();
    assert_eq!(e.len(), 1);
    assert!(!e[0].embedding.is_empty());
}

#[tokio::test]
async fn a_model_gemini_does_not_have_is_not_found_with_googles_message() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let e = ai
        .generate()
        .model("googleai/gpt-4o")
        .prompt("hello")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound, "{e}");
    assert!(
        e.message()
            .contains("models/gpt-4o is not found for API version v1beta"),
        "{e}"
    );
    // A name of no plugin is still the registry's own NOT_FOUND.
    let e = ai
        .generate()
        .model("nobody/x")
        .prompt("hello")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert!(e.message().contains("Model 'nobody/x' not found"), "{e}");
}

#[tokio::test]
async fn known_models_are_listed_with_per_family_info() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let listed = ai.registry().list_resolvable();
    let names: Vec<String> = listed.iter().map(|a| a.desc().key.clone()).collect();
    for m in genkit_googleai::KNOWN_MODELS {
        assert!(names.contains(&format!("/model/googleai/{m}")), "{names:?}");
    }
    let gemma = ai.registry().model("googleai/gemma-3-27b-it").unwrap();
    let meta = gemma.desc().to_json();
    assert_eq!(meta["metadata"]["model"]["supports"]["tools"], json!(false));
    let gemini = ai
        .registry()
        .model("googleai/gemini-2.5-flash-lite")
        .unwrap();
    let meta = gemini.desc().to_json();
    assert_eq!(meta["metadata"]["model"]["supports"]["tools"], json!(true));
}
