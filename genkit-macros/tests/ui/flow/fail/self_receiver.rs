use genkit::prelude::*;

struct Researcher;

impl Researcher {
    #[genkit::flow]
    async fn research(self, input: String) -> Result<String> {
        Ok(input)
    }
}

fn main() {}
