//! Any error convertible into `genkit::Error`, and `Result` aliases, are accepted.
#![deny(warnings)]

use genkit::prelude::*;

type Res<T> = std::result::Result<T, genkit::Error>;

/// Parses an integer.
#[genkit::tool]
async fn parse(input: String) -> std::result::Result<i64, std::convert::Infallible> {
    Ok(input.len() as i64)
}

/// Through an alias not named `Result`.
#[genkit::tool]
async fn aliased(input: String) -> Res<usize> {
    Ok(input.len())
}

fn main() {
    let _: genkit::futures::future::BoxFuture<'static, Result<i64>> = parse(String::new());
    let _: genkit::futures::future::BoxFuture<'static, Result<usize>> = aliased(String::new());
}
