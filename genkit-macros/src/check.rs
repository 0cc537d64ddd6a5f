//! Validating the signature: every problem is reported at once, on its own tokens.

use std::fmt::Display;

use quote::ToTokens;
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Signature, Type, TypePath};

use crate::attr::Kind;

/// Collects errors, serde's `Ctxt` style: report them all, then stop.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// An error spanning `tokens`.
    pub(crate) fn error_spanned_by<T: ToTokens>(&mut self, tokens: T, message: impl Display) {
        self.errors
            .push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// An error from syn or darling.
    pub(crate) fn syn_error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// `Err` with every error combined, if there was any.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            first.combine(e);
        }
        Err(first)
    }
}

/// One typed parameter.
#[derive(Clone)]
pub(crate) struct Param {
    pub(crate) ty: Type,
}

/// How the user's function takes a context parameter.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    ByValue,
    ByRef,
}

/// A valid `#[genkit::tool]` signature: `(input: I[, ctx: ToolContext]) -> R`.
pub(crate) struct ToolSig {
    pub(crate) input: Param,
    pub(crate) ctx: Option<Pass>,
    pub(crate) ret: Type,
}

/// A valid `#[genkit::flow]` signature: `([ai: &Genkit, ]input: I[, ctx: FlowContext]) -> R`.
pub(crate) struct FlowSig {
    pub(crate) genkit: bool,
    pub(crate) input: Param,
    pub(crate) ctx: Option<Pass>,
    pub(crate) ret: Type,
}

/// Checks a tool's signature.
pub(crate) fn tool(cx: &mut Ctxt, sig: &Signature) -> Option<ToolSig> {
    let kind = Kind::Tool;
    common(cx, kind, sig);
    let params = typed_params(cx, kind, sig);
    let ret = return_type(cx, kind, sig);
    let usage = "`async fn name(input: T) -> Result<O, E>`";
    let mut params = params.into_iter();
    let input = match params.next() {
        None => {
            cx.error_spanned_by(
                paren_tokens(sig),
                format!("{} takes one input: {usage}", kind.attr()),
            );
            None
        }
        Some(p) if last_ident(&p.ty, "ToolContext").is_some() => {
            cx.error_spanned_by(
                &p.ty,
                format!(
                    "{} takes its input first: `async fn name(input: T, ctx: ToolContext)`",
                    kind.attr()
                ),
            );
            None
        }
        Some(p) => Some(p),
    };
    let mut ctx = None;
    for (i, p) in params.enumerate() {
        match last_ident(&p.ty, "ToolContext") {
            Some(pass) if i == 0 => ctx = Some(pass),
            _ => cx.error_spanned_by(
                &p.ty,
                format!(
                    "{} takes one input; put every field in one input struct \
                     (the only other parameter allowed is `ctx: ToolContext`)",
                    kind.attr()
                ),
            ),
        }
    }
    if let Some(input) = &input {
        owned_input(cx, kind, input);
    }
    Some(ToolSig {
        input: input?,
        ctx,
        ret: ret?,
    })
}

/// Checks a flow's signature.
pub(crate) fn flow(cx: &mut Ctxt, sig: &Signature) -> Option<FlowSig> {
    let kind = Kind::Flow;
    common(cx, kind, sig);
    let params = typed_params(cx, kind, sig);
    let ret = return_type(cx, kind, sig);
    let forms =
        "`(input: T)`, `(ai: &Genkit, input: T)` or `(ai: &Genkit, input: T, ctx: FlowContext)`";
    for p in &params {
        if genkit_by_value(&p.ty) {
            cx.error_spanned_by(
                &p.ty,
                format!(
                    "{} takes the Genkit instance by reference: `ai: &Genkit`",
                    kind.attr()
                ),
            );
        }
    }
    let is_genkit = |p: &Param| last_ident(&p.ty, "Genkit") == Some(Pass::ByRef);
    let is_ctx = |p: &Param| last_ident(&p.ty, "FlowContext").is_some();
    let mut genkit = false;
    let mut input = None;
    let mut ctx = None;
    match params.as_slice() {
        [] => cx.error_spanned_by(
            paren_tokens(sig),
            format!("{} takes an input: {forms}", kind.attr()),
        ),
        [only] if is_genkit(only) || is_ctx(only) => cx.error_spanned_by(
            &only.ty,
            format!(
                "{} takes an input after this parameter: {forms}",
                kind.attr()
            ),
        ),
        [only] => input = Some(only),
        [first, second, rest @ ..] => {
            if is_genkit(first) {
                genkit = true;
                if is_genkit(second) || is_ctx(second) {
                    cx.error_spanned_by(
                        &second.ty,
                        format!(
                            "{} takes its input after `ai: &Genkit`: {forms}",
                            kind.attr()
                        ),
                    );
                } else {
                    input = Some(second);
                }
            } else if !genkit_by_value(&first.ty) {
                // (`Genkit` by value was reported above.)
                let msg = if is_ctx(second) {
                    format!(
                        "{} taking a context takes the Genkit instance first: \
                         `(ai: &Genkit, input: T, ctx: FlowContext)`",
                        kind.attr()
                    )
                } else {
                    format!(
                        "{} takes one input; with more parameters the first must be \
                         `ai: &Genkit`: {forms}",
                        kind.attr()
                    )
                };
                cx.error_spanned_by(&first.ty, msg);
            }
            if let Some(third) = rest.first() {
                match last_ident(&third.ty, "FlowContext") {
                    Some(pass) => ctx = Some(pass),
                    None => cx.error_spanned_by(
                        &third.ty,
                        format!(
                            "the third parameter of a {} must be `ctx: FlowContext` \
                             or `ctx: &FlowContext`",
                            kind.attr()
                        ),
                    ),
                }
            }
            for extra in rest.iter().skip(1) {
                cx.error_spanned_by(
                    &extra.ty,
                    format!("{} takes at most three parameters: {forms}", kind.attr()),
                );
            }
        }
    }
    if let Some(input) = input {
        owned_input(cx, kind, input);
    }
    Some(FlowSig {
        genkit,
        input: input?.clone(),
        ctx,
        ret: ret?,
    })
}

/// What every function needs: `async`, not `const`/`unsafe`/`extern`, not generic,
/// not variadic.
fn common(cx: &mut Ctxt, kind: Kind, sig: &Signature) {
    if let Some(t) = &sig.constness {
        cx.error_spanned_by(t, format!("{} cannot be a `const fn`", kind.attr()));
    }
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            format!("{} requires an `async fn`", kind.attr()),
        );
    }
    if let Some(t) = &sig.unsafety {
        cx.error_spanned_by(t, format!("{} cannot be an `unsafe fn`", kind.attr()));
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, format!("{} cannot have an `extern` ABI", kind.attr()));
    }
    let generic = "cannot be generic: its input and output types must be concrete so their \
                   schemas can be derived";
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, format!("{} {generic}", kind.attr()));
    } else if let Some(w) = &sig.generics.where_clause {
        cx.error_spanned_by(w, format!("{} {generic}", kind.attr()));
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, format!("{} cannot be variadic", kind.attr()));
    }
}

/// The typed parameters; a `self` receiver or `impl Trait` is an error.
fn typed_params(cx: &mut Ctxt, kind: Kind, sig: &Signature) -> Vec<Param> {
    let mut out = Vec::with_capacity(sig.inputs.len());
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => cx.error_spanned_by(
                r,
                format!(
                    "{} must be a free function, it cannot take `self`",
                    kind.attr()
                ),
            ),
            FnArg::Typed(t) => {
                if let Type::ImplTrait(_) = &*t.ty {
                    cx.error_spanned_by(
                        &t.ty,
                        format!(
                            "{} cannot take `impl Trait`: its input type must be concrete so its \
                             schema can be derived",
                            kind.attr()
                        ),
                    );
                }
                out.push(Param {
                    ty: (*t.ty).clone(),
                });
            }
        }
    }
    out
}

/// The return type, which must be written (`Result<O, E>`).
fn return_type(cx: &mut Ctxt, kind: Kind, sig: &Signature) -> Option<Type> {
    match &sig.output {
        ReturnType::Type(_, ty) => {
            if plainly_not_a_result(ty) {
                cx.error_spanned_by(
                    ty,
                    format!(
                        "{} must return `Result<O, E>` with `E: Into<genkit::Error>`: \
                         `Result<{}>`",
                        kind.attr(),
                        ty.to_token_stream()
                    ),
                );
                return None;
            }
            Some((**ty).clone())
        }
        ReturnType::Default => {
            cx.error_spanned_by(
                sig,
                format!(
                    "{} must return `Result<O, E>` with `E: Into<genkit::Error>`",
                    kind.attr()
                ),
            );
            None
        }
    }
}

/// A return type that cannot be a `Result` alias: a tuple, reference, array, or a
/// well-known non-`Result` type. Anything else may be an alias and is left to rustc.
fn plainly_not_a_result(ty: &Type) -> bool {
    const NOT_RESULTS: &[&str] = &[
        "String", "str", "Vec", "Option", "Box", "Arc", "Rc", "HashMap", "BTreeMap", "HashSet",
        "BTreeSet", "Value", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8",
        "i16", "i32", "i64", "i128", "isize", "f32", "f64",
    ];
    match ty {
        Type::Tuple(_) | Type::Reference(_) | Type::Array(_) | Type::Slice(_) | Type::Never(_) => {
            true
        }
        Type::Paren(p) => plainly_not_a_result(&p.elem),
        Type::Path(TypePath { qself: None, path }) => path
            .segments
            .last()
            .is_some_and(|s| NOT_RESULTS.iter().any(|n| s.ident == n)),
        _ => false,
    }
}

/// The input is deserialized from JSON: it must be owned.
fn owned_input(cx: &mut Ctxt, kind: Kind, input: &Param) {
    if let Type::Reference(r) = &input.ty {
        cx.error_spanned_by(
            r,
            format!(
                "the input of a {} is deserialized from JSON and must be an owned type: take `{}`",
                kind.attr(),
                r.elem.to_token_stream()
            ),
        );
    }
}

/// The tokens `( ... )` of the parameter list, for errors about it.
fn paren_tokens(sig: &Signature) -> proc_macro2::TokenStream {
    let mut ts = proc_macro2::TokenStream::new();
    sig.ident.to_tokens(&mut ts);
    sig.paren_token
        .surround(&mut ts, |ts| sig.inputs.to_tokens(ts));
    ts
}

/// `Genkit` taken by value.
fn genkit_by_value(ty: &Type) -> bool {
    last_ident(ty, "Genkit") == Some(Pass::ByValue)
}

/// Whether `ty` is `name`, `&name` or `path::to::name` (by its last segment).
fn last_ident(ty: &Type, name: &str) -> Option<Pass> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => {
            let last = path.segments.last()?;
            (last.ident == name && last.arguments.is_empty()).then_some(Pass::ByValue)
        }
        Type::Reference(r) if r.mutability.is_none() => {
            last_ident(&r.elem, name).map(|_| Pass::ByRef)
        }
        Type::Paren(p) => last_ident(&p.elem, name),
        _ => None,
    }
}

/// `O` of a return type written `Result<O, ..>` (any path ending in `Result`), so the
/// direct-call signature shows it; `None` otherwise (an alias), then the expansion
/// names it through `ActionResult::Ok`.
pub(crate) fn ok_type(ret: &Type) -> Option<&Type> {
    let Type::Path(TypePath { qself: None, path }) = ret else {
        return None;
    };
    let last = path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}
