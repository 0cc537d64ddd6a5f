use genkit::prelude::*;

#[genkit::flow]
fn research(ai: &Genkit, input: String) -> Result<String> {
    let _ = ai;
    Ok(input)
}

fn main() {}
