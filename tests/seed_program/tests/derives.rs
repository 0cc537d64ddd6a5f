//! `use genkit::prelude::*;` then `#[derive(Deserialize, Serialize, JsonSchema)]`, with
//! serde's and schemars' attributes, on every shape of type, in a crate whose only
//! dependencies are `genkit` and `tokio` (this package's; it has no dev-dependencies):
//! the values round-trip and the schemas are schemars' own.
#![deny(warnings)]

use genkit::prelude::*;

/// What to search for.
#[derive(Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchInput {
    /// The query text.
    pub query_text: String,
    /// How many results.
    #[serde(default)]
    max_results: Option<u32>,
    #[serde(skip)]
    cache: Vec<u8>,
}

/// A tree (recursive).
#[derive(Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
struct Node {
    name: String,
    children: Vec<Node>,
}

/// An enum, internally tagged.
#[derive(Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Action {
    /// Search.
    Search {
        query: String,
    },
    Stop,
}

/// Generic, tuple and unit shapes.
#[derive(Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
struct Page<T> {
    items: Vec<T>,
}
#[derive(Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
struct Meters(f64);
#[derive(Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
struct Nothing;

/// Paths through `genkit` work the same.
#[derive(genkit::Deserialize, genkit::Serialize, genkit::JsonSchema)]
#[serde(rename = "Renamed")]
struct Qualified {
    x: i32,
}

/// The traits have their usual names too.
fn roundtrip<T: Serialize + for<'de> Deserialize<'de> + JsonSchema>(v: &T) -> T {
    let json = serde_json::to_value(v).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
}

use genkit::serde_json;

/// The same types with schemars' own derive, named through `genkit::schemars`.
mod reference {
    #![allow(dead_code)]
    /// What to search for.
    #[derive(genkit::schemars::JsonSchema)]
    #[schemars(crate = "genkit::schemars")]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct SearchInput {
        /// The query text.
        pub query_text: String,
        /// How many results.
        #[serde(default)]
        max_results: Option<u32>,
        #[serde(skip)]
        cache: Vec<u8>,
    }

    /// A tree (recursive).
    #[derive(genkit::schemars::JsonSchema)]
    #[schemars(crate = "genkit::schemars")]
    pub struct Node {
        name: String,
        children: Vec<Node>,
    }
}

#[genkit::tool]
async fn search(input: SearchInput) -> Result<Page<Action>> {
    Ok(Page {
        items: vec![Action::Search {
            query: input.query_text,
        }],
    })
}

#[test]
fn prelude_derives_work_with_genkit_alone() {
    let input: SearchInput = serde_json::from_value(json!({"queryText": "rust"})).unwrap();
    assert_eq!(input.query_text, "rust");
    assert_eq!(input.max_results, None);
    assert!(input.cache.is_empty());
    let err = serde_json::from_value::<SearchInput>(json!({"queryText": "x", "extra": 1}))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("unknown field `extra`"), "{err}");
    let err = serde_json::from_value::<SearchInput>(json!(5))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("invalid type: integer `5`, expected struct SearchInput")
    );

    let tree = Node {
        name: "a".into(),
        children: vec![Node {
            name: "b".into(),
            children: vec![],
        }],
    };
    assert_eq!(roundtrip(&tree), tree);
    let stop = Action::Stop;
    assert_eq!(
        serde_json::to_value(&stop).unwrap(),
        json!({"kind": "stop"})
    );
    assert_eq!(
        roundtrip(&Action::Search { query: "q".into() }),
        Action::Search { query: "q".into() }
    );
    assert_eq!(
        roundtrip(&Page { items: vec![1u8] }),
        Page { items: vec![1u8] }
    );
    assert_eq!(roundtrip(&Meters(2.5)), Meters(2.5));
    assert_eq!(roundtrip(&Nothing), Nothing);
    assert_eq!(
        serde_json::to_value(Qualified { x: 1 }).unwrap(),
        json!({"x": 1})
    );

    // The schemas are what schemars' own derive gives (names, descriptions, renames).
    let schema = serde_json::to_value(genkit::schemars::schema_for!(SearchInput)).unwrap();
    assert_eq!(schema["title"], "SearchInput");
    assert_eq!(schema["description"], "What to search for.");
    assert_eq!(
        schema["properties"]["queryText"]["description"],
        "The query text."
    );
    assert_eq!(schema["required"], json!(["queryText"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    let schema = serde_json::to_value(genkit::schemars::schema_for!(Node)).unwrap();
    assert_eq!(
        schema,
        serde_json::to_value(genkit::schemars::schema_for!(reference::Node)).unwrap()
    );
    let schema = serde_json::to_value(genkit::schemars::schema_for!(SearchInput)).unwrap();
    let expected = genkit::schemars::schema_for!(reference::SearchInput);
    assert_eq!(schema, serde_json::to_value(expected).unwrap());
    let schema = serde_json::to_value(genkit::schemars::schema_for!(Action)).unwrap();
    let text = schema.to_string();
    assert!(
        text.contains(r#""const":"search""#) && text.contains(r#""const":"stop""#),
        "{text}"
    );
    let schema = serde_json::to_value(genkit::schemars::schema_for!(Qualified)).unwrap();
    assert_eq!(schema["title"], "Renamed");
    let _ = search;
}
