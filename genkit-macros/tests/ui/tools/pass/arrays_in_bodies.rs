//! Arrays of one kind of tool in a `#[genkit::flow]` body compile as
//! they would anywhere else: the same tool twice, names, a `&String` beside a `&str`,
//! paths, and arrays the macros leave alone.
use genkit::prelude::*;

mod tools {
    use genkit::prelude::*;

    /// Read a file.
    #[genkit::tool]
    pub async fn read_file(path: String) -> Result<String> {
        Ok(path)
    }
}

/// Search the web for a query.
#[genkit::tool]
async fn web_search(query: String) -> Result<String> {
    Ok(query)
}

#[genkit::flow]
async fn research(ai: &Genkit, topic: String) -> Result<String> {
    let name = String::from("tool/web_search");
    let a = ai.generate().prompt(topic.clone()).tools([web_search, web_search]);
    let b = ai.generate().prompt(topic.clone()).tools(["tool/web_search", &name]);
    let c = ai.generate().prompt(topic.clone()).tools([tools::read_file, tools::read_file]);
    let d = ai.generate().prompt(topic.clone()).tools([&name, &name]);
    let e = ai.generate().prompt(topic).tools((web_search, tools::read_file));
    let f = ai.generate().tools([web_search; 2]);
    let texts = [a.await?.text(), b.await?.text(), c.await?.text(), d.await?.text()];
    Ok(texts.concat() + &e.await?.text() + &f.await?.text())
}

fn main() {
    let _ = research;
}
