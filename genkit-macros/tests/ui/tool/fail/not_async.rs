use genkit::prelude::*;

/// Not async.
#[genkit::tool]
fn web_search(input: String) -> Result<String> {
    Ok(input)
}

fn main() {}
