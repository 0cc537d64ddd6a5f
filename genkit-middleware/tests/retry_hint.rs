//! `Retry` and the server's `RetryInfo` hint, from the local Gemini server's scripted
//! faults over real HTTP on 127.0.0.1: a retry never comes before the hint, and a hint
//! longer than `max_delay` returns the error at once, with its `retryAfterMs`.

mod common;

use std::time::Duration;

use common::{Delays, genkit, ms, server};
use genkit_core::Status;
use genkit_googleai::server::Reply;
use serde_json::json;

#[tokio::test]
async fn a_hint_longer_than_max_delay_returns_the_error_with_retry_after() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::rate_limited(Duration::from_secs(120)));
    let delays = Delays::default();
    let e = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::ResourceExhausted, "{e}");
    assert_eq!(e.details().unwrap()["retryAfterMs"], json!(120_000));
    assert!(
        delays.get().is_empty(),
        "retried before the server allowed it"
    );
    assert_eq!(srv.requests().len(), 1);
}

#[tokio::test]
async fn a_retry_never_comes_before_the_hint() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    // max_delay 3 s: the 2.5 s hint is waited in full though the backoff is 1 s,
    // and the 3 s hint (= max_delay) too; a 1.5 s hint with backoff 4 s → capped 3 s.
    srv.push(Reply::rate_limited(Duration::from_millis(2500)));
    srv.push(Reply::rate_limited(Duration::from_secs(3)));
    srv.push(Reply::rate_limited(Duration::from_millis(1500)));
    let delays = Delays::default();
    let r = ai
        .generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter().max_delay(Duration::from_secs(3)))
        .await
        .unwrap();
    assert!(!r.text().is_empty());
    assert_eq!(delays.get(), [ms(2500), ms(3000), ms(3000)]);
    assert_eq!(srv.requests().len(), 4);
}
