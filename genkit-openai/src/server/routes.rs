//! The HTTP routes of the local server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};

use super::behaviour::{Answer, answer};
use super::script::{Reply, error_body};
use super::validate::{Refusal, model_not_found, validate_chat};
use super::{RecordedRequest, ServerOptions, Shared};
use crate::wire::{
    ChatChunk, ChatCompletion, Choice, ChunkChoice, Delta, DeltaFunction, DeltaToolCall,
    EmbeddingData, EmbeddingResponse, EmbeddingUsage,
};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .with_state(shared)
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn refusal((status, body): Refusal) -> Response {
    json_response(status, &body)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|k| k.trim().to_string())
}

fn check_key(key: Option<&str>, options: &ServerOptions) -> Result<(), Refusal> {
    match key {
        None if options.require_key => Err((
            401,
            error_body(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
                None,
                None,
            ),
        )),
        Some(k) if options.api_key.as_deref().is_some_and(|want| want != k) => {
            let tail: String = k
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Err((
                401,
                error_body(
                    401,
                    &format!(
                        "Incorrect API key provided: sk-***{tail}. You can find your API key at https://platform.openai.com/account/api-keys."
                    ),
                    None,
                    Some("invalid_api_key"),
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Records the request, waits the latency, and gives a scripted reply if one is queued;
/// else checks the key and parses the JSON body.
async fn prepare(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Value, ServerOptions), Response> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let key = bearer(headers);
    shared.record(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        api_key: key.clone(),
        body: parsed.clone().unwrap_or(Value::Null),
    });
    let options = shared.options();
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    match shared.next_reply() {
        Some(Reply::Delay(d)) => tokio::time::sleep(d).await,
        Some(reply) => return Err(scripted(reply, options.stream_pace)),
        None => {}
    }
    check_key(key.as_deref(), &options).map_err(refusal)?;
    if method == Method::GET {
        return Ok((Value::Null, options));
    }
    let Some(v) = parsed else {
        return Err(refusal((
            400,
            error_body(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
                None,
                None,
            ),
        )));
    };
    Ok((v, options))
}

fn scripted(reply: Reply, pace: Duration) -> Response {
    match reply {
        Reply::Json(v) => json_response(200, &v),
        Reply::Error {
            status,
            body,
            retry_after,
        } => {
            let mut r = json_response(status, &body);
            if let Some(d) = retry_after
                && let Ok(v) = d.as_millis().to_string().parse()
            {
                r.headers_mut().insert("retry-after-ms", v);
            }
            r
        }
        Reply::Raw { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, body).into_response()
        }
        Reply::Events { data, done } => {
            let mut events: Vec<String> =
                data.into_iter().map(|d| format!("data: {d}\n\n")).collect();
            if done {
                events.push("data: [DONE]\n\n".into());
            }
            sse(events, pace)
        }
        Reply::Delay(_) => json_response(500, &error_body(500, "unexpected delay", None, None)),
    }
}

fn sse(events: Vec<String>, pace: Duration) -> Response {
    let stream =
        futures::stream::iter(events.into_iter().enumerate()).then(move |(i, e)| async move {
            if i > 0 && !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
            Ok::<_, std::convert::Infallible>(Bytes::from(e))
        });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (req, options) = match prepare(&shared, &method, &uri, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = validate_chat(&req, &options) {
        return refusal(r);
    }
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let id = format!("chatcmpl-local{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    let a = answer(&req);
    if req.get("stream") == Some(&Value::Bool(true)) {
        let usage = req.pointer("/stream_options/include_usage") == Some(&Value::Bool(true));
        let events = chunks(&id, &model, a, usage, options.words_per_chunk)
            .into_iter()
            .map(|c| format!("data: {}\n\n", json!(c)))
            .chain(std::iter::once("data: [DONE]\n\n".to_string()))
            .collect();
        return sse(events, options.stream_pace);
    }
    let completion = ChatCompletion {
        id,
        object: "chat.completion".into(),
        created: now(),
        model,
        choices: vec![Choice {
            index: 0,
            message: a.message,
            finish_reason: Some(a.finish_reason.into()),
        }],
        usage: Some(a.usage),
    };
    let mut v = json!(completion);
    // OpenAI always sends these two, null when empty.
    v["choices"][0]["message"]["refusal"] = Value::Null;
    if v["choices"][0]["message"].get("content").is_none() {
        v["choices"][0]["message"]["content"] = Value::Null;
    }
    json_response(200, &v)
}

/// Text in pieces of `n` words, keeping the spaces.
fn pieces(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, w) in text.split_inclusive(char::is_whitespace).enumerate() {
        if i > 0 && i % n == 0 {
            out.push(std::mem::take(&mut cur));
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn chunks(id: &str, model: &str, a: Answer, usage: bool, words: usize) -> Vec<ChatChunk> {
    let created = now();
    let chunk = |delta: Delta, finish: Option<&str>| ChatChunk {
        id: id.to_string(),
        object: "chat.completion.chunk".into(),
        created,
        model: model.to_string(),
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason: finish.map(str::to_string),
        }],
        usage: None,
    };
    let mut out = vec![chunk(
        Delta {
            role: Some("assistant".into()),
            content: Some(String::new()),
            ..Default::default()
        },
        None,
    )];
    for p in pieces(
        a.message.reasoning_content.as_deref().unwrap_or_default(),
        words,
    ) {
        out.push(chunk(
            Delta {
                reasoning_content: Some(p),
                ..Default::default()
            },
            None,
        ));
    }
    for p in pieces(a.message.content.as_deref().unwrap_or_default(), words) {
        out.push(chunk(
            Delta {
                content: Some(p),
                ..Default::default()
            },
            None,
        ));
    }
    for (i, call) in a.message.tool_calls.iter().flatten().enumerate() {
        let args = &call.function.arguments;
        let mid = (0..=args.len() / 2)
            .rev()
            .find(|&m| args.is_char_boundary(m))
            .unwrap_or(0);
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let first = DeltaToolCall {
            index,
            id: Some(call.id.clone()),
            kind: Some("function".into()),
            function: Some(DeltaFunction {
                name: Some(call.function.name.clone()),
                arguments: Some(args[..mid].to_string()),
            }),
        };
        let rest = DeltaToolCall {
            index,
            id: None,
            kind: None,
            function: Some(DeltaFunction {
                name: None,
                arguments: Some(args[mid..].to_string()),
            }),
        };
        for piece in [first, rest] {
            out.push(chunk(
                Delta {
                    tool_calls: Some(vec![piece]),
                    ..Default::default()
                },
                None,
            ));
        }
    }
    out.push(chunk(Delta::default(), Some(a.finish_reason)));
    if usage {
        let mut last = chunk(Delta::default(), None);
        last.choices.clear();
        last.usage = Some(a.usage);
        out.push(last);
    }
    out
}

fn embedding_dims(model: &str, body: &Value) -> usize {
    if let Some(d) = body.get("dimensions").and_then(Value::as_u64) {
        return usize::try_from(d).unwrap_or(1);
    }
    if model == "text-embedding-3-large" {
        3072
    } else {
        1536
    }
}

async fn embeddings(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (req, options) = match prepare(&shared, &method, &uri, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return refusal((
            400,
            error_body(400, "you must provide a model parameter", None, None),
        ));
    };
    if !options.model_prefixes.is_empty()
        && !options
            .model_prefixes
            .iter()
            .any(|p| model.starts_with(p.as_str()))
    {
        return refusal(model_not_found(model));
    }
    let inputs: Vec<String> = match req.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => {
            return refusal((
                400,
                error_body(
                    400,
                    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
                    None,
                    None,
                ),
            ));
        }
    };
    let dims = embedding_dims(model, &req);
    let tokens: u64 = inputs
        .iter()
        .map(|s| s.split_whitespace().count() as u64)
        .sum();
    let resp = EmbeddingResponse {
        object: "list".into(),
        data: inputs
            .iter()
            .enumerate()
            .map(|(index, t)| EmbeddingData {
                object: "embedding".into(),
                index,
                embedding: genkit_googleai::server::embedding(t, dims),
            })
            .collect(),
        model: model.to_string(),
        usage: Some(EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        }),
    };
    json_response(200, &json!(resp))
}

async fn models(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let options = match prepare(&shared, &method, &uri, &headers, &Bytes::new()).await {
        Ok((_, options)) => options,
        Err(r) => return r,
    };
    let data: Vec<Value> = options
        .models
        .iter()
        .map(
            |m| json!({"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"}),
        )
        .collect();
    json_response(200, &json!({"object": "list", "data": data}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pieces_keep_spaces() {
        assert_eq!(
            pieces("a b c d", 3),
            vec!["a b c ".to_string(), "d".to_string()]
        );
        assert_eq!(pieces("", 3), Vec::<String>::new());
    }
}
