//! The server process: the local Gemini-compatible server (or the tool-loop mock) in its
//! own process, so the client's CPU time and RSS are the client's alone. Prints
//! `listening on {base_url}` on stdout, then serves until killed or stdin closes.

use std::time::Duration;

use genkit_core::{Error, Result};
use genkit_googleai::server::{LocalGemini, ServerOptions};
use tokio::io::AsyncReadExt;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerKind {
    /// [`LocalGemini`], streaming one word per chunk.
    Local,
    /// [`crate::mock`], the tool-loop mock.
    Loop,
    /// [`genkit_openai::LocalOpenAi`], the local OpenAI-compatible server.
    OpenAi,
    /// [`genkit_anthropic::server::LocalAnthropic`], the local Anthropic look-alike.
    Anthropic,
    /// A trace sink: reads and discards every POST (the telemetry server's
    /// `/api/traces`, OTLP's `/v1/traces`), counting the bodies it received.
    Sink,
}

/// Serves until stdin reaches its end (the runner closes it, or dies).
pub async fn run(kind: ServerKind, latency: Duration) -> Result<()> {
    let base = match kind {
        ServerKind::Local => {
            let opts = ServerOptions::default().latency(latency).words_per_chunk(1);
            let server = LocalGemini::start_with(opts).await?;
            let base = server.base_url();
            announce(&base);
            wait_for_stdin_eof().await;
            drop(server);
            return Ok(());
        }
        ServerKind::OpenAi => {
            let opts = genkit_openai::server::ServerOptions::default().latency(latency);
            let server = genkit_openai::LocalOpenAi::start_with(opts).await?;
            announce(&server.base_url());
            wait_for_stdin_eof().await;
            drop(server);
            return Ok(());
        }
        ServerKind::Anthropic => {
            let opts = ServerOptions::default().latency(latency);
            let server = genkit_anthropic::server::LocalAnthropic::start_with(opts).await?;
            announce(&server.base_url());
            wait_for_stdin_eof().await;
            drop(server);
            return Ok(());
        }
        ServerKind::Sink => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(Error::from)?;
            let addr = listener.local_addr().map_err(Error::from)?;
            let app = axum::Router::new().fallback(sink);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            format!("http://{addr}")
        }
        ServerKind::Loop => {
            let (addr, fut) = crate::mock::bind(latency).await?;
            tokio::spawn(fut);
            format!("http://{addr}")
        }
    };
    announce(&base);
    wait_for_stdin_eof().await;
    Ok(())
}

/// The sink's handler: 200 with an empty body (an empty OTLP export response, in
/// protobuf as in JSON, and what the telemetry server's body is ignored as).
async fn sink(uri: axum::http::Uri, body: axum::body::Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    let kind = if uri.path().ends_with("/v1/traces") {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    drop(body);
    ([(axum::http::header::CONTENT_TYPE, kind)], "").into_response()
}

fn announce(base: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {base}");
    let _ = out.flush();
}

async fn wait_for_stdin_eof() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Parses `local` / `loop`.
pub fn parse_kind(s: &str) -> Result<ServerKind> {
    match s {
        "local" => Ok(ServerKind::Local),
        "loop" => Ok(ServerKind::Loop),
        "openai" => Ok(ServerKind::OpenAi),
        "anthropic" => Ok(ServerKind::Anthropic),
        "sink" => Ok(ServerKind::Sink),
        other => Err(Error::invalid_argument(format!("unknown server {other}"))),
    }
}
