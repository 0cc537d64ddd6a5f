//! `crate = "..."` names a renamed `genkit`.
#![deny(warnings)]

extern crate genkit as gk;

/// A flow.
#[gk::flow(crate = "gk", name = "renamed", description = "A renamed flow.")]
async fn flow(ai: &gk::Genkit, input: String) -> gk::Result<String> {
    let _ = ai;
    Ok(input)
}

fn main() {
    let _ = flow::action();
}
