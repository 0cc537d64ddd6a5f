//! The events of a streamed answer (`"stream": true`): Server-Sent Events
//! (`event: content_block_delta` / `data: {…}`), parsed as the bytes arrive with
//! genkit-googleai's SSE parser (bounded: one event may not exceed 64 MiB), each
//! event's data read as a typed [`StreamEvent`].
//!
//! Waiting longer than the timeout for the next bytes is DEADLINE_EXCEEDED; a
//! connection that breaks off, or ends inside an event, is UNAVAILABLE; data that is
//! not an event is INTERNAL. After an error the stream ends.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use genkit_core::{Error, Result, Status};
pub use genkit_googleai::sse::{SseError, SseEvent, SseParser};

use crate::error;
use crate::wire::StreamEvent;

/// The events of one streamed answer.
pub struct EventStream {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    ready: VecDeque<String>,
    done: bool,
    timeout: Duration,
    /// The wait for the next bytes, bounded by `timeout` (one timer per stream).
    idle: genkit_core::IdleTimeout,
    key: String,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("done", &self.done)
            .finish()
    }
}

const WHAT: &str = "POST /v1/messages (stream)";

impl EventStream {
    pub(crate) fn new(resp: reqwest::Response, timeout: Duration, key: String) -> Self {
        EventStream {
            body: genkit_core::Prefetch::new(resp.bytes_stream()).boxed(),
            parser: SseParser::new(),
            ready: VecDeque::new(),
            done: false,
            timeout,
            idle: genkit_core::IdleTimeout::new(timeout),
            key,
        }
    }

    /// The next event; `None` at the clean end of the stream.
    pub async fn next(&mut self) -> Option<Result<StreamEvent>> {
        loop {
            if let Some(data) = self.ready.pop_front() {
                return Some(self.parse(&data));
            }
            if self.done {
                return None;
            }
            match self.idle.next(&mut self.body).await {
                Err(_) => return Some(Err(self.fail(error::timeout(WHAT, self.timeout)))),
                Ok(Some(Ok(bytes))) => match self.parser.push(&bytes) {
                    Ok(events) => self.ready.extend(events.into_iter().map(|e| e.data)),
                    Err(e) => return Some(Err(self.sse_error(e))),
                },
                Ok(Some(Err(e))) => {
                    let err = genkit_googleai::error::from_transport(&e, WHAT, &self.key);
                    return Some(Err(self.fail(Error::new(
                        Status::Unavailable,
                        format!("the Anthropic stream broke off: {}", err.message()),
                    ))));
                }
                Ok(None) => {
                    self.done = true;
                    if let Err(e) = self.parser.finish() {
                        return Some(Err(self.sse_error(e)));
                    }
                }
            }
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        self.done = true;
        self.ready.clear();
        e
    }

    fn sse_error(&mut self, e: SseError) -> Error {
        let status = match e {
            SseError::Incomplete => Status::Unavailable,
            _ => Status::Internal,
        };
        self.fail(Error::new(status, format!("{WHAT}: {e}")))
    }

    fn parse(&mut self, data: &str) -> Result<StreamEvent> {
        serde_json::from_str(data).map_err(|e| {
            let e = error::malformed(WHAT, &e, &self.key);
            self.fail(e)
        })
    }
}
