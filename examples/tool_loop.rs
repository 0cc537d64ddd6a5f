//! The tool loop with several tools, called in parallel when the model asks for more
//! than one, and a custom middleware that logs every model call.

use std::sync::Arc;

use genkit::futures::future::BoxFuture;
use genkit::googleai::GoogleAi;
use genkit::prelude::*;
use genkit::{GenerateRequest, Middleware, ModelNext};

#[derive(Deserialize, Serialize, JsonSchema)]
struct Topic {
    topic: String,
}

/// Search the web for a topic.
#[genkit::tool]
async fn web_search(input: Topic) -> Result<String> {
    Ok(format!("Results for: {}", input.topic))
}

/// Look a topic up in the encyclopedia.
#[genkit::tool]
async fn encyclopedia(input: Topic) -> Result<String> {
    Ok(format!("Encyclopedia entry on {}", input.topic))
}

/// A ten-line middleware: logs each model call and how long it took.
struct LogCalls;

impl Middleware for LogCalls {
    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let turn = request.messages.len();
            let response = next.run(request, cx).await;
            eprintln!(
                "model call with {turn} messages took {:?}",
                started.elapsed()
            );
            response
        })
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;

    let response = ai
        .generate()
        .system("Use every tool that can help.")
        .prompt("Tell me about: Rust")
        .tools((web_search, encyclopedia))
        .use_(LogCalls)
        .max_turns(3)
        .await?;
    println!("{}", response.text());
    for message in response.messages() {
        println!(
            "{:?}: {}",
            message.role,
            serde_json::to_string(&message.content).unwrap_or_default()
        );
    }
    Ok(())
}
