//! The benchmark's Gemini mock for the tool-calling workloads: see [`reply_to`].
//! `streamGenerateContent` gets the same answer as one server-sent event.
//!
//! [`genkit_googleai::server::LocalGemini`] answers one tool round per user prompt; the
//! multi-turn workload needs the server to count turns, which this does, keyed on the
//! conversation only (so it stays deterministic with any number of conversations in
//! flight). It also serves the one-round overhead workload, so that rig (whose 0.21
//! Gemini client needs `responseId` in answers and sends `tools` as one object, which
//! `LocalGemini` rejects) talks to the same server as everyone else. Streaming uses
//! `LocalGemini`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Tool-calling turns before the final answer.
pub const TOOL_TURNS: usize = 3;

/// Serves the mock on `127.0.0.1` at a free port; returns the address and the server
/// future (run it on the runtime).
pub async fn bind(
    latency: Duration,
) -> std::io::Result<(SocketAddr, impl Future<Output = std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/{version}/models", get(list_models))
        .route(
            "/{version}/models/{call}",
            post(
                move |Path((_version, call)): Path<(String, String)>, body: Bytes| {
                    answer(call, body, latency)
                },
            ),
        );
    Ok((addr, async move { axum::serve(listener, app).await }))
}

/// The model list (Genkit Python lists models when it resolves one).
async fn list_models() -> Response {
    let body = json!({"models": [{
        "name": "models/gemini-2.0-flash",
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent"]
    }]});
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

async fn answer(call: String, body: Bytes, latency: Duration) -> Response {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let reply = reply_to(&req);
    if call.ends_with(":streamGenerateContent") {
        // The whole answer as one server-sent event.
        return (
            [(header::CONTENT_TYPE, "text/event-stream")],
            format!("data: {reply}\r\n\r\n"),
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        reply.to_string(),
    )
        .into_response()
}

/// The answer to one request body.
///
/// A conversation whose first prompt starts with `Look up:` gets one tool turn with one
/// call (`{"query": "rust"}`) of the first declared function (the overhead workload);
/// any other gets [`TOOL_TURNS`] turns of two calls. The final text is
/// `done after {n} tool turns: ` followed by the last turn's function responses as JSON.
pub fn reply_to(req: &Value) -> Value {
    let empty = Vec::new();
    let contents = req["contents"].as_array().unwrap_or(&empty);
    let is_response =
        |p: &Value| p.get("functionResponse").is_some() || p.get("function_response").is_some();
    let done_turns = contents
        .iter()
        .filter(|c| {
            c["parts"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(is_response))
        })
        .count();
    let names: Vec<&str> = req["tools"]
        .as_array()
        .map(|v| v.iter().collect::<Vec<_>>())
        .or_else(|| req["tools"].is_object().then(|| vec![&req["tools"]]))
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| {
            t["functionDeclarations"]
                .as_array()
                .or_else(|| t["function_declarations"].as_array())
                .map(|v| v.iter().collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .filter_map(|d| d["name"].as_str())
        .collect();
    let prompt = contents
        .first()
        .and_then(|c| c["parts"].as_array())
        .and_then(|ps| ps.iter().find_map(|p| p["text"].as_str()))
        .unwrap_or_default();
    let (turns, calls) = if prompt.starts_with("Look up:") {
        (1, 1)
    } else {
        (TOOL_TURNS, 2)
    };
    let parts = if done_turns < turns && !names.is_empty() {
        (0..calls)
            .map(|i| {
                let name = names[i % names.len()];
                let query = if calls == 1 {
                    "rust".to_string()
                } else {
                    format!("topic {done_turns}.{i}")
                };
                json!({"functionCall": {"name": name, "args": {"query": query}}})
            })
            .collect::<Vec<_>>()
    } else {
        let results: Vec<String> = contents
            .last()
            .and_then(|c| c["parts"].as_array())
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| {
                        p.get("functionResponse")
                            .or_else(|| p.get("function_response"))
                    })
                    .map(|r| r["response"].to_string())
                    .collect()
            })
            .unwrap_or_default();
        vec![json!({"text": format!("done after {done_turns} tool turns: {}", results.join("; "))})]
    };
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": parts},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "gemini-2.0-flash",
        "responseId": "bench"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_two_tools_per_turn_then_answers() {
        let tools = json!([{"functionDeclarations": [{"name": "search"}, {"name": "lookup"}]}]);
        let mut contents = vec![json!({"role": "user", "parts": [{"text": "Research: rust"}]})];
        for turn in 0..TOOL_TURNS {
            let r = reply_to(&json!({"contents": contents, "tools": tools}));
            let parts = r["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(parts.len(), 2, "turn {turn}: {r}");
            assert_eq!(parts[0]["functionCall"]["name"], "search");
            assert_eq!(parts[1]["functionCall"]["name"], "lookup");
            contents.push(json!({"role": "model", "parts": parts}));
            contents.push(json!({"role": "user", "parts": [
                {"functionResponse": {"name": "search", "response": {}}},
                {"functionResponse": {"name": "lookup", "response": {}}}
            ]}));
        }
        let r = reply_to(&json!({"contents": contents, "tools": tools}));
        let text = r["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.starts_with("done after 3 tool turns: "), "{text}");
    }

    #[test]
    fn look_up_prompt_gets_one_call_then_the_result() {
        let tools = json!([{"functionDeclarations": [{"name": "lookup"}]}]);
        let mut contents = vec![json!({"role": "user", "parts": [{"text": "Look up: rust"}]})];
        let r = reply_to(&json!({"contents": contents, "tools": tools}));
        let parts = r["candidates"][0]["content"]["parts"].clone();
        assert_eq!(
            parts,
            json!([{"functionCall": {"name": "lookup", "args": {"query": "rust"}}}])
        );
        contents.push(json!({"role": "model", "parts": parts}));
        contents.push(json!({"role": "user", "parts": [
            {"functionResponse": {"name": "lookup", "response": {"content": "Results for: rust"}}}
        ]}));
        let r = reply_to(&json!({"contents": contents, "tools": tools}));
        let text = r["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("Results for: rust"), "{text}");
    }
}
