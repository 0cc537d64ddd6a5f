use genkit::prelude::*;

#[genkit::flow]
async fn nothing() -> Result<String> {
    Ok(String::new())
}

#[genkit::flow]
async fn only_genkit(ai: &Genkit) -> Result<String> {
    let _ = ai;
    Ok(String::new())
}

fn main() {}
