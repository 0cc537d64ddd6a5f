use genkit::prelude::*;

#[genkit::tool]
async fn shout(input: String) -> String {
    input.to_uppercase()
}

fn main() {}
