use genkit::prelude::*;

#[genkit::tool]
async fn add(a: i64, b: i64, c: i64) -> Result<i64> {
    Ok(a + b + c)
}

fn main() {}
