//! `crate = "..."` names a renamed `genkit`.
#![deny(warnings)]

extern crate genkit as gk;

/// Echoes.
#[gk::tool(crate = "gk")]
async fn echo(input: String) -> gk::Result<String> {
    Ok(input)
}

mod nested {
    /// Echoes too, naming the crate by an absolute path.
    #[gk::tool(crate = "::gk", name = "echo_two")]
    pub(crate) async fn echo(input: String) -> gk::Result<String> {
        Ok(input)
    }
}

fn main() {
    let _ = echo(String::new());
    let _ = nested::echo(String::new());
    let _ = gk::IntoTool::into_tool(echo);
}
