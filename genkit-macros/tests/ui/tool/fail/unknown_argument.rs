use genkit::prelude::*;

#[genkit::tool(descripton = "Search the web.")]
async fn web_search(input: String) -> Result<String> {
    Ok(input)
}

fn main() {}
