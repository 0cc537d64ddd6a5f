//! Runs the local OpenAI-compatible server on its own.
//!
//! `genkit-openai-server [--port N] [--key KEY] [--ollama]` — `--ollama` accepts any
//! model name and no key, as Ollama does. Prints the base URL, serves until Ctrl-C.

use std::net::SocketAddr;

use genkit_openai::server::{LocalOpenAi, ServerOptions};

fn usage() -> ! {
    eprintln!("usage: genkit-openai-server [--port N] [--key KEY] [--ollama]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut port = 0u16;
    let mut options = ServerOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--key" => options = options.api_key(args.next().unwrap_or_else(|| usage())),
            "--ollama" => options = options.require_key(false).any_model(),
            _ => usage(),
        }
    }
    let server = match LocalOpenAi::bind(SocketAddr::from(([127, 0, 0, 1], port)), options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start the server: {e}");
            std::process::exit(1)
        }
    };
    println!("{}", server.base_url());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
}
