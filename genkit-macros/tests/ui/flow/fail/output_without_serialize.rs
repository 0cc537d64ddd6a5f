use genkit::prelude::*;

#[derive(JsonSchema)]
struct Report {
    text: String,
}

#[genkit::flow]
async fn research(input: String) -> Result<Report> {
    Ok(Report { text: input })
}

fn main() {}
