//! Interrupts end to end over the real wire: a served flow whose generation meets
//! `ToolApproval` answers its HTTP caller with the interruption (FAILED_PRECONDITION,
//! `details` = `Interruption`), and the caller resumes by sending it back with its
//! answer; a served agent streams the interrupted requests on its `turnEnd` and takes
//! the approval as the next input. The model is the local Gemini-compatible server.

mod common;

use genkit::Interruption;
use genkit::agent::InMemorySessionStore;
use genkit::axum::axum::{Router, routing::post};
use genkit::googleai::GoogleAi;
use genkit::googleai::server::LocalGemini;
use genkit::middleware::ToolApproval;
use genkit::prelude::*;

#[derive(Deserialize, Serialize, JsonSchema)]
struct SearchInput {
    query: String,
}

/// Search the web for a query.
#[genkit::tool]
async fn web_search(input: SearchInput) -> Result<String> {
    Ok(format!("Results for: {}", input.query))
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct ResearchInput {
    query: String,
    /// An `Interruption` sent back with `resume` answers.
    #[serde(default)]
    interruption: Option<Interruption>,
}

/// The README's recipe: an approval-gated tool in a served flow.
#[genkit::flow]
async fn research_flow(ai: &Genkit, input: ResearchInput) -> Result<String> {
    let call = match input.interruption {
        Some(i) => ai
            .generate()
            .messages(i.messages)
            .resume(i.resume.unwrap_or_default()),
        None => ai.generate().prompt(format!("Research: {}", input.query)),
    };
    let response = call.tools([web_search]).use_(ToolApproval::new()).await?;
    Ok(response.ok_or_interrupted()?.text())
}

struct Served {
    url: String,
    _gemini: LocalGemini,
}

/// An instance on the local Gemini-compatible server (every `#[tool]`/`#[flow]` registered).
async fn genkit(gemini: &LocalGemini) -> Genkit {
    Genkit::builder()
        .plugin(GoogleAi::new("test-key").with_base_url(gemini.base_url()))
        .model("googleai/gemini-2.0-flash")
        .build()
        .await
        .expect("genkit")
}

async fn serve() -> Served {
    let gemini = LocalGemini::start().await.expect("local gemini");
    let ai = genkit(&gemini).await;
    let agent = ai
        .define_agent("myAgent")
        .tools([web_search])
        .use_(ToolApproval::new())
        .store(InMemorySessionStore::new())
        .build()
        .expect("agent");
    let app = Router::new()
        .route("/research", post(genkit::axum::flow(research_flow)))
        .merge(genkit::axum::agent(agent))
        .with_state(ai);
    let listener = genkit::axum::bind("127.0.0.1:0").await.expect("bind");
    let addr = genkit::axum::axum::serve::Listener::local_addr(&listener).expect("addr");
    tokio::spawn(async move { genkit::axum::axum::serve(listener, app).await });
    Served {
        url: format!("http://{addr}"),
        _gemini: gemini,
    }
}

async fn post_json(url: &str, path: &str, body: Value) -> (u16, String) {
    let (url, path) = (url.to_string(), path.to_string());
    tokio::task::spawn_blocking(move || common::http(&url, "POST", &path, &body.to_string()))
        .await
        .expect("http")
}

/// The JSON of each `data:` frame of an SSE body.
fn frames(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).expect("a JSON frame"))
        .collect()
}

/// `resume.restart` approving every interrupted request, as an HTTP client writes it.
fn approve_all(interrupts: &Value) -> Value {
    let restart: Vec<Value> = interrupts
        .as_array()
        .expect("interrupts")
        .iter()
        .map(|p| json!({"toolRequest": p["toolRequest"], "metadata": {"resumed": {"toolApproved": true}}}))
        .collect();
    json!({ "restart": restart })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_flow_answers_an_interrupt_and_resumes_from_it() {
    let s = serve().await;
    let (status, body) = post_json(&s.url, "/research", json!({"data": {"query": "Rust"}})).await;
    assert_eq!(status, 400, "{body}");
    let err: Value = serde_json::from_str(&body).expect("error JSON");
    assert_eq!(err["status"], "FAILED_PRECONDITION", "{body}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`web_search`"),
        "{body}"
    );
    let details = &err["details"];
    let interrupts = &details["interrupts"];
    assert_eq!(interrupts[0]["toolRequest"]["name"], "web_search", "{body}");
    assert_eq!(
        interrupts[0]["toolRequest"]["input"],
        json!({"query": "Rust"}),
        "{body}"
    );
    assert!(interrupts[0]["metadata"]["interrupt"].is_object(), "{body}");
    let messages = details["messages"].as_array().expect("messages");
    assert_eq!(messages.first().map(|m| &m["role"]), Some(&json!("user")));
    assert_eq!(messages.last().map(|m| &m["role"]), Some(&json!("model")));

    // Streaming callers get the same error as the last frame.
    let (status, sse) = post_json(
        &s.url,
        "/research?stream=true",
        json!({"data": {"query": "Rust"}}),
    )
    .await;
    assert_eq!(status, 200, "{sse}");
    let last = frames(&sse).pop().expect("a frame");
    assert_eq!(last["error"]["status"], "FAILED_PRECONDITION", "{sse}");
    assert_eq!(last["error"]["details"]["interrupts"], *interrupts, "{sse}");

    // The caller approves: the interruption goes back with `resume`; the tool runs.
    let mut interruption = details.clone();
    interruption["resume"] = approve_all(interrupts);
    let (status, body) = post_json(
        &s.url,
        "/research",
        json!({"data": {"query": "Rust", "interruption": interruption}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let out: Value = serde_json::from_str(&body).expect("result JSON");
    assert_eq!(
        out["result"], "Based on web_search: Results for: Rust",
        "{body}"
    );

    // Or denies: the model reads the refusal instead of the tool's result.
    let mut denied = details.clone();
    let mut answer = json!({"name": "web_search", "output": ToolApproval::denied("not now")});
    if let Some(r) = interrupts[0]["toolRequest"].get("ref") {
        answer["ref"] = r.clone();
    }
    denied["resume"] = json!({"respond": [
        {"toolResponse": answer, "metadata": {"interruptResponse": true}}
    ]});
    let (status, body) = post_json(
        &s.url,
        "/research",
        json!({"data": {"query": "Rust", "interruption": denied}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let out: Value = serde_json::from_str(&body).expect("result JSON");
    let text = out["result"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Based on web_search:") && text.contains("not now"),
        "{body}"
    );
    assert!(!text.contains("Results for"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_agent_streams_interrupts_on_turn_end_and_takes_the_approval() {
    let s = serve().await;
    let (status, sse) = post_json(
        &s.url,
        "/myAgent?stream=true",
        json!({"data": {"message": {"role": "user", "content": [{"text": "Search: Rust"}]}}}),
    )
    .await;
    assert_eq!(status, 200, "{sse}");
    let frames = frames(&sse);
    let turn_end = frames
        .iter()
        .find_map(|f| f["message"].get("turnEnd"))
        .expect("a turnEnd chunk");
    assert_eq!(turn_end["finishReason"], "interrupted", "{sse}");
    let interrupts = &turn_end["interrupts"];
    assert_eq!(interrupts[0]["toolRequest"]["name"], "web_search", "{sse}");
    assert_eq!(
        interrupts[0]["toolRequest"]["input"],
        json!({"query": "Rust"}),
        "{sse}"
    );
    let session = frames
        .last()
        .and_then(|f| f["result"]["sessionId"].as_str())
        .expect("the output's sessionId")
        .to_string();

    // The next input of the session approves it; the tool runs and the model answers.
    let (status, body) = post_json(
        &s.url,
        "/myAgent",
        json!({"data": {"resume": approve_all(interrupts)}, "init": {"sessionId": session}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let out: Value = serde_json::from_str(&body).expect("result JSON");
    assert_eq!(out["result"]["finishReason"], "stop", "{body}");
    // The streamed parts are kept as streamed: the answer is their text, joined.
    let text: String = out["result"]["message"]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(text, "Based on web_search: Results for: Rust", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_stream_in_process_carries_interrupts_on_turn_end() {
    let gemini = LocalGemini::start().await.expect("local gemini");
    let ai = genkit(&gemini).await;
    let agent = ai
        .define_agent("approver")
        .tools([web_search])
        .use_(ToolApproval::new())
        .build()
        .expect("agent");
    let mut conn = agent.stream_bidi().await.expect("connect");
    conn.send_text("Search: Rust").await.expect("send");
    let mut answered = 0;
    while let Some(chunk) = conn.next().await {
        let Some(end) = chunk.expect("chunk").turn_end else {
            continue;
        };
        if end.interrupts().is_empty() {
            assert_eq!(
                end.finish_reason,
                Some(genkit::agent::AgentFinishReason::Stop)
            );
            conn.close();
            continue;
        }
        assert_eq!(
            end.finish_reason,
            Some(genkit::agent::AgentFinishReason::Interrupted)
        );
        for part in end.interrupts() {
            let input = genkit::agent::AgentInput::restart(part, json!({"toolApproved": true}));
            conn.send(input).await.expect("send");
            answered += 1;
        }
    }
    assert_eq!(answered, 1);
    let out = conn.output().await.expect("output");
    assert_eq!(out.text(), "Based on web_search: Results for: Rust");
}
