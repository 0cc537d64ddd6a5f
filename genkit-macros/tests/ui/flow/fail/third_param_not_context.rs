use genkit::prelude::*;

#[genkit::flow]
async fn research(ai: &Genkit, input: String, extra: String) -> Result<String> {
    let _ = (ai, extra);
    Ok(input)
}

fn main() {}
