#[genkit::tool]
struct WebSearch;

fn main() {}
