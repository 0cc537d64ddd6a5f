use genkit::prelude::*;

#[genkit::tool]
async fn ask(ctx: ToolContext, input: String) -> Result<String> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
