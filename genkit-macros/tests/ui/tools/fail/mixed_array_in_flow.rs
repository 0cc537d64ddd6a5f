//! Two different tools in one array inside a `#[genkit::flow]` (or `#[genkit::tool]`)
//! body: the macro builds the array through a check whose error names the fix, a tuple,
//! at the element that differs.
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

#[genkit::flow]
async fn research(ai: &Genkit, topic: String) -> Result<String> {
    let reply = ai.generate().prompt(topic).tools([web_search, read_file]).await?;
    Ok(reply.text())
}

fn main() {
    let _ = research;
}
