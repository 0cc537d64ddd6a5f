//! Running one request's action and answering: `{"result": …}` or an error response,
//! or a stream of SSE frames that always ends with a result or error frame. The run is
//! polled by the response itself (never spawned), so a client that goes away drops it:
//! its model calls and tools stop with it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;
use genkit_core::telemetry::{RootIds, with_root_ids};
use genkit_core::{Error, Result, Status};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::{error_response, public_error_json};
use crate::options::ServeOptions;

/// True when the client asked for a stream: `Accept: text/event-stream` or
/// `?stream=true`.
pub(crate) fn wants_stream(headers: &HeaderMap, query: Option<&str>) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.contains("text/event-stream")));
    accept
        || query.is_some_and(|q| {
            q.split('&')
                .any(|kv| kv.eq_ignore_ascii_case("stream=true"))
        })
}

/// The error of a request refused because the server is shutting down.
pub(crate) fn shutting_down() -> Error {
    Error::unavailable("the server is shutting down")
}

/// `fut` bounded by the run timeout and by shutdown + grace.
pub(crate) async fn guarded<O>(
    fut: impl Future<Output = Result<O>>,
    opts: &ServeOptions,
) -> Result<O> {
    let timeout = async {
        match opts.timeout {
            Some(d) => {
                tokio::time::sleep(d).await;
                Error::new(
                    Status::DeadlineExceeded,
                    format!("the run took longer than {} ms", d.as_millis()),
                )
            }
            None => std::future::pending().await,
        }
    };
    let shutdown = async {
        match &opts.shutdown {
            Some(s) => {
                s.signal().await;
                tokio::time::sleep(opts.grace).await;
                shutting_down()
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = fut => r,
        e = timeout => Err(e),
        e = shutdown => Err(e),
    }
}

/// The ids of the run's root span, sent as Genkit's flow server sends them (they name
/// the trace in the Genkit telemetry server or an OTLP backend when one is configured).
const TRACE_ID: HeaderName = HeaderName::from_static("x-genkit-trace-id");
const SPAN_ID: HeaderName = HeaderName::from_static("x-genkit-span-id");

/// Answers a non-streaming request.
pub(crate) async fn respond_json<O: Serialize>(
    fut: impl Future<Output = Result<O>>,
    opts: &ServeOptions,
) -> Response {
    let ids = RootIds::new();
    let fut = with_root_ids(ids.clone(), fut);
    match guarded(fut, opts).await {
        Ok(out) => match result_json(&out) {
            Ok(bytes) => (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (TRACE_ID, ids.trace_id.as_str()),
                    (SPAN_ID, ids.span_id.as_str()),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => error_response(&e),
        },
        Err(e) => error_response(&e),
    }
}

fn result_json<O: Serialize>(out: &O) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(b"{\"result\":");
    serde_json::to_writer(&mut buf, out)?;
    buf.push(b'}');
    Ok(buf)
}

/// One SSE frame `data: {"<key>":<json>}\n\n`. Compact JSON has no raw newline, so
/// each frame is one line, as the JS client's parser needs.
fn frame<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Bytes> {
    let mut buf = Vec::with_capacity(64);
    buf.extend_from_slice(b"data: {\"");
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":");
    serde_json::to_writer(&mut buf, value)?;
    buf.extend_from_slice(b"}\n\n");
    Ok(Bytes::from(buf))
}

fn error_frame(e: &Error) -> Bytes {
    frame("error", &public_error_json(e)).unwrap_or_else(|_| {
        Bytes::from_static(
            b"data: {\"error\":{\"status\":\"INTERNAL\",\"message\":\"Internal Error\"}}\n\n",
        )
    })
}

/// Answers a streaming request: `run` gets the chunk sender; chunks become
/// `{"message": …}` frames, then one `{"result": …}` or `{"error": …}` frame.
pub(crate) fn respond_stream<C, O, F>(opts: ServeOptions, run: F) -> Response
where
    C: Serialize + Send + 'static,
    O: Serialize + Send + 'static,
    F: FnOnce(mpsc::Sender<C>) -> BoxFuture<'static, Result<O>>,
{
    let (tx, rx) = mpsc::channel(opts.stream_buffer);
    let ids = RootIds::new();
    let fut = with_root_ids(ids.clone(), run(tx));
    let run: BoxFuture<'static, Result<O>> = Box::pin(async move { guarded(fut, &opts).await });
    let stream = SseStream {
        run: Some(run),
        rx,
        outcome: None,
        done: false,
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (TRACE_ID, ids.trace_id.as_str()),
            (SPAN_ID, ids.span_id.as_str()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// The body of a streaming response: polls the run and its chunks.
struct SseStream<C, O> {
    run: Option<BoxFuture<'static, Result<O>>>,
    rx: mpsc::Receiver<C>,
    outcome: Option<Result<O>>,
    done: bool,
}

// Nothing in it is pinned in place: the run is boxed.
impl<C, O> Unpin for SseStream<C, O> {}

impl<C: Serialize, O: Serialize> Stream for SseStream<C, O> {
    type Item = std::result::Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        // Run the action until it finishes; its chunks go out as they come.
        if let Some(run) = this.run.as_mut()
            && let Poll::Ready(outcome) = run.as_mut().poll(cx)
        {
            // Dropping the run drops its sender: the channel ends after its last chunk.
            this.run = None;
            this.outcome = Some(outcome);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => {
                let bytes = frame("message", &chunk).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "genkit-axum: a chunk could not be serialized");
                    Bytes::new()
                });
                return Poll::Ready(Some(Ok(bytes)));
            }
            Poll::Ready(None) => {}
            // Pending with the run still going: wait for either.
            Poll::Pending if this.run.is_some() => return Poll::Pending,
            // The run ended but a sender clone is still alive somewhere (a spawned
            // task of the flow): do not wait for it.
            Poll::Pending => {}
        }
        if this.run.is_some() {
            // Every sender is gone but the run goes on: wait for it.
            return Poll::Pending;
        }
        this.done = true;
        let last = match this.outcome.take() {
            Some(Ok(out)) => frame("result", &out).unwrap_or_else(|e| error_frame(&e)),
            Some(Err(e)) => error_frame(&e),
            None => error_frame(&Error::internal("the run ended without an outcome")),
        };
        Poll::Ready(Some(Ok(last)))
    }
}

/// Answers a request that asked for JSON, with an error.
pub(crate) fn respond_error(e: &Error) -> Response {
    error_response(e)
}
