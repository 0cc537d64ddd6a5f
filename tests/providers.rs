//! One conformance suite for every provider plugin, each against its local look-alike
//! server over real HTTP: streaming, parallel tools, typed output, interrupts and
//! resume, Retry, and a Fallback chain across the providers in the order listed.
//!
//! Adding a provider is one entry in [`providers`]: a [`LookAlike`] that starts its
//! server and hands out its plugin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use genkit::anthropic::Anthropic;
use genkit::anthropic::server::{
    LocalAnthropic, Reply as AnthropicReply, ServerOptions as AnthropicOptions,
};
use genkit::googleai::GoogleAi;
use genkit::googleai::server::{LocalGemini, Reply as GeminiReply, ServerOptions as GeminiOptions};
use genkit::middleware::{Fallback, Retry};
use genkit::openai::OpenAi;
use genkit::openai::server::{LocalOpenAi, Reply as OpenAiReply, ServerOptions as OpenAiOptions};
use genkit::{
    Error, FinishReason, Genkit, GenkitBuilder, JsonSchema, ToolAction, ToolContext, ToolRef,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// A provider's look-alike server and its plugin pointed at it.
trait LookAlike: Send + Sync {
    /// A model of the provider (`googleai/gemini-2.5-flash`).
    fn model(&self) -> &'static str;
    /// Adds the provider's plugin to an instance being built.
    fn plugin(&self, builder: GenkitBuilder) -> GenkitBuilder;
    /// Makes the server's next answer an error with this HTTP status, in the provider's
    /// own error body.
    fn fail_next(&self, status: u16, message: &str);
    /// How many requests the server has received.
    fn requests(&self) -> usize;
}

struct Gemini(LocalGemini);

impl LookAlike for Gemini {
    fn model(&self) -> &'static str {
        "googleai/gemini-2.5-flash"
    }
    fn plugin(&self, builder: GenkitBuilder) -> GenkitBuilder {
        builder.plugin(GoogleAi::new("conformance-key").with_base_url(self.0.base_url()))
    }
    fn fail_next(&self, status: u16, message: &str) {
        self.0.push(GeminiReply::error(status, message));
    }
    fn requests(&self) -> usize {
        self.0.requests().len()
    }
}

struct OpenAiServer(LocalOpenAi);

impl LookAlike for OpenAiServer {
    fn model(&self) -> &'static str {
        "openai/gpt-4o-mini"
    }
    fn plugin(&self, builder: GenkitBuilder) -> GenkitBuilder {
        builder.plugin(OpenAi::new("sk-conformance").with_base_url(self.0.base_url()))
    }
    fn fail_next(&self, status: u16, message: &str) {
        self.0.push(OpenAiReply::error(status, message));
    }
    fn requests(&self) -> usize {
        self.0.requests().len()
    }
}

struct AnthropicServer(LocalAnthropic);

impl LookAlike for AnthropicServer {
    fn model(&self) -> &'static str {
        "anthropic/claude-sonnet-4-5"
    }
    fn plugin(&self, builder: GenkitBuilder) -> GenkitBuilder {
        builder.plugin(Anthropic::new("sk-ant-conformance").with_base_url(self.0.base_url()))
    }
    fn fail_next(&self, status: u16, message: &str) {
        self.0.push(AnthropicReply::error(status, message));
    }
    fn requests(&self) -> usize {
        self.0.requests().len()
    }
}

type Start = fn() -> BoxFuture<'static, Box<dyn LookAlike>>;

/// Every provider, in the order of the fallback chain.
fn providers() -> Vec<(&'static str, Start)> {
    vec![
        ("gemini", || {
            Box::pin(async {
                Box::new(Gemini(
                    LocalGemini::start_with(GeminiOptions::default())
                        .await
                        .unwrap(),
                )) as _
            })
        }),
        ("openai", || {
            Box::pin(async {
                Box::new(OpenAiServer(
                    LocalOpenAi::start_with(OpenAiOptions::default())
                        .await
                        .unwrap(),
                )) as _
            })
        }),
        ("anthropic", || {
            Box::pin(async {
                Box::new(AnthropicServer(
                    LocalAnthropic::start_with(AnthropicOptions::default())
                        .await
                        .unwrap(),
                )) as _
            })
        }),
    ]
}

/// Every provider's server, and one instance with all their plugins.
async fn setup() -> (Vec<(&'static str, Box<dyn LookAlike>)>, Genkit) {
    let mut servers = Vec::new();
    for (name, start) in providers() {
        servers.push((name, start().await));
    }
    let mut builder = Genkit::builder().without_submitted_actions();
    for (_, s) in &servers {
        builder = s.plugin(builder);
    }
    (servers, builder.build().await.unwrap())
}

#[derive(Deserialize, JsonSchema)]
struct SearchInput {
    /// What to search for.
    query: String,
}

fn web_search(runs: Arc<AtomicUsize>) -> ToolRef {
    Arc::new(ToolAction::new(
        "web_search",
        "Search the web",
        move |input: SearchInput, _ctx| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Error>(format!("Results for: {}", input.query)) }
        },
    ))
}

#[tokio::test]
async fn streaming_sends_the_answer_in_pieces() {
    let (servers, ai) = setup().await;
    for (name, s) in &servers {
        let mut stream = ai
            .generate()
            .model(s.model())
            .prompt("Tell me about the Rust programming language")
            .stream();
        let mut pieces = Vec::new();
        while let Some(chunk) = stream.next().await {
            pieces.push(chunk.unwrap().text());
        }
        let r = stream.response().await.unwrap();
        assert!(pieces.len() > 2, "{name}: {pieces:?}");
        assert_eq!(pieces.concat(), r.text(), "{name}");
        assert!(
            r.text()
                .contains("Tell me about the Rust programming language"),
            "{name}: {}",
            r.text()
        );
        assert_eq!(r.finish_reason, Some(FinishReason::Stop), "{name}");
    }
}

#[tokio::test]
async fn parallel_tool_calls_run_and_are_answered() {
    let (servers, ai) = setup().await;
    for (name, s) in &servers {
        for streaming in [false, true] {
            let runs = Arc::new(AtomicUsize::new(0));
            let call = ai
                .generate()
                .model(s.model())
                .prompt("Compare: rust; go")
                .tools([web_search(runs.clone())]);
            let r = if streaming {
                let mut st = call.stream();
                while st.next().await.is_some() {}
                st.response().await.unwrap()
            } else {
                call.await.unwrap()
            };
            assert_eq!(
                runs.load(Ordering::SeqCst),
                2,
                "{name} streaming={streaming}"
            );
            let text = r.text();
            assert!(
                text.contains("Results for: rust") && text.contains("Results for: go"),
                "{name}: {text}"
            );
        }
    }
}

#[derive(Deserialize, JsonSchema, Debug)]
struct Person {
    name: String,
    age: u32,
}

#[tokio::test]
async fn typed_output_fits_the_schema() {
    let (servers, ai) = setup().await;
    for (name, s) in &servers {
        let r = ai
            .generate()
            .model(s.model())
            .prompt("Describe: Ada")
            .output::<Person>()
            .await
            .unwrap();
        let p: Person = r
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e} in {}", r.text()));
        assert_eq!(p.name, "Ada", "{name}: {p:?}");
        assert!(p.age > 0, "{name}");
    }
}

#[tokio::test]
async fn interrupts_then_resume() {
    let (servers, ai) = setup().await;
    for (name, s) in &servers {
        let approved = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = approved.clone();
        let delete = Arc::new(ToolAction::new(
            "delete_file",
            "Deletes a file",
            move |input: Value, ctx: ToolContext| {
                let log = log.clone();
                async move {
                    if ctx.resumed().and_then(|r| r.get("approved")) != Some(&json!(true)) {
                        return Err(ctx.interrupt(json!({"reason": "needs approval"})));
                    }
                    log.lock().unwrap().push(input.to_string());
                    Ok::<_, Error>("deleted")
                }
            },
        ));
        let first = ai
            .generate()
            .model(s.model())
            .prompt("Delete: /tmp/x")
            .tools([delete.clone()])
            .await
            .unwrap();
        assert_eq!(
            first.finish_reason,
            Some(FinishReason::Interrupted),
            "{name}"
        );
        let pending = first.interrupts()[0].clone();
        assert!(approved.lock().unwrap().is_empty());
        let done = ai
            .generate()
            .model(s.model())
            .messages(first.messages())
            .tools([delete])
            .restart(&pending, json!({"approved": true}))
            .await
            .unwrap();
        assert_eq!(approved.lock().unwrap().len(), 1, "{name}");
        assert!(done.text().contains("deleted"), "{name}: {}", done.text());
    }
}

#[tokio::test]
async fn retry_runs_again_after_an_unavailable_answer() {
    let (servers, ai) = setup().await;
    for (name, s) in &servers {
        s.fail_next(503, "The model is overloaded.");
        let before = s.requests();
        let r = ai
            .generate()
            .model(s.model())
            .prompt("hi")
            .use_(
                Retry::new()
                    .max_retries(2)
                    .initial_delay(Duration::from_millis(5))
                    .no_jitter(),
            )
            .await
            .unwrap();
        assert!(!r.text().is_empty(), "{name}");
        assert_eq!(s.requests() - before, 2, "{name}");
        // Without retry the same failure reaches the caller as UNAVAILABLE.
        s.fail_next(503, "The model is overloaded.");
        let e = ai
            .generate()
            .model(s.model())
            .prompt("hi")
            .await
            .unwrap_err();
        assert_eq!(e.status(), genkit::Status::Unavailable, "{name}");
    }
}

#[tokio::test]
async fn fallback_goes_down_the_chain_of_providers() {
    let (servers, ai) = setup().await;
    let chain: Vec<&str> = servers.iter().map(|(_, s)| s.model()).collect();
    // Provider i answers when every provider before it fails.
    for i in 0..servers.len() {
        for (_, s) in &servers[..i] {
            s.fail_next(503, "overloaded");
        }
        let before: Vec<usize> = servers.iter().map(|(_, s)| s.requests()).collect();
        let r = ai
            .generate()
            .model(chain[0])
            .prompt("hi")
            .use_(Fallback::new(chain[1..].iter().copied()))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", servers[i].0));
        assert!(!r.text().is_empty(), "{}", servers[i].0);
        for (j, (name, s)) in servers.iter().enumerate() {
            let asked = s.requests() - before[j];
            assert_eq!(asked, usize::from(j <= i), "{name} for answerer {i}");
        }
    }
}

// ---------------------------------------------------------------------------------
// The Dev UI's model list: `/api/actions` lists what each provider's `GET models`
// lists, with the info the list gives; a failing or slow list gives the fixed list.

/// `GET {path}` on the reflection server; the JSON body.
async fn get_json(port: u16, path: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).expect("JSON")
}

async fn dev_ui(ai: &Genkit) -> genkit::reflection::ReflectionServer {
    genkit::reflection::ReflectionServer::start(
        ai,
        genkit::reflection::ReflectionOptions::new()
            .port(0)
            .runtime_id("listing"),
    )
    .await
    .expect("reflection server")
}

#[tokio::test]
async fn dev_ui_lists_the_providers_models_with_their_info() {
    let gemini = LocalGemini::start_with(GeminiOptions::default().listed_model(
        genkit::googleai::server::listed_model("gemini-zeta-9", 123_456, 7_890),
    ))
    .await
    .unwrap();
    let openai = LocalOpenAi::start_with(OpenAiOptions::default().listed_model("gpt-zeta-9"))
        .await
        .unwrap();
    let anthropic = LocalAnthropic::start_with(AnthropicOptions::default().api_key("sk-ant-x"))
        .await
        .unwrap();
    anthropic.list_model("claude-zeta-9", "Claude Zeta 9");
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(GoogleAi::new("gemini-key").with_base_url(gemini.base_url()))
        .plugin(OpenAi::new("sk-openai").with_base_url(openai.base_url()))
        .plugin(Anthropic::new("sk-ant-x").with_base_url(anthropic.base_url()))
        .build()
        .await
        .unwrap();
    let srv = dev_ui(&ai).await;
    let actions = get_json(srv.port(), "/api/actions").await;

    let g = &actions["/model/googleai/gemini-zeta-9"];
    assert_eq!(
        g["metadata"]["googleai"]["inputTokenLimit"],
        json!(123_456),
        "{g}"
    );
    assert_eq!(
        g["metadata"]["googleai"]["outputTokenLimit"],
        json!(7_890),
        "{g}"
    );
    assert_eq!(
        g["metadata"]["model"]["label"],
        json!("Google AI - gemini-zeta-9")
    );
    assert_eq!(g["metadata"]["model"]["supports"]["tools"], json!(true));
    // The embedders the list gives are embedders; the fixed list is still there.
    assert!(
        actions
            .get("/embedder/googleai/gemini-embedding-001")
            .is_some()
    );
    assert!(actions.get("/model/googleai/gemma-3-27b-it").is_some());

    let o = &actions["/model/openai/gpt-zeta-9"];
    assert_eq!(
        o["metadata"]["model"]["supports"]["multiturn"],
        json!(true),
        "{o}"
    );
    assert!(
        actions
            .get("/embedder/openai/text-embedding-3-small")
            .is_some()
    );

    let a = &actions["/model/anthropic/claude-zeta-9"];
    assert_eq!(
        a["metadata"]["model"]["label"],
        json!("Anthropic - Claude Zeta 9"),
        "{a}"
    );

    // Each list request carried the plugin's key as its other calls do.
    let g_req = gemini.requests();
    assert!(
        g_req
            .iter()
            .any(|r| r.path == "/v1beta/models" && r.api_key.as_deref() == Some("gemini-key")),
        "{g_req:?}"
    );
    let o_req = openai.requests();
    assert!(
        o_req
            .iter()
            .any(|r| r.path == "/v1/models" && r.api_key.as_deref() == Some("sk-openai")),
        "{o_req:?}"
    );
    let a_req = anthropic.requests();
    assert!(
        a_req
            .iter()
            .any(|r| r.path == "/v1/models" && r.api_key.as_deref() == Some("sk-ant-x")),
        "{a_req:?}"
    );

    // The Dev UI polls: the lists are kept, not asked again.
    let again = get_json(srv.port(), "/api/actions").await;
    assert!(again.get("/model/googleai/gemini-zeta-9").is_some());
    assert_eq!(gemini.requests().len(), g_req.len());
    assert_eq!(openai.requests().len(), o_req.len());
    assert_eq!(anthropic.requests().len(), a_req.len());
}

#[tokio::test]
async fn a_failing_or_slow_list_still_gives_the_fixed_list() {
    let gemini = LocalGemini::start_with(
        GeminiOptions::default()
            .listed_model(genkit::googleai::server::listed_model(
                "gemini-zeta-9",
                1,
                1,
            ))
            .list_error(500),
    )
    .await
    .unwrap();
    let openai = LocalOpenAi::start_with(OpenAiOptions::default().listed_model("gpt-zeta-9"))
        .await
        .unwrap();
    // Longer than the 5 s `/api/actions` waits for a list.
    openai.push(OpenAiReply::Delay(Duration::from_secs(8)));
    let anthropic = LocalAnthropic::start_with(AnthropicOptions::default().list_error(503))
        .await
        .unwrap();
    anthropic.list_model("claude-zeta-9", "Claude Zeta 9");
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(GoogleAi::new("gemini-key").with_base_url(gemini.base_url()))
        .plugin(OpenAi::new("sk-openai").with_base_url(openai.base_url()))
        .plugin(Anthropic::new("sk-ant-x").with_base_url(anthropic.base_url()))
        .build()
        .await
        .unwrap();
    let srv = dev_ui(&ai).await;
    let started = std::time::Instant::now();
    let actions = get_json(srv.port(), "/api/actions").await;
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    for key in [
        "/model/googleai/gemini-2.5-flash",
        "/model/googleai/gemma-3-27b-it",
        "/embedder/googleai/text-embedding-004",
        "/model/openai/gpt-4o-mini",
        "/model/anthropic/claude-sonnet-4-5",
    ] {
        assert!(actions.get(key).is_some(), "{key} missing");
    }
    for key in [
        "/model/googleai/gemini-zeta-9",
        "/model/openai/gpt-zeta-9",
        "/model/anthropic/claude-zeta-9",
    ] {
        assert!(actions.get(key).is_none(), "{key} listed");
    }
    // The family info of a fixed-list model.
    assert_eq!(
        actions["/model/googleai/gemma-3-27b-it"]["metadata"]["model"]["supports"]["tools"],
        json!(false)
    );
}
