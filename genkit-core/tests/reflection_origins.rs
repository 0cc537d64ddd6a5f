//! The reflection API against browser-shaped requests over real HTTP on 127.0.0.1: what
//! a web page can make a browser send without a CORS preflight (a `text/plain` or form
//! POST, an `<img>` GET of `/api/__quitquitquit`), a foreign `Origin`, and a foreign
//! `Host` (DNS rebinding) are refused before anything runs, while requests shaped as
//! the genkit CLI sends them (axios: `Host: 127.0.0.1:<port>`, JSON, no Origin) work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use genkit_core::reflection::{ReflectionOptions, ReflectionServer};
use genkit_core::{Error, FlowContext, Genkit};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A runtime with `count`, a flow counting its runs.
async fn runtime() -> (ReflectionServer, Arc<AtomicUsize>) {
    let ai = Genkit::builder()
        .without_submitted_actions()
        .build()
        .await
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    ai.define_flow("count", move |_ai: Genkit, _in: Value, _cx: FlowContext| {
        let r = r.clone();
        async move { Ok::<_, Error>(r.fetch_add(1, Ordering::SeqCst) + 1) }
    })
    .unwrap();
    let server = ReflectionServer::start(&ai, ReflectionOptions::new().port(0))
        .await
        .unwrap();
    (server, runs)
}

/// One raw HTTP/1.1 exchange with exactly these headers; returns (status, body).
async fn raw(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn host(url: &str) -> (&'static str, String) {
    ("Host", url.trim_start_matches("http://").to_string())
}

const RUN: &str = r#"{"key":"/flow/count","input":null}"#;

#[tokio::test]
async fn simple_cross_origin_posts_do_not_run_actions() {
    let (srv, runs) = runtime().await;
    let url = srv.url().to_string();
    // What `fetch(url, {method: "POST", mode: "no-cors", body})` or a <form> sends.
    for (ct, origin) in [
        ("text/plain;charset=UTF-8", "https://evil.example"),
        ("application/x-www-form-urlencoded", "https://evil.example"),
        ("multipart/form-data; boundary=x", "null"),
    ] {
        let (status, body) = raw(
            &url,
            "POST",
            "/api/runAction",
            &[
                host(&url),
                ("Content-Type", ct.into()),
                ("Origin", origin.into()),
                ("Sec-Fetch-Site", "cross-site".into()),
                ("Sec-Fetch-Mode", "no-cors".into()),
            ],
            RUN,
        )
        .await;
        assert_eq!(status, 403, "{ct}: {body}");
    }
    // Even without Origin/Sec-Fetch headers (an old browser), a non-JSON body is 415.
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, body) = raw(
            &url,
            "POST",
            "/api/runAction",
            &[host(&url), ("Content-Type", ct.into())],
            RUN,
        )
        .await;
        assert_eq!(status, 415, "{ct}: {body}");
    }
    let (status, _) = raw(&url, "POST", "/api/runAction", &[host(&url)], RUN).await;
    assert_eq!(status, 415, "no Content-Type");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "a refused request ran the flow"
    );

    // A foreign Origin with a JSON body (the preflight would fail; a non-browser
    // client forging it is refused all the same).
    let (status, _) = raw(
        &url,
        "POST",
        "/api/runAction",
        &[
            host(&url),
            ("Content-Type", "application/json".into()),
            ("Origin", "http://evil.example:3100".into()),
        ],
        RUN,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // The CLI's request runs; a page served from this machine may call it too.
    for extra in [None, Some(("Origin", "http://localhost:4000".to_string()))] {
        let mut headers = vec![host(&url), ("Content-Type", "application/json".into())];
        headers.extend(extra);
        let (status, body) = raw(&url, "POST", "/api/runAction", &headers, RUN).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"result\""), "{body}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    srv.stop().await;
}

#[tokio::test]
async fn a_foreign_host_header_is_refused() {
    let (srv, runs) = runtime().await;
    let url = srv.url().to_string();
    let port = url.rsplit(':').next().unwrap().to_string();
    // DNS rebinding: the page's own name now resolves to 127.0.0.1, so the browser
    // calls it same-origin, with the attacker's name in Host.
    for name in [
        "rebind.evil.example",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
    ] {
        for (method, path, body) in [("GET", "/api/actions", ""), ("POST", "/api/runAction", RUN)] {
            let (status, _) = raw(
                &url,
                method,
                path,
                &[
                    ("Host", format!("{name}:{port}")),
                    ("Content-Type", "application/json".into()),
                    ("Sec-Fetch-Site", "same-origin".into()),
                ],
                body,
            )
            .await;
            assert_eq!(status, 403, "{name} {path}");
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    for name in ["localhost", "127.0.0.1"] {
        let (status, body) = raw(
            &url,
            "GET",
            "/api/actions",
            &[("Host", format!("{name}:{port}"))],
            "",
        )
        .await;
        assert_eq!(status, 200, "{name}");
        assert!(serde_json::from_str::<Value>(&body).unwrap()["/flow/count"].is_object());
    }
    srv.stop().await;
}

#[tokio::test]
async fn cross_site_quitquitquit_does_not_stop_the_runtime() {
    let (srv, _) = runtime().await;
    let url = srv.url().to_string();
    let evil = || "https://evil.example/".to_string();
    let attempts: [Vec<(&str, String)>; 3] = [
        // An <img src="http://127.0.0.1:3100/api/__quitquitquit"> on another site.
        vec![
            ("Sec-Fetch-Site", "cross-site".into()),
            ("Sec-Fetch-Mode", "no-cors".into()),
            ("Sec-Fetch-Dest", "image".into()),
            ("Referer", evil()),
        ],
        // An older browser sends no Sec-Fetch-* but names the page.
        vec![("Referer", evil())],
        // A fetch() from another site's script carries its Origin.
        vec![("Origin", "https://evil.example".into())],
    ];
    for headers in attempts {
        let mut all = vec![host(&url)];
        all.extend(headers.clone());
        let (status, _) = raw(&url, "GET", "/api/__quitquitquit", &all, "").await;
        assert_eq!(status, 403, "{headers:?}");
    }
    let (status, body) = raw(&url, "GET", "/api/__health", &[host(&url)], "").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "OK"),
        "the runtime is still up"
    );

    // The CLI's (and the tests') quit still works.
    let (status, _) = raw(&url, "GET", "/api/__quitquitquit", &[host(&url)], "").await;
    assert_eq!(status, 200);
    tokio::time::timeout(std::time::Duration::from_secs(10), srv.stopped())
        .await
        .expect("the runtime stops");
}

#[tokio::test]
async fn cli_shaped_requests_pass() {
    // reqwest sends what axios does: Host, JSON, no Origin, no Sec-Fetch-*.
    let (srv, runs) = runtime().await;
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/runAction?stream=true", srv.url()))
        .json(&json!({"key": "/flow/count", "input": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("\"result\":1"));
    let res = client
        .post(format!("{}/api/notify", srv.url()))
        .json(&json!({"reflectionApiSpecVersion": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    srv.stop().await;
}
