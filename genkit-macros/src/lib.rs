//! `#[genkit::tool]` and `#[genkit::flow]`, re-exported by the `genkit` crate: depend on
//! `genkit` alone and write `#[genkit::tool]`.
//!
//! Each macro parses its arguments ([`attr`]), validates the signature reporting every
//! problem at once ([`check`]), then expands ([`tool`](mod@tool), [`flow`](mod@flow)).
//! Generated code names the runtime only through `genkit::__private`.

mod attr;
mod check;
mod derive;
mod expand;
mod flow;
mod item;
mod schema;
#[cfg(test)]
mod tests;
mod tool;
mod tools_array;

use proc_macro::TokenStream;
use quote::quote;

/// Turns an `async fn` into a Genkit tool: a value you pass to `.tools([..])`, call
/// directly, and that every `Genkit` instance of the program registers as
/// `/tool/{name}`.
///
/// # Example
///
/// ```ignore
/// use genkit::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct SearchInput {
///     query: String,
/// }
///
/// /// Search the web for a query.
/// #[genkit::tool]
/// async fn web_search(input: SearchInput) -> Result<String> {
///     Ok(format!("Results for: {}", input.query))
/// }
///
/// # async fn run(ai: Genkit) -> Result<()> {
/// // Give it to the model…
/// let reply = ai.generate().prompt("Find Rust news").tools([web_search]).await?;
/// // …or call it yourself (traced as the tool's span).
/// let text = web_search(SearchInput { query: "rust".into() }).await?;
/// # Ok(()) }
/// ```
///
/// # What it expands to
///
/// Roughly (the real code goes through `genkit::__private` and `const _: () = { .. }`):
///
/// ```ignore
/// // Your function, renamed and private, with its attributes.
/// async fn __genkit_tool_web_search_impl(input: SearchInput) -> Result<String> { .. }
///
/// /// Search the web for a query.
/// #[derive(Clone, Copy)]
/// struct web_search; // a type *and* a value
///
/// impl web_search {
///     /// The `/tool/web_search` action; schemas are derived once, on first use.
///     pub fn action() -> &'static Arc<ToolAction> {
///         static ACTION: OnceLock<Arc<ToolAction>> = OnceLock::new();
///         ACTION.get_or_init(|| Arc::new(ToolAction::new(
///             "web_search",
///             "Search the web for a query.",
///             |input: SearchInput, _ctx| async move { __genkit_tool_web_search_impl(input).await },
///         )))
///     }
/// }
///
/// impl IntoTool for web_search { /* ToolSpec::Action(Self::action().clone()) */ }
///
/// // `web_search(input)` calls this through `Deref`, in the tool's trace span.
/// impl Deref for web_search {
///     type Target = fn(SearchInput) -> BoxFuture<'static, Result<String, genkit::Error>>;
///     ..
/// }
///
/// inventory::submit! { Registration::Tool(|| web_search::action().clone()) }
/// ```
///
/// # Rules
///
/// - **It must be an `async fn` taking one input**, optionally followed by
///   `ctx: ToolContext` (or `&ToolContext`) to interrupt or read the request context:
///   `async fn name(input: I[, ctx: ToolContext]) -> Result<O, E>`. A direct call then
///   takes `(input, ctx)`.
/// - **The input must be `Deserialize + JsonSchema`** (an owned type; the model sends it
///   as JSON) **and the output `Serialize + JsonSchema`**; put several fields in one
///   input struct.
/// - **It must return `Result<O, E>` with `E: Into<genkit::Error>`** (`genkit::Result<O>`
///   is simplest).
/// - **No generics, no `self`, no `impl Trait` parameters**: the schemas are derived from
///   concrete types.
/// - **The function's name becomes a type**: in its module, `web_search` names the tool,
///   not a function. Its visibility is the function's.
///
/// # Arguments
///
/// - `name = "..."`: the tool's name as the model sees it (default: the function's name).
/// - `description = "..."`: what the model reads to decide when to call it (default: the
///   doc comment).
/// - `crate = "..."`: the path of the `genkit` crate when it is renamed, e.g.
///   `crate = "gk"` after `extern crate genkit as gk;` (default: `::genkit`).
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(args.into(), item.into()).into()
}

/// Derives `Serialize`, `Deserialize` and `JsonSchema` for a tool, flow or output type,
/// through the `genkit` crate: the program needs no direct `serde` or `schemars`
/// dependency.
///
/// ```ignore
/// /// What to search for.
/// #[genkit::schema]
/// struct SearchInput {
///     /// The query text.
///     query: String,
/// }
/// ```
///
/// is the same as
///
/// ```ignore
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// struct SearchInput { query: String }
/// ```
///
/// with serde's and schemars' `crate = ".."` attributes pointing into `genkit`.
/// Field attributes (`#[serde(rename = "..")]`, `#[schemars(..)]`, doc comments) work
/// as usual.
///
/// Arguments: `crate = "..."`, the path of the `genkit` crate when it is renamed.
#[proc_macro_attribute]
pub fn schema(args: TokenStream, item: TokenStream) -> TokenStream {
    schema::expand(args.into(), item.into()).into()
}

/// `#[derive(Serialize)]` through `genkit` (and `genkit::prelude`): serde's derive,
/// with its generated code naming serde through `genkit`, so the program needs no
/// `serde` dependency. `#[serde(..)]` attributes work as usual; `#[genkit(crate = "..")]`
/// names a renamed `genkit`.
#[proc_macro_derive(Serialize, attributes(serde, genkit))]
pub fn derive_serialize(item: TokenStream) -> TokenStream {
    derive::expand(derive::Which::Serialize, item.into()).into()
}

/// `#[derive(Deserialize)]` through `genkit` (and `genkit::prelude`): serde's derive,
/// with its generated code naming serde through `genkit`. `#[serde(..)]` attributes work
/// as usual. Types with lifetime parameters need serde's own derive.
#[proc_macro_derive(Deserialize, attributes(serde, genkit))]
pub fn derive_deserialize(item: TokenStream) -> TokenStream {
    derive::expand(derive::Which::Deserialize, item.into()).into()
}

/// `#[derive(JsonSchema)]` through `genkit` (and `genkit::prelude`): schemars' derive,
/// with its generated code naming schemars through `genkit`. Doc comments become
/// descriptions; `#[schemars(..)]` and `#[serde(..)]` attributes work as usual.
#[proc_macro_derive(JsonSchema, attributes(schemars, serde, validate, garde, genkit))]
pub fn derive_json_schema(item: TokenStream) -> TokenStream {
    derive::expand(derive::Which::JsonSchema, item.into()).into()
}

/// Turns an `async fn` into a Genkit flow: registered as `/flow/{name}` on every
/// `Genkit` instance of the program (so the Dev UI and HTTP layer can run it by key with
/// JSON input), and callable directly, traced as a flow.
///
/// # Example
///
/// ```ignore
/// use genkit::prelude::*;
///
/// /// Research a topic with the web.
/// #[genkit::flow]
/// async fn research_flow(ai: &Genkit, input: SearchInput) -> Result<String> {
///     let reply = ai
///         .generate()
///         .prompt(format!("Research: {}", input.query))
///         .tools([web_search])
///         .await?;
///     Ok(reply.text())
/// }
///
/// # async fn run(ai: Genkit) -> Result<()> {
/// let text = research_flow(&ai, SearchInput { query: "rust".into() }).await?;
/// let json = ai
///     .run_action("/flow/research_flow", json!({"query": "rust"}), Default::default())
///     .await?;
/// # Ok(()) }
/// ```
///
/// # What it expands to
///
/// The same pattern as [`macro@tool`]:
///
/// ```ignore
/// async fn __genkit_flow_research_flow_impl(ai: &Genkit, input: SearchInput) -> Result<String> { .. }
///
/// /// Research a topic with the web.
/// #[derive(Clone, Copy)]
/// struct research_flow;
///
/// impl research_flow {
///     /// The `/flow/research_flow` action; schemas are derived once, on first use.
///     pub fn action() -> &'static Arc<FlowAction> {
///         // FlowAction::new("research_flow", |ai: Genkit, input: SearchInput, _cx| async move {
///         //     __genkit_flow_research_flow_impl(&ai, input).await
///         // }).with_description("Research a topic with the web.")
///     }
/// }
///
/// // `research_flow(&ai, input)` runs it in the flow's trace span.
/// impl Deref for research_flow {
///     type Target = for<'a> fn(&'a Genkit, SearchInput) -> BoxFuture<'a, Result<String, genkit::Error>>;
///     ..
/// }
///
/// inventory::submit! { Registration::Flow(|| research_flow::action().clone()) }
/// ```
///
/// # Rules
///
/// - **It must be an `async fn` in one of three forms**: `(input: I)`,
///   `(ai: &Genkit, input: I)` or `(ai: &Genkit, input: I, ctx: FlowContext)` (or
///   `&FlowContext`, to stream chunks with `ctx.send_chunk(..)`). A direct call takes
///   `(input)` or `(&ai, input)`; its context is a default, non-streaming one.
/// - **The input must be `Deserialize + JsonSchema`, the output `Serialize + JsonSchema`.**
/// - **It must return `Result<O, E>` with `E: Into<genkit::Error>`.**
/// - **No generics, no `self`, no `impl Trait` parameters.**
/// - **The function's name becomes a type**, with the function's visibility.
///
/// # Arguments
///
/// - `name = "..."`: the flow's name, its key is `/flow/{name}` (default: the function's
///   name).
/// - `description = "..."`: the flow's description (default: the doc comment).
/// - `crate = "..."`: the path of the `genkit` crate when it is renamed (default:
///   `::genkit`).
#[proc_macro_attribute]
pub fn flow(args: TokenStream, item: TokenStream) -> TokenStream {
    flow::expand(args.into(), item.into()).into()
}

/// The errors, then the user's item unchanged, so the rest of the program (and
/// rust-analyzer) still sees the function.
fn with_item(error: syn::Error, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut out = item;
    out.extend(error.into_compile_error());
    out
}

/// The `genkit` crate's path: `crate = ".."` or `::genkit`. Generated code imports
/// `{crate}::__private` once, as `__genkit_private`, and names the runtime only
/// through it.
fn crate_path(args: &attr::Args) -> proc_macro2::TokenStream {
    match &args.krate {
        Some(path) => quote!(#path),
        None => quote!(::genkit),
    }
}

/// The `O` of the return type: as written when it reads `Result<O, ..>`, else through
/// `ActionResult::Ok` (a `Result` alias), spanned on the return type.
fn ok_type_tokens(p: &proc_macro2::TokenStream, ret: &syn::Type) -> proc_macro2::TokenStream {
    match check::ok_type(ret) {
        Some(ok) => quote!(#ok),
        None => {
            let span = syn::spanned::Spanned::span(ret);
            quote::quote_spanned!(span=> <#ret as #p::ActionResult>::Ok)
        }
    }
}
