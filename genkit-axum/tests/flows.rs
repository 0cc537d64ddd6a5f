//! Flows over real HTTP on 127.0.0.1: the protocol, streaming, errors, limits, auth,
//! timeouts, cancellation on disconnect, concurrency and graceful shutdown.

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use common::{app, frames, serve};
use genkit_axum::{
    ContextLayer, ServeOptions, Shutdown, api_key, bearer, flow, flow_with, flows, flows_with,
};
use genkit_core::{Error, Status};
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post_json(url: &str, body: Value) -> (u16, Value) {
    let r = client().post(url).json(&body).send().await.expect("send");
    let code = r.status().as_u16();
    (code, r.json().await.expect("json body"))
}

async fn post_stream(url: &str, body: Value) -> (u16, String, Vec<Value>) {
    let r = client()
        .post(url)
        .header("accept", "text/event-stream")
        .json(&body)
        .send()
        .await
        .expect("send");
    let code = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.text().await.expect("body");
    (code, ct, frames(&body))
}

#[tokio::test]
async fn a_flow_on_a_route_of_its_own_answers_with_its_result() {
    let a = app().await;
    let research = a.ai.registry().flow("research").expect("flow");
    let url = serve(
        Router::new()
            .route("/research", post(flow(research)))
            .with_state(a.ai.clone()),
    )
    .await;
    let (code, body) = post_json(
        &format!("{url}/research"),
        json!({"data": {"query": "rust"}}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        json!({"result": "Based on web_search: Results for: rust"})
    );
    // The 2-turn tool loop really ran against the model server.
    assert_eq!(a.gemini.requests().len(), 2);
}

#[tokio::test]
async fn responses_name_the_trace_of_the_run() {
    let a = app().await;
    let research = a.ai.registry().flow("research").expect("flow");
    let url = serve(
        Router::new()
            .route("/research", post(flow(research)))
            .with_state(a.ai.clone()),
    )
    .await;
    let is_hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    let mut seen = Vec::new();
    for accept in ["application/json", "text/event-stream"] {
        let r = client()
            .post(format!("{url}/research"))
            .header("accept", accept)
            .json(&json!({"data": {"query": "ids"}}))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
        let trace = r.headers()["x-genkit-trace-id"]
            .to_str()
            .expect("ascii")
            .to_string();
        let span = r.headers()["x-genkit-span-id"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(is_hex(&trace, 32), "{trace}");
        assert!(is_hex(&span, 16), "{span}");
        seen.push(trace);
    }
    assert_ne!(seen[0], seen[1], "each run is its own trace");
}

#[tokio::test]
async fn every_flow_is_served_under_its_name() {
    let a = app().await;
    let url = serve(flows(&a.ai)).await;
    let (code, body) =
        post_json(&format!("{url}/research"), json!({"data": {"query": "go"}})).await;
    assert_eq!(
        (code, body["result"].as_str()),
        (200, Some("Based on web_search: Results for: go"))
    );
    let (code, body) = post_json(&format!("{url}/whoami"), json!({"data": null})).await;
    assert_eq!((code, body), (200, json!({"result": null})));
    let r = client()
        .post(format!("{url}/nope"))
        .json(&json!({"data": 1}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn streaming_sends_one_line_frames_and_ends_with_the_result() {
    let a = app().await;
    let url = serve(flows(&a.ai)).await;
    let (code, ct, frames) = post_stream(
        &format!("{url}/research_stream"),
        json!({"data": {"query": "deno"}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(ct, "text/event-stream");
    let (last, chunks) = frames.split_last().expect("frames");
    assert_eq!(
        last,
        &json!({"result": "Based on web_search: Results for: deno"})
    );
    assert!(!chunks.is_empty());
    let text: String = chunks
        .iter()
        .map(|c| c["message"].as_str().expect("a message frame"))
        .collect();
    assert!(text.contains("Results for: deno"), "{text}");

    // `?stream=true` asks for a stream too.
    let r = client()
        .post(format!("{url}/research_stream?stream=true"))
        .json(&json!({"data": {"query": "zig"}}))
        .send()
        .await
        .expect("send");
    let frames = frames_of(r).await;
    assert_eq!(
        frames.last(),
        Some(&json!({"result": "Based on web_search: Results for: zig"}))
    );
}

async fn frames_of(r: reqwest::Response) -> Vec<Value> {
    frames(&r.text().await.expect("body"))
}

#[tokio::test]
async fn input_that_does_not_fit_is_400_naming_the_field() {
    let a = app().await;
    let url = serve(flows(&a.ai)).await;
    let (code, body) = post_json(&format!("{url}/research"), json!({"data": {"qurey": "x"}})).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["status"], "INVALID_ARGUMENT");
    assert!(
        body["message"].as_str().unwrap_or("").contains("query"),
        "{body}"
    );
    let (code, body) = post_json(&format!("{url}/research"), json!({"data": {"query": 7}})).await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("query"),
        "{body}"
    );
    // No model call was made for bad input.
    assert!(a.gemini.requests().is_empty());

    // Streaming: the stream ends with an error frame.
    let (code, _, frames) = post_stream(&format!("{url}/research"), json!({"data": {}})).await;
    assert_eq!(code, 200);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        frames[0]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("query")
    );
}

#[tokio::test]
async fn broken_bodies_get_clear_errors() {
    let a = app().await;
    let url = serve(flows_with(
        &a.ai,
        ServeOptions::new().body_limit(1024).max_depth(8),
    ))
    .await;
    let send = |body: Vec<u8>| {
        let url = format!("{url}/whoami");
        async move {
            let r = client()
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("send");
            let code = r.status().as_u16();
            (code, r.json::<Value>().await.expect("json error body"))
        }
    };
    let (code, body) = send(Vec::new()).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    assert!(body["message"].as_str().unwrap_or("").contains("data"));
    let (code, body) = send(b"{\"data\": ".to_vec()).await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("not valid JSON"),
        "{body}"
    );
    let (code, _) = send(b"[1, 2]".to_vec()).await;
    assert_eq!(code, 400);
    let deep = format!("{{\"data\": {}{}}}", "[".repeat(9), "]".repeat(9));
    let (code, body) = send(deep.into_bytes()).await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("deeper than 8"),
        "{body}"
    );
    let ok_depth = format!("{{\"data\": {}{}}}", "[".repeat(8), "]".repeat(8));
    let (code, _) = send(ok_depth.into_bytes()).await;
    assert_eq!(code, 200);
    let big = format!("{{\"data\": \"{}\"}}", "x".repeat(2000));
    let (code, body) = send(big.into_bytes()).await;
    assert_eq!(code, 413);
    assert!(
        body["message"].as_str().unwrap_or("").contains("1024"),
        "{body}"
    );
}

#[tokio::test]
async fn errors_map_to_http_statuses_and_internal_ones_are_hidden() {
    let a = app().await;
    let url = serve(flows(&a.ai)).await;
    let (code, body) = post_json(&format!("{url}/boom"), json!({"data": null})).await;
    assert_eq!(code, 500);
    assert_eq!(
        body,
        json!({"status": "INTERNAL", "message": "Internal Error"})
    );
    let (code, body) = post_json(&format!("{url}/missing"), json!({"data": null})).await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        json!({"status": "NOT_FOUND", "message": "no such document: d1"})
    );
    let (_, _, frames) = post_stream(&format!("{url}/boom"), json!({"data": null})).await;
    assert_eq!(
        frames,
        vec![json!({"error": {"status": "INTERNAL", "message": "Internal Error"}})]
    );
}

#[tokio::test]
async fn api_key_rejects_before_the_flow_runs_and_the_flow_reads_the_context() {
    let a = app().await;
    let opts = ServeOptions::new().context(api_key("Bearer s3cret"));
    let url = serve(flows_with(&a.ai, opts)).await;
    let (code, body) = post_json(&format!("{url}/research"), json!({"data": {"query": "x"}})).await;
    assert_eq!(
        (code, body),
        (
            401,
            json!({"status": "UNAUTHENTICATED", "message": "Unauthenticated"})
        )
    );
    let r = client()
        .post(format!("{url}/research"))
        .bearer_auth("wrong")
        .json(&json!({"data": {"query": "x"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        r.json::<Value>().await.expect("json")["status"],
        "PERMISSION_DENIED"
    );
    assert!(a.gemini.requests().is_empty(), "the flow must not run");
    let r = client()
        .post(format!("{url}/whoami"))
        .bearer_auth("s3cret")
        .json(&json!({"data": null}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"result": {"auth": {"apiKey": "Bearer s3cret"}}})
    );
}

#[tokio::test]
async fn a_bearer_closure_verifies_tokens_and_a_layer_protects_a_whole_router() {
    let a = app().await;
    let provider = bearer(|token: String| async move {
        match token.as_str() {
            "alice-token" => Ok(json!({"uid": "alice"})),
            _ => Err(Error::new(Status::PermissionDenied, "unknown token")),
        }
    });
    let whoami = a.ai.registry().flow("whoami").expect("flow");
    let url = serve(
        Router::new()
            .route("/me", post(flow_with(&a.ai, whoami)))
            .layer(ContextLayer::new(provider)),
    )
    .await;
    let call = |token: Option<&'static str>| {
        let url = format!("{url}/me");
        async move {
            let mut rb = client().post(url).json(&json!({"data": null}));
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            let r = rb.send().await.expect("send");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        }
    };
    assert_eq!(call(None).await.0, 401);
    let (code, body) = call(Some("mallory")).await;
    assert_eq!(
        (code, body),
        (
            403,
            json!({"status": "PERMISSION_DENIED", "message": "unknown token"})
        )
    );
    let (code, body) = call(Some("alice-token")).await;
    assert_eq!(
        (code, body),
        (200, json!({"result": {"auth": {"uid": "alice"}}}))
    );
}

#[tokio::test]
async fn a_run_past_its_timeout_is_cut_with_deadline_exceeded() {
    let mut a = app().await;
    let url = serve(flows_with(
        &a.ai,
        ServeOptions::new().timeout(Duration::from_millis(200)),
    ))
    .await;
    let (code, body) = post_json(&format!("{url}/hang"), json!({"data": null})).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (504, Some("DEADLINE_EXCEEDED"))
    );
    assert_eq!(a.dropped.recv().await, Some("dropped"));
    let (code, _, frames) = post_stream(&format!("{url}/hang"), json!({"data": null})).await;
    assert_eq!(code, 200);
    assert_eq!(frames[0], json!({"message": "started"}));
    assert_eq!(frames[1]["error"]["status"], "DEADLINE_EXCEEDED");
    assert_eq!(frames.len(), 2);
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_run() {
    let mut a = app().await;
    let url = serve(flows(&a.ai)).await;

    // Streaming: read the first chunk, then drop the connection.
    let mut r = client()
        .post(format!("{url}/hang"))
        .header("accept", "text/event-stream")
        .json(&json!({"data": null}))
        .send()
        .await
        .expect("send");
    let first = r.chunk().await.expect("chunk").expect("a first chunk");
    assert_eq!(&first[..], b"data: {\"message\":\"started\"}\n\n");
    drop(r);
    let dropped = tokio::time::timeout(Duration::from_secs(10), a.dropped.recv()).await;
    assert_eq!(
        dropped,
        Ok(Some("dropped")),
        "the streaming run was not dropped"
    );

    // Not streaming: give up on the request while the flow runs.
    let req = client()
        .post(format!("{url}/hang"))
        .json(&json!({"data": null}))
        .send();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), req)
            .await
            .is_err()
    );
    let dropped = tokio::time::timeout(Duration::from_secs(10), a.dropped.recv()).await;
    assert_eq!(
        dropped,
        Ok(Some("dropped")),
        "the plain run was not dropped"
    );
}

#[tokio::test]
async fn concurrent_requests_each_get_their_own_answer() {
    let a = app().await;
    let url = serve(flows(&a.ai)).await;
    let calls = (0..24).map(|i| {
        let url = format!("{url}/research");
        async move {
            if i % 2 == 0 {
                post_json(&url, json!({"data": {"query": format!("q{i}")}}))
                    .await
                    .1["result"]
                    .clone()
            } else {
                let url = url.replace("/research", "/research_stream");
                post_stream(&url, json!({"data": {"query": format!("q{i}")}}))
                    .await
                    .2
                    .last()
                    .cloned()
                    .unwrap_or_default()["result"]
                    .clone()
            }
        }
    });
    let results = futures::future::join_all(calls).await;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &json!(format!("Based on web_search: Results for: q{i}")));
    }
    assert_eq!(a.gemini.requests().len(), 48);
}

#[tokio::test]
async fn shutdown_ends_streams_in_flight_with_a_clear_error() {
    let a = app().await;
    let shutdown = Shutdown::new();
    let opts = ServeOptions::new()
        .shutdown(&shutdown)
        .grace(Duration::from_millis(100));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(
        axum::serve(listener, flows_with::<()>(&a.ai, opts))
            .with_graceful_shutdown(shutdown.signal())
            .into_future(),
    );
    let mut r = client()
        .post(format!("{url}/hang"))
        .header("accept", "text/event-stream")
        .json(&json!({"data": null}))
        .send()
        .await
        .expect("send");
    let first = r.chunk().await.expect("chunk").expect("a first chunk");
    assert_eq!(&first[..], b"data: {\"message\":\"started\"}\n\n");
    shutdown.trigger();
    let mut rest = String::new();
    while let Some(c) = r.chunk().await.expect("chunk") {
        rest.push_str(std::str::from_utf8(&c).expect("utf8"));
    }
    assert_eq!(
        frames(&rest),
        vec![json!({"error": {"status": "UNAVAILABLE", "message": "the server is shutting down"}})]
    );
    let finished = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "the server did not stop: {finished:?}"
    );
}

#[tokio::test]
async fn requests_after_shutdown_started_get_503() {
    let a = app().await;
    let shutdown = Shutdown::new();
    shutdown.trigger();
    let url = serve(flows_with(&a.ai, ServeOptions::new().shutdown(&shutdown))).await;
    let (code, body) = post_json(&format!("{url}/research"), json!({"data": {"query": "x"}})).await;
    assert_eq!(code, 503);
    assert_eq!(
        body,
        json!({"status": "UNAVAILABLE", "message": "the server is shutting down"})
    );
    assert!(a.gemini.requests().is_empty());
}
