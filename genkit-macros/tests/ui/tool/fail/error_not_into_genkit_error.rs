use genkit::prelude::*;

struct MyError;

#[genkit::tool]
async fn shout(input: String) -> std::result::Result<String, MyError> {
    Ok(input)
}

fn main() {}
