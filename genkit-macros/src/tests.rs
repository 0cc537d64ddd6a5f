//! Expansion tests without the proc-macro boundary (proc-macro2's fallback).

use proc_macro2::TokenStream;
use quote::quote;

fn expand_tool(args: TokenStream, item: TokenStream) -> String {
    crate::tool::expand(args, item).to_string()
}

fn expand_flow(args: TokenStream, item: TokenStream) -> String {
    crate::flow::expand(args, item).to_string()
}

const ITEM: &str =
    "/// Search.\nasync fn web_search(input: SearchInput) -> Result<String> { Ok(input.query) }";

#[test]
fn the_crate_is_resolved_once_and_std_serde_are_never_named() {
    let item: TokenStream = ITEM.parse().unwrap();
    let out = expand_tool(TokenStream::new(), item.clone());
    assert_eq!(out.matches(":: genkit").count(), 1, "{out}");
    assert!(
        out.contains("use :: genkit :: __private as __genkit_private ;"),
        "{out}"
    );
    // Every other path starts at `__genkit_private`.
    let rest = out.replace("__genkit_private ::", "");
    for forbidden in [
        ":: std",
        ":: core",
        ":: serde",
        ":: schemars",
        ":: inventory",
        ":: tracing",
    ] {
        assert!(!rest.contains(forbidden), "{forbidden} in {out}");
    }

    let out = expand_tool(quote!(crate = "gk"), item);
    assert!(
        out.contains("use gk :: __private as __genkit_private ;"),
        "{out}"
    );
    assert!(!out.contains(":: genkit"), "{out}");

    let flow: TokenStream =
        "async fn f(ai: &Genkit, input: String) -> Result<String> { Ok(input) }"
            .parse()
            .unwrap();
    let out = expand_flow(quote!(crate = "my::gk"), flow);
    assert!(
        out.contains("use my :: gk :: __private as __genkit_private ;"),
        "{out}"
    );
    assert!(
        !out.contains(":: genkit") && !out.contains(":: std"),
        "{out}"
    );
}

#[test]
fn generated_idents_are_prefixed() {
    let out = expand_tool(TokenStream::new(), ITEM.parse().unwrap());
    assert!(
        out.contains("async fn __genkit_tool_web_search_impl"),
        "{out}"
    );
    assert!(out.contains("struct web_search ;"), "{out}");
    assert!(out.contains("const _ : () ="), "{out}");
    let out = expand_flow(
        TokenStream::new(),
        "async fn r#type(input: u8) -> Result<u8> { Ok(input) }"
            .parse()
            .unwrap(),
    );
    assert!(out.contains("__genkit_flow_type_impl"), "{out}");
    assert!(out.contains("\"type\""), "the raw identifier's name: {out}");
}

#[test]
fn on_error_every_error_and_the_item_are_emitted() {
    let item: TokenStream = "fn web_search<T>(a: String, b: String) -> Result<String> { Ok(a) }"
        .parse()
        .unwrap();
    let out = expand_tool(quote!(descripton = "x"), item);
    assert!(
        out.starts_with("fn web_search < T >"),
        "the item first: {out}"
    );
    assert_eq!(out.matches("compile_error").count(), 4, "{out}");
    assert!(
        out.contains(
            "unknown argument `descripton`, expected one of `name`, `description`, `crate`"
        )
    );
    assert!(out.contains("`#[genkit::tool]` requires an `async fn`"));
    assert!(out.contains("`#[genkit::tool]` cannot be generic"));
    assert!(out.contains("`#[genkit::tool]` takes one input"));
}

#[test]
fn name_and_description() {
    let item: TokenStream = ITEM.parse().unwrap();
    let out = expand_tool(
        quote!(name = "search", description = "Finds things."),
        item.clone(),
    );
    assert!(out.contains("\"search\" , \"Finds things.\""), "{out}");
    let out = expand_tool(TokenStream::new(), item);
    assert!(out.contains("\"web_search\" , \"Search.\""), "{out}");
}

#[test]
fn doc_text_keeps_paragraphs() {
    let f: crate::item::RawFn = syn::parse_str(
        "/// First line.\n///\n///   Indented.\n#[doc = \" Last.\"]\nasync fn f(i: u8) -> Result<u8> { Ok(i) }",
    )
    .unwrap();
    assert_eq!(f.doc_text(), "First line.\n\n  Indented.\nLast.");
}

#[test]
fn ok_type_reads_any_result_path() {
    let ok = |s: &str| {
        let ty: syn::Type = syn::parse_str(s).unwrap();
        crate::check::ok_type(&ty).map(|t| quote!(#t).to_string())
    };
    assert_eq!(ok("Result<String>").as_deref(), Some("String"));
    assert_eq!(
        ok("genkit::Result<Vec<u8>, E>").as_deref(),
        Some("Vec < u8 >")
    );
    assert_eq!(ok("Res<String>"), None);
    assert_eq!(ok("String"), None);
}
