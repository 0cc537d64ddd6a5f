//! The HTTP routes of the local server.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::script::{ReplyKind, error_body};
use super::validate::{self, Invalid};
use super::{RecordedRequest, Shared, behaviour};
use crate::wire;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{version}/models", get(list_models))
        .route("/{version}/models/{call}", post(call))
        .with_state(shared)
}

fn json_response(status: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (code, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

fn google_error(status: u16, message: &str) -> Response {
    json_response(status, &error_body(status, message))
}

/// `GET /{version}/models`: the models of the options, `pageSize` (default 50, at most
/// 1,000) a page, the next page's token in `nextPageToken`; as Gemini's `models.list`.
async fn list_models(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let options = shared.options();
    let key = key_of(&headers, query.as_deref());
    shared.record(RecordedRequest {
        method: "GET".into(),
        path: format!("/{version}/models"),
        query: query.clone(),
        api_key: key.clone(),
        body: Value::Null,
    });
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    match key.as_deref() {
        None => {
            return google_error(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            );
        }
        Some(k) if options.api_key.as_ref().is_some_and(|want| want != k) => {
            return google_error(400, "API key not valid. Please pass a valid API key.");
        }
        Some(_) => {}
    }
    if let Some(code) = options.list_error {
        return google_error(code, "models.list failed (as the server was told to)");
    }
    let param = |name: &str| {
        query.as_deref().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        })
    };
    let size = param("pageSize")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(50)
        .min(1000);
    let start = match param("pageToken") {
        None | Some("") => 0,
        Some(t) => match t.strip_prefix("p").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= options.models.len() => n,
            _ => return google_error(400, "Invalid page token."),
        },
    };
    let end = (start + size).min(options.models.len());
    let page: Vec<Value> = options.models[start..end].to_vec();
    let mut body = json!({ "models": page });
    if end < options.models.len() {
        body["nextPageToken"] = json!(format!("p{end}"));
    }
    json_response(200, &body)
}

fn key_of(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            query?
                .split('&')
                .find_map(|kv| kv.strip_prefix("key="))
                .map(str::to_string)
        })
}

async fn call(
    State(shared): State<Arc<Shared>>,
    Path((version, call)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let options = shared.options();
    shared.record(RecordedRequest {
        method: "POST".into(),
        path: format!("/{version}/models/{call}"),
        query: query.clone(),
        api_key: headers
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
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
            } => {
                let mut frames: VecDeque<Frame> = frames.into_iter().map(Frame::Data).collect();
                if let Some(n) = break_after {
                    frames.truncate(n);
                    frames.push_back(Frame::Break);
                }
                return sse_response(frames, options.stream_pace);
            }
            ReplyKind::Default => {}
        }
    }

    match key_of(&headers, query.as_deref()) {
        None => {
            return google_error(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            );
        }
        Some(k) if options.api_key.as_ref().is_some_and(|want| *want != k) => {
            return google_error(400, "API key not valid. Please pass a valid API key.");
        }
        Some(_) => {}
    }

    let Some((model, method)) = call.rsplit_once(':') else {
        return google_error(404, "Method not found.");
    };
    let generative = ["gemini-", "gemma-", "learnlm-"]
        .iter()
        .any(|p| model.starts_with(p))
        && !model.contains("embedding");
    let embedding = ["text-embedding-", "embedding-", "gemini-embedding-"]
        .iter()
        .any(|p| model.starts_with(p));
    let not_found = || {
        google_error(
            404,
            &format!(
                "models/{model} is not found for API version {version}, or is not supported for {method}. Call ListModels to see the list of available models and their supported methods."
            ),
        )
    };
    match method {
        "generateContent" | "streamGenerateContent" => {
            if !generative {
                return not_found();
            }
            let req: wire::GenerateContentRequest =
                match validate::parse(&body, "GenerateContentRequest") {
                    Ok(r) => r,
                    Err(Invalid(m)) => return google_error(400, &m),
                };
            if let Err(Invalid(m)) = validate::generate(&req) {
                return google_error(400, &m);
            }
            let answer = behaviour::generate(model, &req);
            if method == "generateContent" {
                json_response(200, &whole(model, answer))
            } else {
                let events = stream_events(model, answer, options.words_per_chunk);
                let frames = events
                    .into_iter()
                    .map(|e| Frame::Data(Bytes::from(format!("data: {e}\r\n\r\n"))));
                sse_response(frames.collect(), options.stream_pace)
            }
        }
        "embedContent" => {
            if !embedding {
                return not_found();
            }
            let req: wire::EmbedContentRequest = match validate::parse(&body, "EmbedContentRequest")
            {
                Ok(r) => r,
                Err(Invalid(m)) => return google_error(400, &m),
            };
            if let Err(Invalid(m)) = validate::embed(&req, model, "") {
                return google_error(400, &m);
            }
            json_response(
                200,
                &json!({ "embedding": { "values": embed_one(model, &req) } }),
            )
        }
        "batchEmbedContents" => {
            if !embedding {
                return not_found();
            }
            let req: wire::BatchEmbedContentsRequest =
                match validate::parse(&body, "BatchEmbedContentsRequest") {
                    Ok(r) => r,
                    Err(Invalid(m)) => return google_error(400, &m),
                };
            if req.requests.is_empty() {
                return google_error(
                    400,
                    "* BatchEmbedContentsRequest.requests: requests is not specified\n",
                );
            }
            let mut out = Vec::new();
            for (i, r) in req.requests.iter().enumerate() {
                if let Err(Invalid(m)) = validate::embed(r, model, &format!("requests[{i}].")) {
                    return google_error(400, &m);
                }
                out.push(json!({ "values": embed_one(model, r) }));
            }
            json_response(200, &json!({ "embeddings": out }))
        }
        _ => google_error(404, "Method not found."),
    }
}

fn embed_one(model: &str, req: &wire::EmbedContentRequest) -> Vec<f32> {
    let dims = req.output_dimensionality.map_or_else(
        || {
            if model.starts_with("gemini-embedding") {
                3072
            } else {
                768
            }
        },
        |d| d as usize,
    );
    let text: Vec<&str> = req
        .content
        .parts
        .iter()
        .filter_map(|p| p.text.as_deref())
        .collect();
    behaviour::embedding(&text.join(" "), dims)
}

fn candidate(parts: Vec<wire::Part>, finish: bool) -> Value {
    let mut c = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if finish {
        c["finishReason"] = json!("STOP");
    }
    c
}

fn whole(model: &str, answer: behaviour::Answer) -> Value {
    json!({
        "candidates": [candidate(answer.parts, true)],
        "usageMetadata": answer.usage,
        "modelVersion": model,
    })
}

fn stream_events(model: &str, answer: behaviour::Answer, words: usize) -> Vec<Value> {
    let mut pieces: Vec<Vec<wire::Part>> = Vec::new();
    let mut calls = Vec::new();
    for p in answer.parts {
        if p.function_call.is_some() {
            calls.push(p);
        } else if let (Some(text), false) = (p.text.as_deref(), p.thought == Some(true)) {
            let ws: Vec<&str> = text.split_inclusive(' ').collect();
            let n = ws.chunks(words.max(1)).count();
            for (i, chunk) in ws.chunks(words.max(1)).enumerate() {
                let mut piece = wire::Part {
                    text: Some(chunk.concat()),
                    ..Default::default()
                };
                if i + 1 == n {
                    piece.thought_signature = p.thought_signature.clone();
                }
                pieces.push(vec![piece]);
            }
        } else {
            pieces.push(vec![p]);
        }
    }
    if !calls.is_empty() {
        pieces.push(calls);
    }
    let n = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, parts)| {
            let last = i + 1 == n;
            let mut e = json!({"candidates": [candidate(parts, last)], "modelVersion": model});
            if last {
                e["usageMetadata"] = json!(answer.usage);
            }
            e
        })
        .collect()
}

enum Frame {
    Data(Bytes),
    Break,
}

fn sse_response(frames: VecDeque<Frame>, pace: Duration) -> Response {
    let stream = futures::stream::unfold((frames, true), move |(mut frames, first)| async move {
        let frame = frames.pop_front()?;
        if !first && !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
        if matches!(frame, Frame::Break) {
            // Let the frames already written reach the client before the cut.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match frame {
            Frame::Data(b) => Some((Ok(b), (frames, false))),
            Frame::Break => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "stream broken by script",
                )),
                (VecDeque::new(), false),
            )),
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
