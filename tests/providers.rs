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
