use genkit::prelude::*;

#[genkit::tool]
async fn echo<T: JsonSchema + for<'de> Deserialize<'de>>(input: T) -> Result<String> {
    let _ = input;
    Ok(String::new())
}

#[genkit::tool]
async fn takes_impl(input: impl Into<String>) -> Result<String> {
    Ok(input.into())
}

fn main() {}
