//! `#[genkit::schema]`: serde and schemars derives routed through the `genkit` crate.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Item, LitStr, Path};

/// Parses `crate = "path"` (the only argument).
fn parse_args(args: TokenStream) -> syn::Result<Path> {
    let mut krate: Option<Path> = None;
    if !args.is_empty() {
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta.error(format!(
                    "unknown argument `{}`, expected `crate`",
                    meta.path
                        .get_ident()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "?".into())
                )))
            }
        });
        syn::parse::Parser::parse2(parser, args)?;
    }
    Ok(krate.unwrap_or_else(|| syn::parse_quote!(::genkit)))
}

/// Adds `Serialize`, `Deserialize` and `JsonSchema` derives whose generated code names
/// serde and schemars through `{crate}::__private`, so the user's crate needs no direct
/// dependency on either.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let krate = match parse_args(args) {
        Ok(k) => k,
        Err(e) => {
            let err = e.into_compile_error();
            return quote!(#err #item);
        }
    };
    let parsed: Item = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => {
            let err = e.into_compile_error();
            return quote!(#err #item);
        }
    };
    if !matches!(parsed, Item::Struct(_) | Item::Enum(_)) {
        let err = syn::Error::new_spanned(
            &item,
            "`#[genkit::schema]` applies to a `struct` or an `enum`",
        )
        .into_compile_error();
        return quote!(#err #item);
    }
    let path = quote!(#krate).to_string().replace(' ', "");
    let serde_path = LitStr::new(
        &format!("{path}::__private::serde"),
        proc_macro2::Span::call_site(),
    );
    let schemars_path = LitStr::new(
        &format!("{path}::__private::schemars"),
        proc_macro2::Span::call_site(),
    );
    quote! {
        #[derive(
            #krate::__private::serde::Serialize,
            #krate::__private::serde::Deserialize,
            #krate::__private::schemars::JsonSchema
        )]
        #[serde(crate = #serde_path)]
        #[schemars(crate = #schemars_path)]
        #parsed
    }
}
