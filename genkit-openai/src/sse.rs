//! The server-sent events of a streamed chat completion: `data: {chunk}` events, then
//! `data: [DONE]`. Bytes are cut into events by the `eventsource-stream` crate; this
//! module says what each event means ([`parse_event`]) and reads a response body event
//! by event ([`ChunkStream`]), with a timeout between two events.
//!
//! A stream that ends before `[DONE]` is UNAVAILABLE (the connection broke off: the
//! answer may be incomplete, and Genkit's retry can run it again); an `error` event
//! becomes the error it describes.

use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use genkit_core::{Error, Result, Status};
use serde_json::Value;

use crate::error;
use crate::wire::ChatChunk;

/// What one event of the stream says.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A chunk of the completion.
    Chunk(Box<ChatChunk>),
    /// `[DONE]`: the completion is whole.
    Done,
    /// `{"error": …}`: the server failed part-way.
    Error(Value),
}

/// Parses the data of one event.
pub fn parse_event(data: &str) -> std::result::Result<StreamEvent, serde_json::Error> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(StreamEvent::Done);
    }
    let v: Value = serde_json::from_str(data)?;
    if let Some(err) = v.get("error") {
        return Ok(StreamEvent::Error(err.clone()));
    }
    serde_json::from_value(v).map(|c| StreamEvent::Chunk(Box::new(c)))
}

type Events = BoxStream<
    'static,
    std::result::Result<eventsource_stream::Event, EventStreamError<reqwest::Error>>,
>;

/// The chunks of one streamed answer, read as they arrive.
pub(crate) struct ChunkStream {
    events: Events,
    timeout: Duration,
    /// The wait for the next event, bounded by `timeout` (one timer per stream).
    idle: genkit_core::IdleTimeout,
    done: bool,
    provider: std::sync::Arc<str>,
    key: String,
    what: String,
}

impl ChunkStream {
    pub(crate) fn new(
        response: reqwest::Response,
        timeout: Duration,
        provider: std::sync::Arc<str>,
        key: String,
        what: String,
    ) -> ChunkStream {
        ChunkStream {
            events: genkit_core::Prefetch::new(response.bytes_stream())
                .eventsource()
                .boxed(),
            timeout,
            idle: genkit_core::IdleTimeout::new(timeout),
            done: false,
            provider,
            key,
            what,
        }
    }

    /// The next chunk; `None` after `[DONE]`. No event within the timeout is
    /// DEADLINE_EXCEEDED; an end before `[DONE]` or a broken connection is UNAVAILABLE.
    pub(crate) async fn next(&mut self) -> Option<Result<ChatChunk>> {
        while !self.done {
            let event = match self.idle.next(&mut self.events).await {
                Err(_) => {
                    return Some(Err(self.fail(error::timeout(
                        &self.provider,
                        &self.what,
                        self.timeout,
                    ))));
                }
                Ok(None) => {
                    let e = Error::new(
                        Status::Unavailable,
                        format!(
                            "{}: the {} stream ended before [DONE]",
                            self.what, self.provider
                        ),
                    );
                    return Some(Err(self.fail(e)));
                }
                Ok(Some(Err(EventStreamError::Transport(e)))) => {
                    let err = error::from_transport(&e, &self.what, &self.key);
                    let e = Error::new(
                        Status::Unavailable,
                        format!("the {} stream broke off: {}", self.provider, err.message()),
                    );
                    return Some(Err(self.fail(e)));
                }
                Ok(Some(Err(e))) => {
                    let e = Error::internal(format!("{}: unreadable event stream: {e}", self.what));
                    return Some(Err(self.fail(e)));
                }
                Ok(Some(Ok(event))) => event,
            };
            if event.data.is_empty() {
                continue;
            }
            return match parse_event(&event.data) {
                Ok(StreamEvent::Chunk(c)) => Some(Ok(*c)),
                Ok(StreamEvent::Done) => {
                    self.done = true;
                    None
                }
                Ok(StreamEvent::Error(err)) => {
                    let e = error::from_stream_error(&self.provider, &err, &self.key);
                    Some(Err(self.fail(e)))
                }
                Err(e) => {
                    let e = error::malformed(&self.provider, &self.what, &e, &self.key);
                    Some(Err(self.fail(e)))
                }
            };
        }
        None
    }

    fn fail(&mut self, e: Error) -> Error {
        self.done = true;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_chunks_done_or_errors() {
        assert_eq!(parse_event("[DONE]").unwrap(), StreamEvent::Done);
        let c = parse_event(r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#).unwrap();
        let StreamEvent::Chunk(c) = c else {
            panic!("{c:?}")
        };
        assert_eq!(c.choices[0].delta.content.as_deref(), Some("Hi"));
        let e = parse_event(r#"{"error":{"message":"overloaded","type":"server_error"}}"#).unwrap();
        assert!(matches!(e, StreamEvent::Error(v) if v["message"] == "overloaded"));
        assert!(parse_event("{not json").is_err());
    }
}
