use genkit::prelude::*;

#[genkit::tool(name = 42, description)]
async fn web_search(input: String) -> Result<String> {
    Ok(input)
}

#[genkit::tool(name = "")]
async fn empty_name(input: String) -> Result<String> {
    Ok(input)
}

#[genkit::tool(name = "a", name = "b")]
async fn twice(input: String) -> Result<String> {
    Ok(input)
}

fn main() {}
