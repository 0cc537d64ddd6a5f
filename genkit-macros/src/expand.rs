//! What `#[genkit::tool]` and `#[genkit::flow]` share: parse → check → generate, and
//! the pieces of the expansion that do not depend on the kind of action.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::{Attribute, Ident, Signature, Visibility};

use crate::attr::{Args, Kind};
use crate::check::Ctxt;
use crate::item::RawFn;

/// Expands one macro: every argument and signature error at once, or the generated
/// code. On error, the errors and the user's item unchanged.
pub(crate) fn expand<S>(
    kind: Kind,
    args: TokenStream,
    item: TokenStream,
    check: fn(&mut Ctxt, &Signature) -> Option<S>,
    generate: fn(&Parts<'_>, &S) -> TokenStream,
) -> TokenStream {
    let mut cx = Ctxt::default();
    let parsed_args = Args::parse(&mut cx, kind, args);
    let parsed = match RawFn::parse_item(kind, item.clone()) {
        Ok(f) => check(&mut cx, &f.sig).map(|sig| (f, sig)),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    };
    let checked = cx.check().and_then(|()| {
        // A `None` signature always comes with an error: never reached.
        parsed.ok_or_else(|| {
            syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("{}: invalid signature", kind.attr()),
            )
        })
    });
    match checked {
        Ok((f, sig)) => generate(&Parts::new(kind, &parsed_args, &f), &sig),
        Err(e) => crate::with_item(e, item),
    }
}

/// The parts of an expansion both macros build the same way.
pub(crate) struct Parts<'a> {
    kind: Kind,
    /// `use <krate>::__private as __genkit_private;` comes first in generated code.
    pub(crate) krate: TokenStream,
    /// `__genkit_private`: the only path generated code names the runtime by.
    pub(crate) p: TokenStream,
    /// The user's function name: the unit struct and value that stand for the action.
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    /// The user's function, renamed to `impl_ident`.
    pub(crate) impl_ident: Ident,
    pub(crate) impl_fn: TokenStream,
    /// The action's name and description (arguments, else the fn name and doc comment).
    pub(crate) name: String,
    pub(crate) description: String,
    /// The user's `#[cfg]`s and doc comment.
    pub(crate) cfgs: Vec<&'a Attribute>,
    pub(crate) docs: Vec<&'a Attribute>,
    /// The doc of the generated `action()` fn.
    pub(crate) action_doc: String,
}

impl<'a> Parts<'a> {
    fn new(kind: Kind, args: &Args, f: &'a RawFn) -> Parts<'a> {
        let ident = &f.sig.ident;
        let impl_ident = format_ident!("__genkit_{}_{}_impl", kind.word(), ident.unraw());
        let name = args
            .name
            .as_ref()
            .map_or_else(|| ident.unraw().to_string(), |n| n.value());
        let action_doc = format!(
            " The `/{}/{name}` action (schemas derived once, on first use).",
            kind.word()
        );
        let krate = crate::crate_path(args);
        Parts {
            kind,
            impl_fn: f.impl_fn(&impl_ident, &krate),
            krate,
            p: quote!(__genkit_private),
            ident,
            vis: &f.vis,
            impl_ident,
            description: args
                .description
                .as_ref()
                .map_or_else(|| f.doc_text(), |d| d.value()),
            name,
            cfgs: f.cfgs().collect(),
            docs: f.docs().collect(),
            action_doc,
        }
    }

    /// The `O` of the user's return type.
    pub(crate) fn ok_type(&self, ret: &syn::Type) -> TokenStream {
        crate::ok_type_tokens(&self.p, ret)
    }

    /// Statements of a direct call: binds `__genkit_slot` (the input, taken once) and
    /// `__genkit_trace` (the input for the trace, recorded only if it is `Serialize`,
    /// by autoref dispatch).
    pub(crate) fn direct_call_input(&self) -> TokenStream {
        let p = &self.p;
        quote! {
            let __genkit_slot = #p::InputSlot::new(__genkit_input);
            let __genkit_ms = #p::MaybeSerialize(&__genkit_slot);
            let __genkit_ms = &__genkit_ms;
            let __genkit_trace = {
                use #p::{ViaNothing as _, ViaSerialize as _};
                __genkit_ms.__genkit_trace_input()
            };
        }
    }

    /// The whole expansion: the user's function renamed, the unit struct that stands
    /// for the action, and (in `const _`) its lazily built action, its direct call
    /// (`Deref` to a fn pointer), `into` and its registration.
    pub(crate) fn item(&self, action: Action) -> TokenStream {
        let Parts {
            kind,
            krate,
            p,
            ident,
            vis,
            impl_fn,
            cfgs,
            docs,
            action_doc,
            ..
        } = self;
        let Action {
            call_ty,
            build,
            call,
            into,
        } = action;
        let (action_ty, registration) = match kind {
            Kind::Tool => (quote!(ToolAction), quote!(Tool)),
            Kind::Flow => (quote!(FlowAction), quote!(Flow)),
        };
        quote! {
            #impl_fn

            #(#cfgs)*
            #(#docs)*
            #[allow(non_camel_case_types, dead_code)]
            #[derive(Clone, Copy)]
            #vis struct #ident;

            #(#cfgs)*
            const _: () = {
                use #krate::__private as __genkit_private;

                type __GenkitCall = #call_ty;

                struct __GenkitFns {
                    build: fn() -> #p::Arc<#p::#action_ty>,
                    call: __GenkitCall,
                }

                // Both closures are in one body, so a type error is reported once.
                static __GENKIT_FNS: __GenkitFns = __GenkitFns {
                    build: #build,
                    call: #call,
                };

                impl #ident {
                    #[doc = #action_doc]
                    pub fn action() -> &'static #p::Arc<#p::#action_ty> {
                        static __GENKIT_ACTION: #p::OnceLock<#p::Arc<#p::#action_ty>> =
                            #p::OnceLock::new();
                        __GENKIT_ACTION.get_or_init(__GENKIT_FNS.build)
                    }
                }

                #into

                impl #p::Deref for #ident {
                    type Target = __GenkitCall;
                    fn deref(&self) -> &__GenkitCall {
                        &__GENKIT_FNS.call
                    }
                }

                fn __genkit_register() -> #p::Arc<#p::#action_ty> {
                    #p::Arc::clone(#ident::action())
                }
                #p::inventory::submit! {
                    #p::Registration::#registration(__genkit_register)
                }
            };
        }
    }
}

/// What differs between a tool's expansion and a flow's.
pub(crate) struct Action {
    /// The direct call's fn-pointer type.
    pub(crate) call_ty: TokenStream,
    /// `|| -> Arc<ToolAction | FlowAction>`: builds the action.
    pub(crate) build: TokenStream,
    /// The direct call: a closure of type `call_ty`.
    pub(crate) call: TokenStream,
    /// `impl IntoTool` / `impl IntoFlow`.
    pub(crate) into: TokenStream,
}
