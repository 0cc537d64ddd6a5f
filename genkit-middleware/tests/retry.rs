//! `Retry` against the local Gemini-compatible server over real HTTP on 127.0.0.1.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Delays, genkit, ms, server};
use futures::StreamExt;
use genkit_core::{RunOptions, Status};
use genkit_googleai::server::Reply;
use genkit_middleware::Retry;
use serde_json::json;

const ANSWER: &str = "This is the local Gemini server (gemini-2.0-flash) answering: hi";

#[tokio::test]
async fn a_429_then_a_503_then_success_takes_exactly_two_retries() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(
        429,
        "Resource has been exhausted (e.g. check quota).",
    ));
    srv.push(Reply::error(
        503,
        "The model is overloaded. Please try again later.",
    ));
    let delays = Delays::default();
    let r = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter())
        .await
        .unwrap();
    assert_eq!(r.text(), ANSWER);
    assert_eq!(srv.requests().len(), 3);
    // Genkit's defaults: 1 s, then ×2.
    assert_eq!(delays.get(), [ms(1000), ms(2000)]);
}

#[tokio::test]
async fn jittered_delays_stay_within_genkit_bounds() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "overloaded"));
    srv.push(Reply::error(503, "overloaded"));
    let delays = Delays::default();
    ai.generate()
        .prompt("hi")
        .use_(delays.retry())
        .await
        .unwrap();
    let d = delays.get();
    assert_eq!(d.len(), 2);
    // delay_i = current + 1000 ms × 2^i × rand[0,1)
    assert!(d[0] >= ms(1000) && d[0] < ms(2000), "{d:?}");
    assert!(d[1] >= ms(2000) && d[1] < ms(4000), "{d:?}");
}

#[tokio::test(start_paused = true)]
async fn the_real_sleep_waits_on_tokios_clock() {
    // With tokio's clock paused, the waits pass without real sleeping; the virtual
    // clock moved by at least the two delays.
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "overloaded"));
    srv.push(Reply::error(503, "overloaded"));
    let started = tokio::time::Instant::now();
    let real = std::time::Instant::now();
    let r = ai
        .generate()
        .prompt("hi")
        .use_(Retry::new().no_jitter())
        .await
        .unwrap();
    assert_eq!(r.text(), ANSWER);
    assert_eq!(srv.requests().len(), 3);
    assert!(started.elapsed() >= ms(3000), "{:?}", started.elapsed());
    assert!(real.elapsed() < Duration::from_secs(3), "slept for real");
}

#[tokio::test]
async fn the_servers_retry_hint_is_honoured() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::rate_limited(Duration::from_secs(5)));
    srv.push(Reply::error(503, "overloaded").retry_after(7));
    let delays = Delays::default();
    ai.generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter())
        .await
        .unwrap();
    // RetryInfo 5 s beats the 1 s backoff; Retry-After 7 s beats 2 s.
    assert_eq!(delays.get(), [ms(5000), ms(7000)]);
}

#[tokio::test]
async fn invalid_argument_is_not_retried() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(400, "Invalid JSON payload received."));
    let delays = Delays::default();
    let e = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert_eq!(e.message(), "Invalid JSON payload received.");
    assert_eq!(srv.requests().len(), 1);
    assert!(delays.get().is_empty());
}

#[tokio::test]
async fn exhausted_retries_return_the_last_error_unchanged() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "overloaded"));
    srv.push(Reply::error(503, "overloaded"));
    srv.push(Reply::error(429, "quota").retry_after(1));
    srv.push(Reply::error(503, "never reached"));
    let delays = Delays::default();
    let e = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().max_retries(2).no_jitter())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::ResourceExhausted);
    assert_eq!(e.message(), "quota");
    let details = e.details().unwrap();
    assert_eq!(details["httpStatus"], json!(429));
    assert_eq!(details["retryAfterMs"], json!(1000));
    assert_eq!(srv.requests().len(), 3);
    assert_eq!(delays.get(), [ms(1000), ms(2000)]);
    assert_eq!(srv.pending(), 1);
}

#[tokio::test]
async fn statuses_are_configurable() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "overloaded"));
    let delays = Delays::default();
    let e = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().statuses([Status::ResourceExhausted]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::Unavailable);
    assert_eq!(srv.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_that_fails_before_its_first_chunk_is_retried() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    // An HTTP error, then a stream whose connection breaks before any event.
    srv.push(Reply::error(503, "overloaded"));
    srv.push(Reply::sse(Vec::<serde_json::Value>::new()).break_after(0));
    let delays = Delays::default();
    let mut stream = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter())
        .stream();
    let mut text = String::new();
    while let Some(c) = stream.next().await {
        text.push_str(&c.unwrap().text());
    }
    let r = stream.response().await.unwrap();
    assert_eq!(r.text(), ANSWER);
    // Every chunk once: the failed attempts sent none.
    assert_eq!(text, ANSWER);
    assert_eq!(srv.requests().len(), 3);
    assert!(
        srv.requests()
            .iter()
            .all(|q| q.path.ends_with(":streamGenerateContent"))
    );
    assert_eq!(delays.get(), [ms(1000), ms(2000)]);
}

#[tokio::test]
async fn a_stream_that_fails_after_a_chunk_is_not_retried() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let event = |t: &str| json!({"candidates": [{"content": {"role": "model", "parts": [{"text": t}]}, "index": 0}]});
    srv.push(Reply::sse([event("Hello "), event("world")]).break_after(1));
    let delays = Delays::default();
    let mut stream = ai.generate().prompt("hi").use_(delays.retry()).stream();
    let mut texts = Vec::new();
    let mut error = None;
    while let Some(c) = stream.next().await {
        match c {
            Ok(c) => texts.push(c.text()),
            Err(e) => error = Some(e),
        }
    }
    let e = error.expect("the stream ends with its error");
    assert_eq!(e.status(), Status::Unavailable, "{e}");
    assert_eq!(texts, ["Hello "]);
    assert_eq!(srv.requests().len(), 1);
    assert!(delays.get().is_empty());
}

#[tokio::test]
async fn a_tool_that_already_ran_is_not_run_again() {
    use genkit_core::{Error, ToolAction};
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct Q {
        query: String,
    }
    let runs = Arc::new(Mutex::new(0));
    let counter = runs.clone();
    let tool = Arc::new(ToolAction::new(
        "web_search",
        "Search the web",
        move |q: Q, _| {
            *counter.lock().unwrap() += 1;
            async move { Ok::<_, Error>(format!("Results for: {}", q.query)) }
        },
    ));
    let srv = server().await;
    let ai = genkit(&srv).await;
    // First model call answers with a tool request (default rule); the second fails
    // once, then succeeds.
    srv.push(Reply::default_behaviour());
    srv.push(Reply::error(503, "overloaded"));
    let delays = Delays::default();
    let r = ai
        .generate()
        .prompt("Search the web: rust")
        .tools([tool])
        .use_(delays.retry())
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on web_search: Results for: rust");
    assert_eq!(*runs.lock().unwrap(), 1);
    assert_eq!(srv.requests().len(), 3);
    assert_eq!(delays.get().len(), 1);
}

#[tokio::test]
async fn util_generate_finds_retry_by_name_with_its_json_config() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "overloaded"));
    let input = json!({
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "use": [{"name": "retry", "config": {"maxRetries": 1, "initialDelayMs": 0, "noJitter": true}}],
    });
    let out = ai
        .run_action("/util/generate", input.clone(), RunOptions::default())
        .await
        .unwrap();
    assert_eq!(out["message"]["content"][0]["text"], json!(ANSWER));
    assert_eq!(srv.requests().len(), 2);

    // maxRetries 1: two failures are returned.
    srv.push(Reply::error(503, "overloaded"));
    srv.push(Reply::error(503, "still overloaded"));
    let e = ai
        .run_action("/util/generate", input, RunOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.message()),
        (Status::Unavailable, "still overloaded")
    );

    // An unknown name, and a bad config, are errors of the request.
    let e = ai
        .run_action(
            "/util/generate",
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "use": [{"name": "nope"}]}),
            RunOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    let e = ai
        .run_action(
            "/util/generate",
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "use": [{"name": "retry", "config": {"statuses": ["SOMETIMES"]}}]}),
            RunOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("SOMETIMES"), "{e}");
}

#[tokio::test]
async fn registered_middleware_are_listed_with_their_config_schema() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let list = ai.registry().list_middleware();
    let names: Vec<&str> = list.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "artifacts",
            "fallback",
            "filesystem",
            "retry",
            "skills",
            "tool_approval"
        ]
    );
    let retry = ai.registry().middleware("retry").unwrap().desc_json();
    let props = &retry["configSchema"]["properties"];
    for key in [
        "maxRetries",
        "statuses",
        "initialDelayMs",
        "maxDelayMs",
        "backoffFactor",
        "noJitter",
    ] {
        assert!(props.get(key).is_some(), "{key} missing in {retry}");
    }
    assert!(retry["description"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn instance_middleware_wrap_every_call() {
    let srv = server().await;
    let delays = Delays::default();
    let ai = genkit_core::Genkit::builder()
        .without_submitted_actions()
        .plugin(
            genkit_googleai::GoogleAi::new(common::KEY)
                .with_base_url(srv.base_url())
                .with_timeout(Duration::from_secs(20)),
        )
        .model("googleai/gemini-2.0-flash")
        .use_(delays.retry().no_jitter())
        .build()
        .await
        .unwrap();
    srv.push(Reply::error(503, "overloaded"));
    let r = ai.generate().prompt("hi").await.unwrap();
    assert_eq!(r.text(), ANSWER);
    assert_eq!(delays.get(), [ms(1000)]);
}
