//! Expansion of `#[genkit::flow]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::attr::{Args, Kind};
use crate::check::{self, Ctxt, Pass};
use crate::item::RawFn;

/// Expands `#[genkit::flow]`; on error, the errors and the user's item unchanged.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    try_expand(args, item.clone()).unwrap_or_else(|e| crate::with_item(e, item))
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    let args = Args::parse(&mut cx, Kind::Flow, args);
    let parsed = match RawFn::parse_item(Kind::Flow, item) {
        Ok(f) => {
            let sig = check::flow(&mut cx, &f.sig);
            sig.map(|sig| (f, sig))
        }
        Err(e) => {
            cx.syn_error(e);
            None
        }
    };
    cx.check()?;
    let (f, sig) = parsed.ok_or_else(unreachable_error)?;
    Ok(generate(&args, &f, &sig))
}

/// Never reached: a `None` signature always comes with an error.
fn unreachable_error() -> syn::Error {
    syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[genkit::flow]`: invalid signature",
    )
}

fn generate(args: &Args, f: &RawFn, sig: &check::FlowSig) -> TokenStream {
    let krate = crate::crate_path(args);
    let p = quote!(__genkit_private);
    let ident = &f.sig.ident;
    let vis = &f.vis;
    let impl_ident = format_ident!("__genkit_flow_{}_impl", ident.unraw());
    let name = args
        .name
        .as_ref()
        .map_or_else(|| ident.unraw().to_string(), |n| n.value());
    let description = args
        .description
        .as_ref()
        .map_or_else(|| f.doc_text(), |d| d.value());
    let input_ty = &sig.input.ty;
    let ret_ty = &sig.ret;
    let out_ty = crate::ok_type_tokens(&p, ret_ty);
    let cfgs: Vec<_> = f.cfgs().collect();
    let docs: Vec<_> = f.docs().collect();
    let impl_fn = f.impl_fn(&impl_ident);

    // The Genkit instance and the context, in the action and in a direct call.
    let (action_ai, call_ai) = if sig.genkit {
        (quote!(&__genkit_ai,), quote!(__genkit_ai,))
    } else {
        (quote!(), quote!())
    };
    let cx_arg = match sig.ctx {
        None => quote!(),
        Some(Pass::ByValue) => quote!(, __genkit_cx),
        Some(Pass::ByRef) => quote!(, &__genkit_cx),
    };
    let result = quote!(#p::Result<#out_ty, #p::Error>);
    let (call_ty, call_params) = if sig.genkit {
        (
            quote!(for<'a> fn(&'a #p::Genkit, #input_ty) -> #p::BoxFuture<'a, #result>),
            quote!(__genkit_ai: &#p::Genkit, __genkit_input),
        )
    } else {
        (
            quote!(fn(#input_ty) -> #p::BoxFuture<'static, #result>),
            quote!(__genkit_input),
        )
    };
    let action_doc = format!(" The `/flow/{name}` action (schemas derived once, on first use).");

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
                build: fn() -> #p::Arc<#p::FlowAction>,
                call: __GenkitCall,
            }

            // Both closures are in one body, so a type error is reported once.
            static __GENKIT_FNS: __GenkitFns = __GenkitFns {
                build: || {
                    #p::flow_action::<#input_ty, #ret_ty, #out_ty, _, _>(
                        #name,
                        #description,
                        |__genkit_ai: #p::Genkit,
                         __genkit_input,
                         __genkit_cx: #p::FlowContext| async move {
                            let _ = (&__genkit_ai, &__genkit_cx);
                            #impl_ident(#action_ai __genkit_input #cx_arg).await
                        },
                    )
                },
                // A direct call: the user's function in the flow's trace span, with a
                // default (non-streaming) context.
                call: |#call_params| {
                    #p::Box::pin(async move {
                        let __genkit_slot = #p::InputSlot::new(__genkit_input);
                        // Records the input only if it is `Serialize` (autoref dispatch).
                        let __genkit_ms = #p::MaybeSerialize(&__genkit_slot);
                        let __genkit_ms = &__genkit_ms;
                        let __genkit_trace = {
                            use #p::{ViaNothing as _, ViaSerialize as _};
                            __genkit_ms.__genkit_trace_input()
                        };
                        let __genkit_cx = <#p::FlowContext as #p::Default>::default();
                        let _ = &__genkit_cx;
                        #p::run_flow::<#out_ty, _>(#ident::action(), __genkit_trace, async {
                                let __genkit_input = __genkit_slot.take()?;
                                #p::into_result::<#ret_ty, #out_ty>(
                                    #impl_ident(#call_ai __genkit_input #cx_arg).await,
                                )
                            })
                            .await
                    })
                },
            };

            impl #ident {
                #[doc = #action_doc]
                pub fn action() -> &'static #p::Arc<#p::FlowAction> {
                    static __GENKIT_ACTION: #p::OnceLock<#p::Arc<#p::FlowAction>> =
                        #p::OnceLock::new();
                    __GENKIT_ACTION.get_or_init(__GENKIT_FNS.build)
                }
            }

            impl #p::IntoFlow for #ident {
                fn into_flow(self) -> #p::Arc<#p::FlowAction> {
                    #p::Arc::clone(#ident::action())
                }
            }

            impl #p::Deref for #ident {
                type Target = __GenkitCall;
                fn deref(&self) -> &__GenkitCall {
                    &__GENKIT_FNS.call
                }
            }

            fn __genkit_register() -> #p::Arc<#p::FlowAction> {
                #p::Arc::clone(#ident::action())
            }
            #p::inventory::submit! {
                #p::Registration::Flow(__genkit_register)
            }
        };
    }
}
