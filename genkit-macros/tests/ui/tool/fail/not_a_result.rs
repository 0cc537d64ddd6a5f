use genkit::prelude::*;

#[genkit::tool]
async fn shout(input: String) -> String {
    input.to_uppercase()
}

struct Reply;

// Not a well-known type: it might be a `Result` alias, so rustc checks it.
#[genkit::tool]
async fn reply(input: String) -> Reply {
    let _ = input;
    Reply
}

fn main() {}
