use genkit::prelude::*;

#[derive(Deserialize)]
struct Topic {
    name: String,
}

#[genkit::flow]
async fn research(ai: &Genkit, input: Topic) -> Result<String> {
    let _ = ai;
    Ok(input.name)
}

fn main() {}
