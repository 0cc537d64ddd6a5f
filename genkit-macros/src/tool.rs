//! Expansion of `#[genkit::tool]`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::attr::Kind;
use crate::check::{self, Pass};
use crate::expand::{Action, Parts};

/// Expands `#[genkit::tool]`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    crate::expand::expand(Kind::Tool, args, item, check::tool, generate)
}

fn generate(parts: &Parts<'_>, sig: &check::ToolSig) -> TokenStream {
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

    // How the user's function receives the context, in the action and in a direct call.
    let (action_ctx, call_param, call_ty) = match sig.ctx {
        None => (quote!(), quote!(), quote!()),
        Some(Pass::ByValue) => (
            quote!(, __genkit_ctx),
            quote!(, __genkit_ctx: #p::ToolContext),
            quote!(, #p::ToolContext),
        ),
        Some(Pass::ByRef) => (
            quote!(, &__genkit_ctx),
            quote!(, __genkit_ctx: #p::ToolContext),
            quote!(, #p::ToolContext),
        ),
    };

    parts.item(Action {
        call_ty: quote! {
            fn(#input_ty #call_ty) -> #p::BoxFuture<'static, #p::Result<#out_ty, #p::Error>>
        },
        build: quote! {
            || {
                #p::tool_action::<#input_ty, #ret_ty, #out_ty, _, _>(
                    #name,
                    #description,
                    |__genkit_input, __genkit_ctx: #p::ToolContext| async move {
                        let _ = &__genkit_ctx;
                        #impl_ident(__genkit_input #action_ctx).await
                    },
                )
            }
        },
        // A direct call: the user's function in the tool's trace span.
        call: quote! {
            |__genkit_input #call_param| {
                #p::Box::pin(async move {
                    #direct_call_input
                    #p::call_tool::<#out_ty, _>(#ident::action(), __genkit_trace, async {
                            let __genkit_input = __genkit_slot.take()?;
                            #p::into_result::<#ret_ty, #out_ty>(
                                #impl_ident(__genkit_input #action_ctx).await,
                            )
                        })
                        .await
                })
            }
        },
        into: quote! {
            impl #p::IntoTool for #ident {
                fn into_tool(self) -> #p::ToolSpec {
                    #p::ToolSpec::Action(#p::Arc::clone(#ident::action()))
                }
            }
        },
    })
}
