use genkit::prelude::*;

#[genkit::tool]
async fn now() -> Result<String> {
    Ok(String::new())
}

fn main() {}
