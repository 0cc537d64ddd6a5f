//! `#[derive(Serialize, Deserialize, JsonSchema)]` as exported by `genkit` and its
//! prelude: serde's and schemars' own derives, run on a hidden copy of the type whose
//! attributes name the crates through `genkit`, so the user's crate needs neither
//! `serde` nor `schemars` as a dependency.
//!
//! A derive cannot add attributes to the item it is on, so each derive declares a
//! private copy (a "shadow") inside `const _: () = { .. }` with serde's `remote = ".."`
//! (or, for the schema, a `rename`) and `crate = ".."` added, and implements the trait
//! for the user's type by delegating to the shadow. The generated code is serde's and
//! schemars' own: same behaviour, same attributes, no runtime cost.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::{Attribute, Data, DeriveInput, LitStr, Path};

/// Which trait is derived.
#[derive(Clone, Copy)]
pub(crate) enum Which {
    Serialize,
    Deserialize,
    JsonSchema,
}

impl Which {
    /// The helper attributes the shadow keeps (the others belong to other derives).
    fn keeps(self, attr: &Attribute) -> bool {
        let p = attr.path();
        p.is_ident("doc")
            || p.is_ident("serde")
            || (matches!(self, Which::JsonSchema)
                && (p.is_ident("schemars") || p.is_ident("validate") || p.is_ident("garde")))
    }
}

pub(crate) fn expand(which: Which, input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input) {
        Ok(input) => expand_input(which, input).unwrap_or_else(syn::Error::into_compile_error),
        Err(e) => e.into_compile_error(),
    }
}

/// `#[genkit(crate = "path")]` on the type, else `::genkit`.
fn crate_path(attrs: &[Attribute]) -> syn::Result<Path> {
    let mut krate = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("genkit")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `crate = \"...\"`"))
            }
        })?;
    }
    Ok(krate.unwrap_or_else(|| syn::parse_quote!(::genkit)))
}

/// Whether a container attribute of `helper` sets `rename` (not `rename_all`).
fn has_rename(attrs: &[Attribute], helpers: &[&str]) -> bool {
    attrs
        .iter()
        .filter(|a| helpers.iter().any(|h| a.path().is_ident(h)))
        .filter_map(|a| a.meta.require_list().ok())
        .any(|list| {
            list.tokens
                .clone()
                .into_iter()
                .any(|t| matches!(t, TokenTree::Ident(ref i) if i == "rename"))
        })
}

/// The user's type with only the attributes `which`'s derive understands, renamed.
fn shadow_of(which: Which, input: &DeriveInput, ident: &syn::Ident) -> DeriveInput {
    let keep = |attrs: &mut Vec<Attribute>| attrs.retain(|a| which.keeps(a));
    let mut shadow = input.clone();
    shadow.ident = ident.clone();
    shadow.vis = syn::Visibility::Inherited;
    keep(&mut shadow.attrs);
    match &mut shadow.data {
        Data::Struct(s) => s.fields.iter_mut().for_each(|f| keep(&mut f.attrs)),
        Data::Enum(e) => e.variants.iter_mut().for_each(|v| {
            keep(&mut v.attrs);
            v.fields.iter_mut().for_each(|f| keep(&mut f.attrs));
        }),
        Data::Union(_) => {}
    }
    shadow
}

fn expand_input(which: Which, input: DeriveInput) -> syn::Result<TokenStream> {
    if let Data::Union(u) = &input.data {
        return Err(syn::Error::new_spanned(
            u.union_token,
            "`genkit`'s derives apply to a `struct` or an `enum`",
        ));
    }
    if matches!(which, Which::Deserialize)
        && let Some(lt) = input.generics.lifetimes().next()
    {
        return Err(syn::Error::new_spanned(
            lt,
            "`#[derive(genkit::Deserialize)]` does not support lifetime parameters (a tool or \
             flow input is owned); use owned fields such as `String`, or add `serde` to your \
             dependencies and write `#[derive(serde::Deserialize)]`",
        ));
    }
    let krate = crate_path(&input.attrs)?;
    let krate_str = quote!(#krate).to_string().replace(' ', "");
    let name = &input.ident;
    let name_str = LitStr::new(&name.to_string(), Span::call_site());
    let shadow_ident = format_ident!("__GenkitShadow{}", name);
    let mut shadow = shadow_of(which, &input, &shadow_ident);
    let (_, ty_generics, _) = input.generics.split_for_impl();

    let serde = quote!(#krate::__private::serde);
    let schemars = quote!(#krate::__private::schemars);
    let mut generics = input.generics.clone();
    let bound: TokenStream = match which {
        Which::Serialize => quote!(#serde::Serialize),
        Which::Deserialize => quote!(#serde::Deserialize<'de>),
        Which::JsonSchema => quote!(#schemars::JsonSchema),
    };
    let params: Vec<syn::Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    {
        let wc = generics.make_where_clause();
        for p in &params {
            wc.predicates.push(syn::parse_quote!(#p: #bound));
        }
    }

    let (body, derive_path) = match which {
        Which::Serialize | Which::Deserialize => {
            let serde_crate =
                LitStr::new(&format!("{krate_str}::__private::serde"), Span::call_site());
            shadow
                .attrs
                .push(syn::parse_quote!(#[serde(crate = #serde_crate, remote = #name_str)]));
            if !has_rename(&input.attrs, &["serde"]) {
                shadow
                    .attrs
                    .push(syn::parse_quote!(#[serde(rename = #name_str)]));
            }
            let derive = match which {
                Which::Serialize => quote!(#serde::Serialize),
                _ => quote!(#serde::Deserialize),
            };
            let body = if matches!(which, Which::Serialize) {
                let (impl_generics, _, where_clause) = generics.split_for_impl();
                quote! {
                    #[automatically_derived]
                    impl #impl_generics #serde::Serialize for #name #ty_generics #where_clause {
                        fn serialize<__S: #serde::Serializer>(
                            &self,
                            serializer: __S,
                        ) -> ::core::result::Result<__S::Ok, __S::Error> {
                            <#shadow_ident #ty_generics>::serialize(self, serializer)
                        }
                    }
                }
            } else {
                let mut de_generics = generics.clone();
                de_generics.params.insert(0, syn::parse_quote!('de));
                let (impl_generics, _, where_clause) = de_generics.split_for_impl();
                quote! {
                    #[automatically_derived]
                    impl #impl_generics #serde::Deserialize<'de> for #name #ty_generics #where_clause {
                        fn deserialize<__D: #serde::Deserializer<'de>>(
                            deserializer: __D,
                        ) -> ::core::result::Result<Self, __D::Error> {
                            <#shadow_ident #ty_generics>::deserialize(deserializer)
                        }
                    }
                }
            };
            (body, derive)
        }
        Which::JsonSchema => {
            let schemars_crate = LitStr::new(
                &format!("{krate_str}::__private::schemars"),
                Span::call_site(),
            );
            shadow
                .attrs
                .push(syn::parse_quote!(#[schemars(crate = #schemars_crate)]));
            if !has_rename(&input.attrs, &["serde", "schemars"]) {
                shadow
                    .attrs
                    .push(syn::parse_quote!(#[schemars(rename = #name_str)]));
            }
            let (impl_generics, _, where_clause) = generics.split_for_impl();
            let shadow_ty = quote!(<#shadow_ident #ty_generics as #schemars::JsonSchema>);
            let body = quote! {
                #[automatically_derived]
                impl #impl_generics #schemars::JsonSchema for #name #ty_generics #where_clause {
                    fn schema_name() -> ::std::borrow::Cow<'static, str> {
                        #shadow_ty::schema_name()
                    }
                    fn schema_id() -> ::std::borrow::Cow<'static, str> {
                        #shadow_ty::schema_id()
                    }
                    fn json_schema(generator: &mut #schemars::SchemaGenerator) -> #schemars::Schema {
                        #shadow_ty::json_schema(generator)
                    }
                    fn inline_schema() -> bool {
                        #shadow_ty::inline_schema()
                    }
                }
            };
            (body, quote!(#schemars::JsonSchema))
        }
    };
    Ok(quote! {
        const _: () = {
            #[derive(#derive_path)]
            #[allow(dead_code, non_camel_case_types, clippy::all)]
            #shadow
            #body
        };
    })
}
