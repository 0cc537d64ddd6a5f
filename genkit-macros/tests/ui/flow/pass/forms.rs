//! Every flow form, called directly, run by key, and raising no lint.
#![deny(warnings, missing_docs, unused, nonstandard_style)]

use genkit::prelude::*;

/// The input.
#[derive(Deserialize, Serialize, JsonSchema)]
pub struct Topic {
    /// The topic.
    pub name: String,
}

/// Input only.
#[genkit::flow]
pub async fn shout(input: String) -> Result<String> {
    Ok(input.to_uppercase())
}

/// With the instance.
#[genkit::flow]
pub async fn research(ai: &Genkit, input: Topic) -> Result<String> {
    let reply = ai
        .generate()
        .prompt(format!("Research: {}", input.name))
        .await?;
    Ok(reply.text())
}

/// With the instance and a context, to stream.
#[genkit::flow]
pub async fn counter(_ai: &genkit::Genkit, input: u32, ctx: FlowContext) -> Result<u32> {
    for i in 0..input {
        ctx.send_chunk(i).await?;
    }
    Ok(input)
}

/// With a borrowed context.
#[genkit::flow]
async fn private_flow(_ai: &Genkit, input: u32, ctx: &FlowContext) -> Result<bool> {
    let _ = input;
    Ok(ctx.is_streaming())
}

async fn use_them(ai: &Genkit) -> Result<()> {
    let _: String = shout(String::new()).await?;
    let _: String = research(
        ai,
        Topic {
            name: "rust".into(),
        },
    )
    .await?;
    let _: u32 = counter(ai, 3).await?;
    let _: std::sync::Arc<genkit::FlowAction> = research::action().clone();
    let _ = ai
        .run_action("/flow/research", json!({"name": "x"}), Default::default())
        .await?;
    Ok(())
}

fn main() {
    let f: for<'a> fn(&'a Genkit, Topic) -> genkit::futures::future::BoxFuture<'a, Result<String>> =
        *research;
    let _ = f;
    let _ = use_them;
}
