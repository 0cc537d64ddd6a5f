//! Runs the local Anthropic-compatible server until Ctrl-C.
//!
//! ```text
//! genkit-anthropic-server [--port N] [--latency-ms N] [--pace-ms N] [--words-per-chunk N] [--key KEY]
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use genkit_anthropic::server::{LocalAnthropic, ServerOptions};

const USAGE: &str = "usage: genkit-anthropic-server [--port N] [--latency-ms N] [--pace-ms N] [--words-per-chunk N] [--key KEY]";

fn parse_args() -> Result<(u16, ServerOptions), String> {
    let mut port = 0u16;
    let mut options = ServerOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        options = match flag.as_str() {
            "--port" => {
                port =
                    u16::try_from(num()?).map_err(|_| format!("--port: out of range: {value}"))?;
                options
            }
            "--latency-ms" => options.latency(Duration::from_millis(num()?)),
            "--pace-ms" => options.stream_pace(Duration::from_millis(num()?)),
            "--words-per-chunk" => {
                options.words_per_chunk(usize::try_from(num()?).unwrap_or(usize::MAX))
            }
            "--key" => options.api_key(value.clone()),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        };
    }
    Ok((port, options))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let (port, options) = match parse_args() {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let server = match LocalAnthropic::bind(addr, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start the server: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "Local Anthropic-compatible server listening on {}",
        server.base_url()
    );
    println!(
        "Point genkit-rs at it with: ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=local",
        server.base_url()
    );
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
