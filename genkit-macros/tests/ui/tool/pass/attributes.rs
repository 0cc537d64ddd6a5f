//! Attributes stay on the function; `#[cfg]` removes the whole tool.
#![deny(warnings)]

use genkit::prelude::*;

/// Kept.
#[genkit::tool(name = "kept_tool", description = "Overrides this doc comment.")]
#[allow(clippy::needless_return)]
async fn kept(input: String) -> Result<String> {
    return Ok(input);
}

#[cfg(any())]
#[genkit::tool]
async fn removed(input: String) -> Result<String> {
    Ok(input)
}

#[genkit::tool]
#[cfg(any())]
async fn removed_too(input: String) -> Result<String> {
    Ok(input)
}

fn main() {
    let _ = kept(String::new());
}
