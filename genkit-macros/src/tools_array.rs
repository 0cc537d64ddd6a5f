//! `.tools([a, b])` in the body of a `#[genkit::tool]` / `#[genkit::flow]` function.
//!
//! Two different tools in one array are a type mismatch at the array literal, which
//! rustc reports ("expected `a`, found `b`") before any trait is consulted, so no
//! `#[diagnostic::on_unimplemented]` can name the fix there. In the bodies these macros
//! see, an array literal of plain names passed to `.tools(..)` is rewritten into the same
//! array built through `__private::same_tool`, whose bound names the fix (a tuple) at
//! the offending element. When the elements have one type the result is the same array,
//! evaluated in the same order; everything else in the body is re-emitted untouched.

use proc_macro2::{Delimiter, Group, Ident, Spacing, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

/// The body with every `.tools([name, name, ..])` rewritten; `krate` is the path to the
/// `genkit` crate.
pub(crate) fn rewrite(body: &Group, krate: &TokenStream) -> Group {
    let mut out = Group::new(body.delimiter(), rewrite_stream(body.stream(), krate));
    out.set_span(body.span());
    out
}

fn rewrite_stream(stream: TokenStream, krate: &TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let TokenTree::Group(group) = token else {
            out.push(token.clone());
            continue;
        };
        let after_tools = i >= 2
            && matches!(&tokens[i - 1], TokenTree::Ident(id) if id == "tools")
            && matches!(&tokens[i - 2], TokenTree::Punct(p) if p.as_char() == '.');
        let rewritten = after_tools && group.delimiter() == Delimiter::Parenthesis;
        let checked = rewritten.then(|| checked_array(group, krate)).flatten();
        let stream = checked.unwrap_or_else(|| rewrite_stream(group.stream(), krate));
        let mut new = Group::new(group.delimiter(), stream);
        new.set_span(group.span());
        out.push(TokenTree::Group(new));
    }
    out.into_iter().collect()
}

/// `([a, b, ..])` with at least two plain elements → the checked array, else `None`.
fn checked_array(args: &Group, krate: &TokenStream) -> Option<TokenStream> {
    let mut inner = args.stream().into_iter();
    let (Some(TokenTree::Group(array)), None) = (inner.next(), inner.next()) else {
        return None;
    };
    if array.delimiter() != Delimiter::Bracket {
        return None;
    }
    let elements = split_elements(array.stream())?;
    if elements.len() < 2 {
        return None;
    }
    let names: Vec<_> = (0..elements.len())
        .map(|i| format_ident!("__genkit_tool_{}", i))
        .collect();
    let first = &names[0];
    let checks = elements.iter().zip(&names).skip(1).map(|(element, name)| {
        // The bound's error points at the argument: give it the element's span.
        let span = element_span(element);
        let arg = Ident::new(&name.to_string(), span);
        let krate = respan(krate, span);
        quote_spanned!(span=> let #name = #krate::__private::same_tool(&#first, #arg);)
    });
    let values = elements.iter();
    Some(quote! {
        match (#(#values,)*) {
            (#(#names,)*) => {
                #(#checks)*
                [#(#names),*]
            }
        }
    })
}

/// The elements of an array literal, if each is a plain name: a path (`web_search`,
/// `tools::read_file`), a literal (`"search/web_search"`), either behind `&`.
/// Anything else (calls, closures, generics, `[x; n]`) leaves the array alone.
fn split_elements(stream: TokenStream) -> Option<Vec<TokenStream>> {
    let mut elements = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    for token in stream {
        if matches!(&token, TokenTree::Punct(p) if p.as_char() == ',') {
            elements.push(plain(std::mem::take(&mut current))?);
        } else {
            current.push(token);
        }
    }
    if !current.is_empty() {
        elements.push(plain(current)?);
    }
    Some(elements)
}

fn plain(tokens: Vec<TokenTree>) -> Option<TokenStream> {
    let rest = match tokens.first() {
        Some(TokenTree::Punct(p)) if p.as_char() == '&' => &tokens[1..],
        _ => &tokens[..],
    };
    let is_plain = match rest {
        [TokenTree::Literal(_)] => true,
        [] => false,
        path => is_path(path),
    };
    is_plain.then(|| tokens.into_iter().collect())
}

/// `a`, `a::b`, `::a::b`: identifiers joined by `::`.
fn is_path(tokens: &[TokenTree]) -> bool {
    let mut expect_ident = true;
    let mut i = 0;
    if is_colon_colon(tokens) {
        i = 2;
    }
    while i < tokens.len() {
        if expect_ident {
            if !matches!(tokens[i], TokenTree::Ident(_)) {
                return false;
            }
            i += 1;
        } else {
            if !is_colon_colon(&tokens[i..]) {
                return false;
            }
            i += 2;
        }
        expect_ident = !expect_ident;
    }
    !expect_ident
}

fn is_colon_colon(tokens: &[TokenTree]) -> bool {
    matches!(
        tokens,
        [TokenTree::Punct(a), TokenTree::Punct(b), ..]
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect()
}

fn element_span(element: &TokenStream) -> Span {
    let mut tokens = element.clone().into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map(|t| t.span());
    last.and_then(|l| first.join(l)).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(body: TokenStream) -> String {
        let group = Group::new(Delimiter::Brace, body);
        rewrite(&group, &quote!(::genkit)).stream().to_string()
    }

    #[test]
    fn two_names_become_a_checked_array() {
        let out = rewritten(quote!(ai.generate().tools([web_search, read_file]).await));
        assert!(out.contains("same_tool"), "{out}");
        assert!(out.contains("match (web_search , read_file ,)"), "{out}");
    }

    #[test]
    fn nested_calls_are_found() {
        let out = rewritten(quote!(let r = { f(async { x.tools([a::b, &c, "d"]) }) };));
        assert_eq!(out.matches("same_tool").count(), 2, "{out}");
    }

    #[test]
    fn anything_else_is_left_alone() {
        for body in [
            quote!(x.tools([a])),
            quote!(x.tools([a(), b])),
            quote!(x.tools([a; 2])),
            quote!(x.tools((a, b))),
            quote!(x.tools(v)),
            quote!(x.other([a, b])),
            quote!(tools([a, b])),
            quote!(x.tools([Vec::<u8>::new(), b])),
        ] {
            let before = body.to_string();
            let out = rewritten(body);
            assert_eq!(out, before);
        }
    }
}
