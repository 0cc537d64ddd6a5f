use genkit::prelude::*;

#[derive(JsonSchema)]
struct Page {
    text: String,
}

#[genkit::tool]
async fn read_page(url: String) -> Result<Page> {
    Ok(Page { text: url })
}

fn main() {}
