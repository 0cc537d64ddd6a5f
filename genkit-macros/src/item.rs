//! The annotated function, parsed without its body: the body is re-emitted as tokens
//! (only `.tools([a, b])` is rewritten), so errors inside it stay rustc's own.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, ExprLit, Lit, Meta, Signature, Visibility};

use crate::attr::Kind;

/// `#[attrs] vis sig { body }`.
pub(crate) struct RawFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Group,
}

impl Parse for RawFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body: Group = input.parse()?;
        if body.delimiter() != Delimiter::Brace {
            return Err(syn::Error::new(
                body.span(),
                "expected the function body `{ ... }`",
            ));
        }
        Ok(RawFn {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

impl RawFn {
    /// Parses the item, with a clear message when it is not a function at all.
    pub(crate) fn parse_item(kind: Kind, item: TokenStream) -> syn::Result<RawFn> {
        syn::parse2(item.clone()).map_err(|e| {
            let is_fn = item
                .clone()
                .into_iter()
                .any(|t| matches!(&t, TokenTree::Ident(i) if i == "fn"));
            if is_fn {
                e
            } else {
                syn::Error::new_spanned(item, format!("{} applies to an `async fn`", kind.attr()))
            }
        })
    }

    /// `#[doc]` attributes.
    pub(crate) fn docs(&self) -> impl Iterator<Item = &Attribute> {
        self.attrs.iter().filter(|a| a.path().is_ident("doc"))
    }

    /// `#[cfg]` / `#[cfg_attr]` attributes: they apply to everything generated.
    pub(crate) fn cfgs(&self) -> impl Iterator<Item = &Attribute> {
        self.attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"))
    }

    /// The doc comment as plain text: one leading space stripped per line, trimmed.
    pub(crate) fn doc_text(&self) -> String {
        let mut lines = Vec::new();
        for attr in self.docs() {
            if let Meta::NameValue(nv) = &attr.meta
                && let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = &nv.value
            {
                let value = s.value();
                for line in value.split('\n') {
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    lines.push(
                        line.strip_prefix(' ')
                            .unwrap_or(line)
                            .trim_end()
                            .to_string(),
                    );
                }
            }
        }
        lines.join("\n").trim().to_string()
    }

    /// The user's function renamed to `ident`, private, with its own attributes; its
    /// body as written but for `.tools([a, b])` (see [`crate::tools_array`]).
    pub(crate) fn impl_fn(&self, ident: &syn::Ident, krate: &TokenStream) -> TokenStream {
        let mut sig = self.sig.clone();
        sig.ident = ident.clone();
        let attrs = &self.attrs;
        let body = crate::tools_array::rewrite(&self.body, krate);
        quote! {
            #(#attrs)*
            #sig #body
        }
    }
}

impl ToTokens for RawFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for a in &self.attrs {
            a.to_tokens(tokens);
        }
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.body.to_tokens(tokens);
    }
}
