//! A plain `async fn` in `.tools([..])`: the error says to add `#[genkit::tool]`.
use genkit::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct SearchInput {
    query: String,
}

/// Search the web for a query.
async fn web_search(input: SearchInput) -> Result<String> {
    Ok(input.query)
}

async fn run(ai: &Genkit) -> Result<String> {
    let reply = ai.generate().prompt("go").tools([web_search]).await?;
    Ok(reply.text())
}

fn main() {
    let _ = run;
}
