//! `BidiConnection`: a live conversation with an agent.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::types::{AgentInput, AgentOutput, AgentStreamChunk};
use crate::error::{Error, Result};
use crate::types::Part;

/// A live connection to an agent: send inputs at any time (they are queued and run as
/// turns one after another, in order), read every chunk of every turn as a
/// [`Stream`], [`close`](Self::close) when done, then [`output`](Self::output).
///
/// Dropping the connection stops the running turn (a detached turn keeps running).
pub struct BidiConnection {
    pub(crate) tx: Option<mpsc::UnboundedSender<Box<AgentInput>>>,
    pub(crate) rx: mpsc::Receiver<Box<AgentStreamChunk>>,
    pub(crate) out: Option<oneshot::Receiver<Result<AgentOutput>>>,
    pub(crate) result: Option<Result<AgentOutput>>,
    pub(crate) error_yielded: bool,
    pub(crate) task: Option<JoinHandle<()>>,
}

impl BidiConnection {
    /// Queues an input. After [`close`](Self::close), or once the agent stopped taking
    /// inputs (a detach, a failed turn), FAILED_PRECONDITION (reason CONNECTION_CLOSED).
    pub async fn send(&self, input: AgentInput) -> Result<()> {
        let closed = || {
            Error::failed_precondition("the connection is closed: no more inputs can be sent")
                .with_details(serde_json::json!({"reason": "CONNECTION_CLOSED"}))
        };
        self.tx
            .as_ref()
            .ok_or_else(closed)?
            .send(Box::new(input))
            .map_err(|_| closed())
    }

    /// Queues a user text message.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<()> {
        self.send(AgentInput::text(text)).await
    }

    /// Queues a user message with these parts.
    pub async fn send_parts(&self, parts: Vec<Part>) -> Result<()> {
        self.send(AgentInput::parts(parts)).await
    }

    /// Ends the input: the agent finishes the running and queued turns, then the
    /// stream ends and the output is ready.
    pub fn close(&mut self) {
        self.tx = None;
    }

    /// Waits for the end (reading and dropping chunks not read yet) and returns the
    /// final output. Call [`close`](Self::close) first, or it waits for more inputs.
    pub async fn output(mut self) -> Result<AgentOutput> {
        use futures::StreamExt;
        while self.next().await.is_some() {}
        self.finish_result()
    }

    fn finish_result(&mut self) -> Result<AgentOutput> {
        match self.result.take() {
            Some(r) => r,
            None => Err(Error::internal("the agent ended without an output")),
        }
    }
}

impl Stream for BidiConnection {
    type Item = Result<AgentStreamChunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(c)) => return Poll::Ready(Some(Ok(*c))),
            Poll::Pending => return Poll::Pending,
            // Closed and drained: the agent sent its output before dropping the channel.
            Poll::Ready(None) => {}
        }
        if let Some(out) = this.out.as_mut() {
            match Pin::new(out).poll(cx) {
                Poll::Ready(r) => {
                    this.out = None;
                    this.result = Some(r.unwrap_or_else(|_| {
                        Err(Error::internal("the agent task stopped without an output"))
                    }));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        if let (Some(Err(e)), false) = (&this.result, this.error_yielded) {
            this.error_yielded = true;
            return Poll::Ready(Some(Err(e.clone())));
        }
        Poll::Ready(None)
    }
}

impl Drop for BidiConnection {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
