use genkit::prelude::*;

#[genkit::tool(nme = "x", descripton = "y")]
unsafe fn web_search<T>(a: String, b: String) {}

fn main() {}
