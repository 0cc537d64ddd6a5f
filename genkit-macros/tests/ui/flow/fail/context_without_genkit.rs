use genkit::prelude::*;

#[genkit::flow]
async fn stream(input: u32, ctx: FlowContext) -> Result<u32> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
