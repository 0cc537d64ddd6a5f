//! `GenerateStream`: chunks as they arrive, then the final response.
//!
//! No task is spawned: the generation runs as it is polled, so dropping the stream
//! cancels it, and a bounded channel keeps memory bounded when the consumer is slow.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::GenerateOptions;
use super::extract::extract_json;
use crate::error::Result;
use crate::genkit::Genkit;
use crate::model::ChunkOut;
use crate::types::{GenerateResponse, GenerateResponseChunk, Role};

/// How many chunks may wait for the consumer before the model is paused.
const CHUNK_BUFFER: usize = 64;

/// A streaming generate call: a [`Stream`] of chunks (every turn of the loop, model and
/// tool chunks, each with its role and index), then [`response`](Self::response).
///
/// With JSON output, each model chunk's [`output`](GenerateResponseChunk::output)
/// holds the value parsed from the message text so far.
///
/// If the generation fails, the stream yields the error once and ends; `response()`
/// returns it as well.
pub struct GenerateStream {
    fut: Option<BoxFuture<'static, Result<GenerateResponse>>>,
    /// Boxed chunks: a channel allocates its first block of 32 slots up front, 6 KB of
    /// chunks inline but 256 bytes of pointers, and every generate in flight has one.
    rx: mpsc::Receiver<Box<GenerateResponseChunk>>,
    /// Boxed: a response is ~680 bytes, and an agent's turn holds its stream.
    result: Option<Box<Result<GenerateResponse>>>,
    error_yielded: bool,
    partial: Option<PartialOutput>,
}

/// The text of the current model message, for the chunks' partial JSON output.
#[derive(Default)]
struct PartialOutput {
    index: Option<u32>,
    text: String,
}

impl PartialOutput {
    /// Sets `chunk.output` from the model text so far (reset when the index changes).
    fn annotate(&mut self, chunk: &mut GenerateResponseChunk) {
        if chunk.role != Some(Role::Model) {
            return;
        }
        if self.index != chunk.index {
            self.index = chunk.index;
            self.text.clear();
        }
        for p in &chunk.content {
            if let Some(t) = &p.text {
                self.text.push_str(t);
            }
        }
        chunk.output = extract_json(&self.text);
    }
}

impl GenerateStream {
    pub(crate) fn start(ai: Genkit, opts: GenerateOptions) -> Self {
        let json = opts.output.as_ref().is_some_and(|o| match &o.format {
            Some(f) => f == "json",
            None => o.schema.is_some(),
        });
        let (tx, rx) = mpsc::channel(CHUNK_BUFFER);
        let fut = Box::pin(super::tool_loop::generate(
            ai,
            opts,
            Some(ChunkOut::Typed(tx)),
        ));
        GenerateStream {
            fut: Some(fut),
            rx,
            result: None,
            error_yielded: false,
            partial: json.then(PartialOutput::default),
        }
    }

    fn yield_chunk(
        &mut self,
        mut chunk: GenerateResponseChunk,
    ) -> Poll<Option<Result<GenerateResponseChunk>>> {
        if let Some(p) = &mut self.partial {
            p.annotate(&mut chunk);
        }
        Poll::Ready(Some(Ok(chunk)))
    }

    /// The final response of a stream read to its end (`next()` gave `None`, or the
    /// error): unlike [`response`](Self::response), no future that holds the stream
    /// again.
    pub(crate) fn into_response(mut self) -> Result<GenerateResponse> {
        self.take_response()
    }

    /// [`into_response`](Self::into_response) through a borrow: the result moves out.
    pub(crate) fn take_response(&mut self) -> Result<GenerateResponse> {
        self.result.take().map(|r| *r).unwrap_or_else(|| {
            Err(crate::Error::internal(
                "the generation ended without a result",
            ))
        })
    }

    /// Waits for the end of the generation (dropping chunks not yet read) and returns the
    /// final response.
    pub async fn response(mut self) -> Result<GenerateResponse> {
        use futures::StreamExt;
        while self.next().await.is_some() {}
        self.into_response()
    }
}

impl Stream for GenerateStream {
    type Item = Result<GenerateResponseChunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Poll::Ready(Some(chunk)) = this.rx.poll_recv(cx) {
                return this.yield_chunk(*chunk);
            }
            match this.fut.as_mut() {
                Some(fut) => match fut.as_mut().poll(cx) {
                    Poll::Ready(r) => {
                        // Dropping the future drops the sender: the channel closes once
                        // drained.
                        this.fut = None;
                        this.result = Some(Box::new(r));
                    }
                    Poll::Pending => return Poll::Pending,
                },
                None => {
                    if let Poll::Ready(Some(chunk)) = this.rx.poll_recv(cx) {
                        return this.yield_chunk(*chunk);
                    }
                    if let (Some(Err(e)), false) = (this.result.as_deref(), this.error_yielded) {
                        this.error_yielded = true;
                        return Poll::Ready(Some(Err(e.clone())));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}
