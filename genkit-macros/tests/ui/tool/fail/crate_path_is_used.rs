#[genkit::tool(crate = "not_genkit")]
async fn echo(input: String) -> genkit::Result<String> {
    Ok(input)
}

fn main() {}
