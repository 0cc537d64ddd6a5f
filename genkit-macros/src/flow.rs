//! Expansion of `#[genkit::flow]`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::attr::Kind;
use crate::check::{self, Pass};
use crate::expand::{Action, Parts};

/// Expands `#[genkit::flow]`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    crate::expand::expand(Kind::Flow, args, item, check::flow, generate)
}

fn generate(parts: &Parts<'_>, sig: &check::FlowSig) -> TokenStream {
    let Parts {
        p,
        ident,
        impl_ident,
        name,
        description,
        ..
    } = parts;
    let input_ty = &sig.input.ty;
    let ret_ty = &sig.ret;
    let out_ty = parts.ok_type(ret_ty);
    let direct_call_input = parts.direct_call_input();

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

    parts.item(Action {
        call_ty,
        build: quote! {
            || {
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
            }
        },
        // A direct call: the user's function in the flow's trace span, with a default
        // (non-streaming) context.
        call: quote! {
            |#call_params| {
                #p::Box::pin(async move {
                    #direct_call_input
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
            }
        },
        into: quote! {
            impl #p::IntoFlow for #ident {
                fn into_flow(self) -> #p::Arc<#p::FlowAction> {
                    #p::Arc::clone(#ident::action())
                }
            }
        },
    })
}
