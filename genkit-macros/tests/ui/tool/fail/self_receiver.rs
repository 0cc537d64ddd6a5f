use genkit::prelude::*;

struct Searcher;

impl Searcher {
    #[genkit::tool]
    async fn search(&self, input: String) -> Result<String> {
        Ok(input)
    }
}

fn main() {}
