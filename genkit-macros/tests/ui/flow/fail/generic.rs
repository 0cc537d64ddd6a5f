use genkit::prelude::*;

#[genkit::flow]
async fn research<T>(input: String) -> Result<String>
where
    T: Send,
{
    Ok(input)
}

fn main() {}
