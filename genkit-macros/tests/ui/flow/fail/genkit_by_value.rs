use genkit::prelude::*;

#[genkit::flow]
async fn research(ai: Genkit, input: String) -> Result<String> {
    let _ = ai;
    Ok(input)
}

fn main() {}
