//! A stream that goes bad after valid events, from the local server over real HTTP on
//! 127.0.0.1: the events that arrived whole are delivered, then the error.

mod common;

use common::{genkit, server, stream_until_error as run};
use genkit_core::Status;
use genkit_googleai::server::Reply;

const GOOD: &str = "data: {\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": [{\"text\": \"kept\"}]}, \"index\": 0}]}\r\n\r\n";

#[tokio::test]
async fn invalid_utf8_after_a_valid_event_keeps_the_event() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let bad: &[u8] =
        b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\xff\xfe\"}]}}]}\r\n\r\n";

    // The valid event and the bad bytes in one read, then in two.
    let mut together = GOOD.as_bytes().to_vec();
    together.extend_from_slice(bad);
    srv.push(Reply::sse_frames([together]));
    let (texts, e) = run(&ai).await;
    assert_eq!(texts, ["kept"], "{e}");
    assert_eq!(e.status(), Status::Internal, "{e}");
    assert!(e.message().contains("not valid UTF-8"), "{e}");

    srv.push(Reply::sse_frames([GOOD.as_bytes().to_vec(), bad.to_vec()]));
    let (texts, e) = run(&ai).await;
    assert_eq!(texts, ["kept"], "{e}");
    assert_eq!(e.status(), Status::Internal, "{e}");

    // Bad bytes in the middle of the valid event's own line: nothing is delivered.
    srv.push(Reply::sse_frames([b"data: {\"a\xff\"}\r\n\r\n".to_vec()]));
    let (texts, e) = run(&ai).await;
    assert!(texts.is_empty(), "{texts:?}");
    assert_eq!(e.status(), Status::Internal, "{e}");
}
