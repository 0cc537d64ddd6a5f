use genkit::prelude::*;

#[genkit::tool]
async fn shout(input: &str) -> Result<String> {
    Ok(input.to_uppercase())
}

fn main() {}
