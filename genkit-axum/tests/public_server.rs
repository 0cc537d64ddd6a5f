//! A served app against hostile clients over real sockets on 127.0.0.1: non-JSON
//! bodies a web page's form could send, half-sent headers (slowloris), idle and
//! half-open connections, more connections than the cap, and a client that stops
//! reading a stream. Counts and timeouts are small so each test is bounded.

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use common::app;
use genkit_axum::{LimitedListener, ServeOptions, flow, flows_with};
use genkit_core::{Error, FlowContext, Genkit};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Serves `router` with [`genkit_axum::serve`] on a free port.
async fn serve_with(
    listener: LimitedListener,
    router: Router,
    header_read_timeout: Duration,
) -> String {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        genkit_axum::serve(listener, router)
            .header_read_timeout(header_read_timeout)
            .into_future(),
    );
    format!("http://{addr}")
}

/// Every flow of `ai` at `/<name>`, served with [`serve_with`].
async fn serve_flows(
    ai: &Genkit,
    listener: LimitedListener,
    header_read_timeout: Duration,
) -> String {
    serve_with(
        listener,
        flows_with::<()>(ai, ServeOptions::new()),
        header_read_timeout,
    )
    .await
}

async fn listener() -> LimitedListener {
    genkit_axum::bind("127.0.0.1:0").await.unwrap()
}

/// Reads until the server closes the connection; `None` if it is still open after
/// `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(out),
        Err(_) => None,
    }
}

#[tokio::test]
async fn non_json_bodies_are_refused_before_the_flow_runs() {
    let a = app().await;
    let url = serve_flows(&a.ai, listener().await, Duration::from_secs(5)).await;
    let client = reqwest::Client::new();
    let body = r#"{"data":{"query":"rust"}}"#;
    // What a page's <form> or no-cors fetch sends to any site.
    for ct in [
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut req = client
            .post(format!("{url}/research"))
            .header("origin", "https://evil.example")
            .body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 415, "{ct:?}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["status"], "INVALID_ARGUMENT", "{err}");
    }
    assert_eq!(
        a.gemini.requests().len(),
        0,
        "a refused request called the model"
    );

    let res = client
        .post(format!("{url}/research"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!a.gemini.requests().is_empty());
}

#[tokio::test]
async fn any_content_type_when_the_user_opts_in() {
    let a = app().await;
    let whoami = a.ai.registry().flow("whoami").unwrap();
    let url = serve_with(
        listener().await,
        Router::new()
            .route(
                "/whoami",
                post(flow(whoami).with_options(ServeOptions::new().accept_any_content_type())),
            )
            .with_state(a.ai.clone()),
        Duration::from_secs(5),
    )
    .await;
    let res = reqwest::Client::new()
        .post(format!("{url}/whoami"))
        .header("content-type", "text/plain")
        .body(r#"{"data":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"result": null}));
}

#[tokio::test]
async fn half_sent_headers_and_idle_connections_are_cut_off() {
    let a = app().await;
    let url = serve_flows(&a.ai, listener().await, Duration::from_millis(500)).await;
    let addr = url.trim_start_matches("http://");

    // Slowloris: half the headers, then nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /research HTTP/1.1\r\nHost: x\r\nContent-Ty")
        .await
        .unwrap();
    // A half-open client: connects and never sends a byte.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // An idle keep-alive connection after one answered request.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"data":null}"#;
    kept.write_all(
        format!(
            "POST /whoami HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();

    let bound = Duration::from_secs(10);
    assert!(
        closed_within(&mut slow, bound).await.is_some(),
        "slowloris kept"
    );
    assert!(
        closed_within(&mut silent, bound).await.is_some(),
        "silent kept"
    );
    let answered = closed_within(&mut kept, bound).await.expect("idle kept");
    let answered = String::from_utf8_lossy(&answered);
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test]
async fn connections_over_the_cap_wait_and_slow_ones_do_not_starve_real_requests() {
    let a = app().await;
    let url = serve_flows(
        &a.ai,
        listener().await.max_connections(4),
        Duration::from_secs(60),
    )
    .await;
    let addr = url.trim_start_matches("http://");
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /whoami HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    // Let the server accept the four.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::new();
    let call = || {
        client
            .post(format!("{url}/whoami"))
            .json(&json!({"data": null}))
            .timeout(Duration::from_secs(1))
            .send()
    };
    let refused = call().await;
    assert!(
        refused.as_ref().is_err_and(|e| e.is_timeout()),
        "a fifth connection was served past the cap: {refused:?}"
    );
    slow.clear();
    let res = call()
        .await
        .expect("served once the slow connections are gone");
    assert_eq!(res.status(), 200);

    // With the header-read timeout, 12 slow clients on a cap of 4 only delay a real
    // request: each batch is cut off after 500 ms.
    let a = app().await;
    let url = serve_flows(
        &a.ai,
        listener().await.max_connections(4),
        Duration::from_millis(500),
    )
    .await;
    let addr = url.trim_start_matches("http://");
    for _ in 0..12 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /whoami HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let res = client
        .post(format!("{url}/whoami"))
        .json(&json!({"data": null}))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("a real request gets through");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_a_stream_is_dropped_with_its_run() {
    let a = app().await;
    let (tx, mut dropped) = tokio::sync::mpsc::unbounded_channel();
    let ai: Genkit = a.ai.clone();
    ai.define_flow(
        "firehose",
        move |_ai: Genkit, _in: Value, cx: FlowContext| {
            let guard = common::DropSignal(tx.clone());
            async move {
                let _guard = guard;
                let chunk = "x".repeat(64 * 1024);
                loop {
                    cx.send_chunk(chunk.clone()).await?;
                }
                #[allow(unreachable_code)]
                Ok::<_, Error>(())
            }
        },
    )
    .unwrap();
    let url = serve_flows(
        &ai,
        listener()
            .await
            .write_timeout(Some(Duration::from_millis(500))),
        Duration::from_secs(5),
    )
    .await;
    let mut s = TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    let body = r#"{"data":null}"#;
    s.write_all(
        format!(
            "POST /firehose?stream=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // The client never reads: the socket buffers fill, the server's write stalls.
    let got = tokio::time::timeout(Duration::from_secs(30), dropped.recv()).await;
    assert_eq!(
        got,
        Ok(Some("dropped")),
        "the run went on for a client that reads nothing"
    );
    drop(s);
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let router = Router::new().route(
        "/peer",
        axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
            peer.ip().to_string()
        }),
    );
    let url = serve_with(listener().await, router, Duration::from_secs(5)).await;
    let body = reqwest::get(format!("{url}/peer"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "127.0.0.1");
}
