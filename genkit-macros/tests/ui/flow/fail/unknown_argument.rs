use genkit::prelude::*;

#[genkit::flow(nam = "research")]
async fn research(input: String) -> Result<String> {
    Ok(input)
}

fn main() {}
