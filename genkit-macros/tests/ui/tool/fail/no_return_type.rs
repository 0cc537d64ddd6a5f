use genkit::prelude::*;

#[genkit::tool]
async fn log(input: String) {
    let _ = input;
}

fn main() {}
