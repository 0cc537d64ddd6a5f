//! The wire is Anthropic's own: requests the plugin sends validate against the
//! official Python SDK's request types (pydantic `TypeAdapter` over
//! `MessageCreateParamsNonStreaming` / `MessageCreateParamsStreaming`), our strict
//! schemas equal the SDK's `transform_schema`, and the SDK used as a client of the
//! local server gets well-formed answers (create, stream, tools, thinking, errors).
//!
//! The SDK (`anthropic` from PyPI) is installed on first use into a venv under
//! `$GENKIT_RS_CACHE` by `genkit_testkit::python_env`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{KEY, genkit, server, web_search};
use futures::StreamExt;
use genkit_anthropic::server::Reply;
use genkit_core::{Message, Part, Role, ToolChoice};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const SDK: &str = "anthropic==2.15.0";

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(name)
}

/// Runs a script of `tests/sdk` with the SDK's python; its stdout's last line as JSON.
async fn run_python(name: &'static str, args: Vec<String>) -> Value {
    tokio::task::spawn_blocking(move || {
        let python = genkit_testkit::python_env(&[SDK]);
        let out = Command::new(python)
            .arg(script(name))
            .args(&args)
            .output()
            .expect("python runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name} failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {stdout}"))
    })
    .await
    .expect("python task")
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Report {
    /// The title.
    title: String,
    pages: u32,
    tags: Vec<String>,
    score: Option<f64>,
    kind: Kind,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
enum Kind {
    Short,
    Long,
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_the_plugin_sends_validate_against_the_sdk_types() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    // Text, system, config.
    ai.generate()
        .system("Be brief.")
        .prompt("hi")
        .config(
            json!({"temperature": 0.5, "stopSequences": ["END"], "maxOutputTokens": 300,
            "metadata": {"user_id": "u1"}, "service_tier": "auto",
            "output_config": {"effort": "low"}}),
        )
        .await
        .unwrap();
    // Parallel tools with tool choice, thinking sent back with its signature.
    ai.generate()
        .prompt("Compare: rust; go")
        .tools([web_search()])
        .tool_choice(ToolChoice::Auto)
        .config(json!({"thinking": {"enabled": true, "budgetTokens": 1024}}))
        .await
        .unwrap();
    // Images (base64 and URL), a PDF, data.
    ai.generate()
        .message(Message::new(
            Role::User,
            vec![
                Part::text("Look"),
                Part::media("data:image/png;base64,iVBORw0KGgo=", None),
                Part::media("https://example.com/a.webp", Some("image/webp".into())),
                Part::media("https://example.com/a.pdf", Some("application/pdf".into())),
                Part::data(json!({"k": 1})),
            ],
        ))
        .await
        .unwrap();
    // Structured output.
    ai.generate()
        .prompt("Describe: Rust")
        .output::<Report>()
        .await
        .unwrap();
    // Streaming, with tools.
    let mut s = ai
        .generate()
        .prompt("Search: a; b")
        .tools([web_search()])
        .stream();
    while let Some(c) = s.next().await {
        c.unwrap();
    }
    s.response().await.unwrap();

    let bodies: Vec<Value> = srv.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 7);
    assert!(bodies.iter().any(|b| b["stream"] == json!(true)));
    let input = schemars::schema_for!(Report);
    let input = serde_json::to_value(&input).unwrap();
    let ours = genkit_anthropic::translate::strict_schema(&input);
    let file = std::env::temp_dir().join(format!(
        "genkit-anthropic-bodies-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &file,
        json!({"bodies": bodies, "schemas": [{"input": input, "ours": ours}]}).to_string(),
    )
    .unwrap();
    let out = run_python("validate_requests.py", vec![file.display().to_string()]).await;
    let _ = std::fs::remove_file(&file);
    assert_eq!(out["checked"], json!(7));
    assert_eq!(out["schemas"], json!(1));
    assert_eq!(out["errors"], json!([]), "{out:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_as_a_client_of_the_local_server() {
    let srv = server().await;
    srv.push(Reply::overloaded());
    srv.push(Reply::rate_limited(3));
    let out = run_python("client.py", vec![srv.base_url(), KEY.to_string()]).await;
    assert_eq!(
        out["overloaded"],
        json!({"class": "OverloadedError", "status": 529, "type": "overloaded_error", "retry_after": null})
    );
    assert_eq!(
        out["rate_limited"],
        json!({"class": "RateLimitError", "status": 429, "type": "rate_limit_error", "retry_after": "3"})
    );
    assert_eq!(out["text"]["type"], json!("Message"));
    assert_eq!(
        out["text"]["text"],
        json!(
            "This is the local Anthropic server (claude-sonnet-4-5) answering: Why is the sky blue?"
        )
    );
    assert_eq!(out["text"]["stop_reason"], json!("end_turn"));
    assert_eq!(out["text"]["usage"], json!([7, 13]));
    let tools = &out["tools"];
    assert_eq!(tools["stop_reason"], json!("tool_use"));
    assert_eq!(tools["kinds"], json!(["thinking", "tool_use", "tool_use"]));
    assert_eq!(tools["inputs"], json!([{"query": "rust"}, {"query": "go"}]));
    assert_eq!(
        tools["answer"],
        json!(["Based on web_search: Results for: rust\nBased on web_search: Results for: go"])
    );
    assert_eq!(
        out["forged"],
        json!("messages.1.content.0: Invalid `signature` in `thinking` block")
    );
    let stream = &out["stream"];
    let pieces: Vec<&str> = stream["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(pieces.len() > 2, "{pieces:?}");
    assert_eq!(
        pieces.concat(),
        "This is the local Anthropic server (claude-sonnet-4-5) answering: Tell me about Rust"
    );
    assert_eq!(stream["final"][0]["type"], json!("thinking"));
    assert_eq!(
        stream["final"][0]["thinking"],
        json!("Thinking about: Tell me about Rust")
    );
    assert!(
        stream["final"][0]["signature"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(stream["final"][1]["text"], json!(pieces.concat()));
    assert_eq!(stream["stop_reason"], json!("end_turn"));
    assert_eq!(stream["output_tokens"], json!(18));
    assert_eq!(
        out["stream_tools"]["inputs"],
        json!([{"query": "a"}, {"query": "b"}])
    );
    let raw: Vec<&str> = out["raw_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(raw.first(), Some(&"message_start"));
    assert_eq!(&raw[raw.len() - 2..], ["message_delta", "message_stop"]);
    assert_eq!(
        out["bad"],
        json!({"type": "invalid_request_error", "message": "messages: at least one message is required"})
    );
    assert!(
        out["models"]
            .as_array()
            .unwrap()
            .contains(&json!("claude-sonnet-4-5"))
    );
}
