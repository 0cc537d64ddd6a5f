//! A Genkit instance on a local Gemini-compatible server, a few flows, and a server on
//! 127.0.0.1 serving an axum Router.

#![allow(dead_code)]

use std::sync::Arc;

use genkit_core::{Error, FlowContext, Genkit, Status};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

#[derive(Deserialize, Serialize, JsonSchema)]
pub struct SearchInput {
    pub query: String,
}

/// Sends a message when dropped: tells a test that a run was cancelled.
pub struct DropSignal(pub mpsc::UnboundedSender<&'static str>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

pub struct App {
    pub ai: Genkit,
    pub gemini: LocalGemini,
    /// Receives "dropped" when a `hang` run is dropped.
    pub dropped: mpsc::UnboundedReceiver<&'static str>,
}

/// A Genkit instance with the flows `research` (a 2-turn tool loop), `research_stream`
/// (the same, streaming the model's chunks), `whoami` (returns its context), `boom`
/// (an internal error), `missing` (a NOT_FOUND error) and `hang` (streams one chunk,
/// then waits forever).
pub async fn app() -> App {
    let gemini = LocalGemini::start().await.expect("local gemini");
    let ai = Genkit::builder()
        .plugin(GoogleAi::new("test-key").with_base_url(gemini.base_url()))
        .model("googleai/gemini-2.0-flash")
        .without_submitted_actions()
        .build()
        .await
        .expect("genkit");
    let web_search = ai
        .define_tool(
            "web_search",
            "Search the web for a query.",
            |input: SearchInput, _ctx| async move {
                Ok::<_, Error>(format!("Results for: {}", input.query))
            },
        )
        .expect("tool");
    let tool = web_search.clone();
    ai.define_flow(
        "research",
        move |ai: Genkit, input: SearchInput, _cx: FlowContext| {
            let tool = tool.clone();
            async move {
                let r = ai
                    .generate()
                    .prompt(format!("Research: {}", input.query))
                    .tools([tool])
                    .await?;
                Ok::<_, Error>(r.text())
            }
        },
    )
    .expect("flow");
    let tool = web_search.clone();
    ai.define_flow(
        "research_stream",
        move |ai: Genkit, input: SearchInput, cx: FlowContext| {
            let tool = tool.clone();
            async move {
                use futures::StreamExt;
                let mut stream = ai
                    .generate()
                    .prompt(format!("Research: {}", input.query))
                    .tools([tool])
                    .stream();
                while let Some(chunk) = stream.next().await {
                    cx.send_chunk(chunk?.text()).await?;
                }
                Ok::<_, Error>(stream.response().await?.text())
            }
        },
    )
    .expect("flow");
    ai.define_flow(
        "whoami",
        |_ai: Genkit, _input: Value, cx: FlowContext| async move {
            Ok::<_, Error>(cx.context().cloned().unwrap_or(Value::Null))
        },
    )
    .expect("flow");
    ai.define_flow(
        "boom",
        |_ai: Genkit, _input: Value, _cx: FlowContext| async move {
            Err::<String, _>(Error::internal("db password is hunter2"))
        },
    )
    .expect("flow");
    ai.define_flow(
        "missing",
        |_ai: Genkit, _input: Value, _cx: FlowContext| async move {
            Err::<String, _>(Error::new(Status::NotFound, "no such document: d1"))
        },
    )
    .expect("flow");
    let (tx, dropped) = mpsc::unbounded_channel();
    let tx = Arc::new(tx);
    ai.define_flow(
        "hang",
        move |_ai: Genkit, _input: Value, cx: FlowContext| {
            let guard = DropSignal((*tx).clone());
            async move {
                let _guard = guard;
                cx.send_chunk("started").await?;
                std::future::pending::<()>().await;
                Ok::<_, Error>("never".to_string())
            }
        },
    )
    .expect("flow");
    App {
        ai,
        gemini,
        dropped,
    }
}

/// Serves `router` on 127.0.0.1 at a free port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = genkit_axum::bind("127.0.0.1:0").await.expect("bind");
    let addr = axum::serve::Listener::local_addr(&listener).expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// The frames of an SSE body, each checked to be `data: <one-line JSON>`.
pub fn frames(body: &str) -> Vec<Value> {
    assert!(
        body.ends_with("\n\n"),
        "the stream must end with a blank line: {body:?}"
    );
    body.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|f| {
            let json = f
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("frame without `data: `: {f:?}"));
            assert!(!json.contains('\n'), "frame spans lines: {f:?}");
            serde_json::from_str(json).unwrap_or_else(|e| panic!("bad frame {f:?}: {e}"))
        })
        .collect()
}
