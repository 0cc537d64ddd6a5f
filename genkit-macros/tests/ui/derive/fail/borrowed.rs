//! Lifetimes cannot be deserialized through genkit's derive; the error says what to do.
use genkit::prelude::*;

#[derive(Deserialize)]
struct Borrowed<'a> {
    name: &'a str,
}

fn main() {}
