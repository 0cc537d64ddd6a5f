//! The simplest tool, used every way a program can; generated code raises no lint.
#![deny(warnings, missing_docs, unused, nonstandard_style, rust_2018_idioms)]

use genkit::prelude::*;

/// The input.
#[derive(Deserialize, Serialize, JsonSchema)]
pub struct SearchInput {
    /// The query.
    pub query: String,
}

/// Search the web for a query.
#[genkit::tool]
pub async fn web_search(input: SearchInput) -> Result<String> {
    Ok(format!("Results for: {}", input.query))
}

/// A private tool, used only through the registry, still raises no `dead_code`.
#[genkit::tool]
async fn private_tool(input: u32) -> Result<u32> {
    Ok(input)
}

async fn use_it(ai: &Genkit) -> Result<String> {
    let direct: String = web_search(SearchInput { query: "q".into() }).await?;
    let action: &std::sync::Arc<genkit::ToolAction> = web_search::action();
    let _ = action.definition();
    let reply = ai.generate().prompt("go").tools([web_search]).await?;
    let _ = ai.generate().tools((web_search, web_search));
    Ok(direct + &reply.text())
}

fn main() {
    let f: fn(SearchInput) -> genkit::futures::future::BoxFuture<'static, Result<String>> =
        *web_search;
    let _ = f;
    let _ = use_it;
}
