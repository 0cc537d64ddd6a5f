//! Parsing the macro arguments: `#[genkit::tool(name = "...", description = "...", crate = "...")]`.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Path};

use crate::check::Ctxt;

/// Which macro is expanding; names it in messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tool,
    Flow,
}

impl Kind {
    /// `#[genkit::tool]` or `#[genkit::flow]`, for messages.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::Tool => "`#[genkit::tool]`",
            Kind::Flow => "`#[genkit::flow]`",
        }
    }

    /// `tool` or `flow`: the action kind in keys and generated names.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Flow => "flow",
        }
    }
}

/// The arguments both macros accept.
#[derive(FromMeta, Default)]
pub(crate) struct Args {
    /// The action name; defaults to the function's name.
    pub(crate) name: Option<LitStr>,
    /// The description; defaults to the doc comment.
    pub(crate) description: Option<LitStr>,
    /// The path of the `genkit` crate; defaults to `::genkit`.
    #[darling(rename = "crate")]
    pub(crate) krate: Option<Path>,
}

/// Every argument name, in the order messages list them.
const KNOWN: &[&str] = &["name", "description", "crate"];

impl Args {
    /// Parses the arguments, reporting every unknown or malformed one into `cx`.
    pub(crate) fn parse(cx: &mut Ctxt, kind: Kind, args: TokenStream) -> Args {
        let items = match NestedMeta::parse_meta_list(args) {
            Ok(items) => items,
            Err(e) => {
                cx.syn_error(e);
                return Args::default();
            }
        };
        let mut known = Vec::with_capacity(items.len());
        for item in items {
            let unknown = match &item {
                NestedMeta::Meta(meta) => {
                    let path = meta.path();
                    let key = path.get_ident().map(ToString::to_string);
                    match key {
                        Some(k) if KNOWN.contains(&k.as_str()) => None,
                        Some(k) => Some((format!("`{k}`"), path.clone())),
                        None => Some((format!("`{}`", quote::quote!(#path)), path.clone())),
                    }
                }
                NestedMeta::Lit(lit) => {
                    cx.error_spanned_by(
                        lit,
                        format!(
                            "{} takes `key = \"value\"` arguments, expected one of {}",
                            kind.attr(),
                            expected()
                        ),
                    );
                    continue;
                }
            };
            match unknown {
                Some((name, path)) => cx.error_spanned_by(
                    path,
                    format!("unknown argument {name}, expected one of {}", expected()),
                ),
                None => {
                    if valid_value(cx, kind, &item, &known).is_some() {
                        known.push(item);
                    }
                }
            }
        }
        let args = match Args::from_list(&known) {
            Ok(args) => args,
            Err(e) => {
                cx.syn_error(e.into());
                return Args::default();
            }
        };
        if let Some(name) = &args.name
            && name.value().trim().is_empty()
        {
            cx.error_spanned_by(name, format!("{}: `name` cannot be empty", kind.attr()));
        }
        args
    }
}

/// Checks a known argument's form: `key = "string"`, given once.
fn valid_value(cx: &mut Ctxt, kind: Kind, item: &NestedMeta, seen: &[NestedMeta]) -> Option<()> {
    let NestedMeta::Meta(meta) = item else {
        return None;
    };
    let key = meta.path().get_ident()?.to_string();
    let duplicate = seen
        .iter()
        .any(|s| matches!(s, NestedMeta::Meta(m) if m.path().is_ident(&key)));
    if duplicate {
        cx.error_spanned_by(meta.path(), format!("duplicate argument `{key}`"));
        return None;
    }
    let example = if key == "crate" { "gk" } else { "..." };
    match meta {
        Meta::NameValue(nv)
            if matches!(
                &nv.value,
                Expr::Lit(ExprLit {
                    lit: Lit::Str(_),
                    ..
                })
            ) =>
        {
            Some(())
        }
        Meta::NameValue(nv) => {
            cx.error_spanned_by(
                &nv.value,
                format!(
                    "{}: `{key}` takes a string: `{key} = \"{example}\"`",
                    kind.attr()
                ),
            );
            None
        }
        _ => {
            cx.error_spanned_by(
                meta,
                format!(
                    "{}: `{key}` takes a string: `{key} = \"{example}\"`",
                    kind.attr()
                ),
            );
            None
        }
    }
}

fn expected() -> String {
    KNOWN
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
