use genkit::prelude::*;

#[derive(Deserialize)]
struct SearchInput {
    query: String,
}

#[genkit::tool]
async fn web_search(input: SearchInput) -> Result<String> {
    Ok(input.query)
}

fn main() {}
