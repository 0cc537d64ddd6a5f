//! The HTTP routes of the local server.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::behaviour::{self, Answer};
use super::script::{ReplyKind, error_body, sse_frame};
use super::validate::{self, Invalid};
use super::{RecordedRequest, Shared};
use crate::wire::{KnownBlock, Message, ResponseBlock};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/models", get(list_models))
        .fallback(|| async { anthropic_error(404, "Not Found") })
        .with_state(shared)
}

fn json_response(status: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (code, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert("request-id", HeaderValue::from_static("req_local"));
    r
}

fn anthropic_error(status: u16, message: &str) -> Response {
    json_response(status, &error_body(status, message))
}

/// `GET /v1/models?limit=&after_id=`: as Anthropic's, `limit` (default 20, at most
/// 1,000) a page, `has_more` and `last_id` to page on.
async fn list_models(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let options = shared.options();
    let api_key = header_str(&headers, "x-api-key").or_else(|| {
        header_str(&headers, "authorization")
            .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
    });
    shared.record(RecordedRequest {
        path: "/v1/models".into(),
        api_key: api_key.clone(),
        version: header_str(&headers, "anthropic-version"),
        body: Value::Null,
    });
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    if let Some(expected) = &options.api_key
        && api_key.as_deref() != Some(expected.as_str())
    {
        return anthropic_error(401, "invalid x-api-key");
    }
    if let Some(code) = options.list_error {
        return anthropic_error(code, "models.list failed (as the server was told to)");
    }
    let param = |name: &str| {
        query.as_deref().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_string)
        })
    };
    let limit = param("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20)
        .min(1000);
    let models = shared
        .models
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let start = match param("after_id") {
        None => 0,
        Some(id) => match models.iter().position(|(m, _)| *m == id) {
            Some(i) => i + 1,
            None => return anthropic_error(400, "after_id: no such model"),
        },
    };
    let page: Vec<&(String, String)> = models.iter().skip(start).take(limit).collect();
    let data: Vec<Value> = page
        .iter()
        .map(|(id, label)| {
            json!({"type": "model", "id": id, "display_name": label,
                "created_at": "2025-01-01T00:00:00Z"})
        })
        .collect();
    json_response(
        200,
        &json!({"data": data, "has_more": start + page.len() < models.len(),
            "first_id": page.first().map(|m| &m.0), "last_id": page.last().map(|m| &m.0)}),
    )
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let options = shared.options();
    // The key comes as `x-api-key`, or as `Authorization: Bearer` (the SDKs' way).
    let api_key = header_str(&headers, "x-api-key").or_else(|| {
        header_str(&headers, "authorization")
            .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
    });
    shared.record(RecordedRequest {
        path: "/v1/messages".into(),
        api_key: api_key.clone(),
        version: header_str(&headers, "anthropic-version"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    if let Some(reply) = shared.next_reply() {
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        match reply.kind {
            ReplyKind::Body {
                status,
                content_type,
                body,
                retry_after,
            } => {
                let code =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut r = (code, body).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                if let Some(ra) = retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
                    r.headers_mut().insert(header::RETRY_AFTER, ra);
                }
                return r;
            }
            ReplyKind::Sse {
                frames,
                break_after,
            } => return sse_response(frames, break_after, options.stream_pace),
            ReplyKind::Default => {}
        }
    }

    match api_key {
        None => return anthropic_error(401, "x-api-key header is required"),
        Some(k) if options.api_key.as_ref().is_some_and(|want| *want != k) => {
            return anthropic_error(401, "invalid x-api-key");
        }
        Some(_) => {}
    }
    if !headers.contains_key("anthropic-version") {
        return anthropic_error(400, "anthropic-version: header is required");
    }
    let req = match validate::parse(&body) {
        Ok(r) => r,
        Err(Invalid(m)) => return anthropic_error(400, &m),
    };
    if !req.model.starts_with("claude-") {
        return anthropic_error(404, &format!("model: {}", req.model));
    }
    if let Err(Invalid(m)) = validate::request(&req) {
        return anthropic_error(400, &m);
    }
    let answer = behaviour::answer(&req);
    let id = shared.next_id();
    if req.stream == Some(true) {
        let frames = events(&id, &req.model, answer, options.words_per_chunk)
            .iter()
            .map(sse_frame)
            .collect();
        sse_response(frames, None, options.stream_pace)
    } else {
        let message = Message {
            id,
            kind: "message".into(),
            role: "assistant".into(),
            model: req.model.to_string(),
            content: answer
                .blocks
                .into_iter()
                .map(ResponseBlock::Known)
                .collect(),
            stop_reason: Some(answer.stop_reason.into()),
            stop_sequence: answer.stop_sequence,
            usage: answer.usage,
        };
        let mut v = serde_json::to_value(&message).unwrap_or(Value::Null);
        // The API always writes `stop_sequence`, null or not.
        v["stop_sequence"] = json!(message.stop_sequence);
        json_response(200, &v)
    }
}

/// The events of a streamed answer, in the API's order: `message_start`, per block
/// `content_block_start` / deltas / `content_block_stop` (a `ping` after the first
/// start), `message_delta` with the stop reason and usage, `message_stop`.
fn events(id: &str, model: &str, answer: Answer, words: usize) -> Vec<Value> {
    let mut out = vec![json!({"type": "message_start", "message": {
        "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": answer.usage.input_tokens, "output_tokens": 1}}})];
    let pieces = |text: &str| -> Vec<String> {
        let ws: Vec<&str> = text.split_inclusive(' ').collect();
        ws.chunks(words.max(1)).map(<[&str]>::concat).collect()
    };
    for (index, block) in answer.blocks.into_iter().enumerate() {
        let (start, deltas) = match block {
            KnownBlock::Text { text, .. } => (
                json!({"type": "text", "text": ""}),
                pieces(&text)
                    .into_iter()
                    .map(|t| json!({"type": "text_delta", "text": t}))
                    .collect::<Vec<_>>(),
            ),
            KnownBlock::Thinking {
                thinking,
                signature,
            } => {
                let mut d: Vec<Value> = pieces(&thinking)
                    .into_iter()
                    .map(|t| json!({"type": "thinking_delta", "thinking": t}))
                    .collect();
                d.push(json!({"type": "signature_delta", "signature": signature}));
                (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    d,
                )
            }
            KnownBlock::ToolUse { id, name, input } => (
                json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                behaviour::json_pieces(&input)
                    .into_iter()
                    .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                    .collect(),
            ),
            KnownBlock::RedactedThinking { data } => (
                json!({"type": "redacted_thinking", "data": data}),
                Vec::new(),
            ),
        };
        out.push(json!({"type": "content_block_start", "index": index, "content_block": start}));
        if index == 0 {
            out.push(json!({"type": "ping"}));
        }
        out.extend(
            deltas
                .into_iter()
                .map(|d| json!({"type": "content_block_delta", "index": index, "delta": d})),
        );
        out.push(json!({"type": "content_block_stop", "index": index}));
    }
    out.push(json!({"type": "message_delta",
        "delta": {"stop_reason": answer.stop_reason, "stop_sequence": answer.stop_sequence},
        "usage": {"output_tokens": answer.usage.output_tokens}}));
    out.push(json!({"type": "message_stop"}));
    out
}

/// Writes the frames `pace` apart; with `break_after`, cuts the connection after that
/// many frames (after a pause, so they reach the client).
fn sse_response(frames: Vec<Bytes>, break_after: Option<usize>, pace: Duration) -> Response {
    let total = break_after.map_or(frames.len(), |n| n.min(frames.len()));
    let broken = break_after.is_some();
    let stream = futures::stream::unfold(
        (frames.into_iter().take(total), 0usize),
        move |(mut frames, i)| async move {
            if i > 0 && !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
            match frames.next() {
                Some(f) => Some((Ok(f), (frames, i + 1))),
                None if broken && i == total => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "stream broken by script",
                        )),
                        (frames, i + 1),
                    ))
                }
                None => None,
            }
        },
    );
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
