//! A tool may take its context, by value or by reference; a direct call passes it.
#![deny(warnings)]

use genkit::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Approval {
    action: String,
}

/// Asks before doing anything.
#[genkit::tool]
async fn approve(input: Approval, ctx: ToolContext) -> Result<String> {
    if ctx.resumed().is_none() {
        return Err(ctx.interrupt(json!({"action": input.action})));
    }
    Ok("done".into())
}

/// Reads the request context.
#[genkit::tool]
async fn whoami(_input: (), ctx: &genkit::ToolContext) -> Result<Option<Value>> {
    Ok(ctx.context().cloned())
}

use genkit::serde_json::Value;

fn main() {
    let _ = approve(Approval { action: "x".into() }, ToolContext::default());
    let _ = whoami((), ToolContext::default());
}
