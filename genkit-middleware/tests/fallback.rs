//! `Fallback` against the local Gemini-compatible server over real HTTP on 127.0.0.1.

mod common;

use common::{Delays, genkit, ms, server};
use futures::StreamExt;
use genkit_core::Status;
use genkit_googleai::server::Reply;
use genkit_middleware::{Fallback, FallbackModel};
use serde_json::json;

#[tokio::test]
async fn a_second_model_answers_when_the_first_is_exhausted() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::rate_limited(std::time::Duration::from_secs(30)));
    let r = ai
        .generate()
        .model("googleai/gemini-2.5-pro")
        .prompt("hi")
        .config(json!({"temperature": 0.5}))
        .use_(Fallback::new(["googleai/gemini-2.0-flash"]))
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "This is the local Gemini server (gemini-2.0-flash) answering: hi"
    );
    let note = &r.custom.as_ref().unwrap()["fallback"];
    assert_eq!(note["model"], json!("googleai/gemini-2.0-flash"));
    assert_eq!(note["errors"][0]["model"], json!("googleai/gemini-2.5-pro"));
    assert_eq!(note["errors"][0]["status"], json!("RESOURCE_EXHAUSTED"));
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].path.contains("gemini-2.5-pro"));
    assert!(reqs[1].path.contains("gemini-2.0-flash"));
    // The fallback inherits the request's config.
    assert_eq!(reqs[1].body["generationConfig"]["temperature"], json!(0.5));
}

#[tokio::test]
async fn the_primary_answer_is_untouched() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new(["googleai/gemini-2.5-flash"]))
        .await
        .unwrap();
    assert!(r.custom.as_ref().and_then(|c| c.get("fallback")).is_none());
    assert_eq!(srv.requests().len(), 1);
}

#[tokio::test]
async fn models_are_tried_in_order_and_the_last_error_is_returned() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "primary down"));
    srv.push(Reply::error(500, "second down"));
    srv.push(Reply::error(429, "third exhausted"));
    let e = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new([
            "googleai/gemini-2.5-flash",
            "googleai/gemini-2.5-pro",
        ]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.message()),
        (Status::ResourceExhausted, "third exhausted")
    );
    let paths: Vec<String> = srv.requests().into_iter().map(|r| r.path).collect();
    assert!(paths[0].contains("gemini-2.0-flash"));
    assert!(paths[1].contains("gemini-2.5-flash"));
    assert!(paths[2].contains("gemini-2.5-pro"));
}

#[tokio::test]
async fn other_statuses_do_not_fall_back() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(400, "bad request"));
    let e = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new(["googleai/gemini-2.5-flash"]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert_eq!(srv.requests().len(), 1);

    // A fallback failing outside the statuses stops the chain.
    srv.push(Reply::error(503, "down"));
    srv.push(Reply::error(403, "denied"));
    let e = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new([
            "googleai/gemini-2.5-flash",
            "googleai/gemini-2.5-pro",
        ]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied);
    assert_eq!(srv.requests().len(), 3);

    // Only the configured statuses fall back.
    srv.push(Reply::error(503, "down"));
    let e = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new(["googleai/gemini-2.5-flash"]).statuses([Status::ResourceExhausted]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::Unavailable);
    assert_eq!(srv.requests().len(), 4);
}

#[tokio::test]
async fn an_unregistered_fallback_model_is_not_found() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "down"));
    let e = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new(["otherai/no-such-model"]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert!(e.message().contains("otherai/no-such-model"), "{e}");
}

#[tokio::test]
async fn a_fallback_model_the_provider_refuses_is_its_not_found() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "down"));
    // Any googleai/ name resolves; the provider's 404 is the answer.
    let e = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new(["googleai/no-such-model"]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert!(e.message().contains("no-such-model"), "{e}");
}

#[tokio::test]
async fn a_fallback_with_its_own_config_and_a_retry_outside() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    // Primary fails, the fallback fails once too: Retry (outermost) runs the whole
    // fallback chain again.
    srv.push(Reply::error(503, "down"));
    srv.push(Reply::error(503, "down too"));
    let delays = Delays::default();
    let r = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter())
        .use_(Fallback::new([FallbackModel::new(
            "googleai/gemini-2.5-flash",
        )
        .with_config(json!({"temperature": 0.1}))]))
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "This is the local Gemini server (gemini-2.0-flash) answering: hi"
    );
    assert_eq!(delays.get(), [ms(1000)]);
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].body["generationConfig"]["temperature"], json!(0.1));
}

#[tokio::test]
async fn fallback_by_name_in_util_generate_and_while_streaming() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(503, "down"));
    let out = ai
        .run_action(
            "/util/generate",
            json!({
                "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                "use": [{"name": "fallback", "config": {"models": [{"name": "googleai/gemini-2.5-flash"}]}}],
            }),
            genkit_core::RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        out["custom"]["fallback"]["model"],
        json!("googleai/gemini-2.5-flash")
    );

    srv.push(Reply::error(503, "down"));
    let mut stream = ai
        .generate()
        .prompt("hi")
        .use_(Fallback::new(["googleai/gemini-2.5-flash"]))
        .stream();
    let mut text = String::new();
    while let Some(c) = stream.next().await {
        text.push_str(&c.unwrap().text());
    }
    assert_eq!(
        text,
        "This is the local Gemini server (gemini-2.5-flash) answering: hi"
    );
}
