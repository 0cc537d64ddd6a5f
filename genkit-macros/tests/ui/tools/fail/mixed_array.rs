//! Two different tools in one array outside a `#[genkit::flow]` / `#[genkit::tool]` body:
//! a type mismatch at the array literal, reported by rustc before any trait is consulted
//! (so no `#[diagnostic]` can name the fix there); the fix, a tuple
//! `.tools((web_search, read_file))`, is in the docs of `.tools`. Inside those bodies the
//! macros name it (`mixed_array_in_flow.rs`).
use genkit::prelude::*;

/// Search the web for a query.
#[genkit::tool]
async fn web_search(query: String) -> Result<String> {
    Ok(query)
}

/// Read a file.
#[genkit::tool]
async fn read_file(path: String) -> Result<String> {
    Ok(path)
}

async fn run(ai: &Genkit) -> Result<String> {
    let reply = ai.generate().prompt("go").tools([web_search, read_file]).await?;
    Ok(reply.text())
}

fn main() {
    let _ = run;
}
