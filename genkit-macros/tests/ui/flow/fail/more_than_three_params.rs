use genkit::prelude::*;

#[genkit::flow]
async fn research(ai: &Genkit, input: String, ctx: FlowContext, more: u8) -> Result<String> {
    let _ = (ai, ctx, more);
    Ok(input)
}

fn main() {}
