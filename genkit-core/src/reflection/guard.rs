//! Who may call the reflection API: the Genkit CLI (and the Dev UI through it) on this
//! machine, never a web page.
//!
//! The API runs any action, so a page the developer happens to open must not reach it:
//!
//! - **Host**: a request naming another host (`Host: evil.example:3100`, what a browser
//!   sends after DNS rebinding points that name at 127.0.0.1) is refused (403). Only
//!   `localhost`, `127.0.0.1` and `[::1]` (any port) are served.
//! - **Origin**: a browser request from a page whose origin is not on this machine
//!   (`Origin: https://evil.example`, or `null`) is refused (403); pages on
//!   `http://localhost:*` / `http://127.0.0.1:*` are allowed.
//! - **Sec-Fetch-Site**: a cross-site or same-site browser request that carries no
//!   origin to check (an `<img src>`, a link, a form GET) is refused (403): this closes
//!   `GET /api/__quitquitquit` to other sites. A `Referer` naming a page not on this
//!   machine is refused too (browsers without `Sec-Fetch-*`).
//! - **Content-Type**: a POST body must be JSON (`application/json` or `…+json`), else
//!   415. Browsers send `text/plain`, form and multipart bodies cross-origin without a
//!   CORS preflight; a JSON body needs one, which this API never grants.
//!
//! The CLI (node's axios and fetch) sends `Host: 127.0.0.1:<port>` (or `localhost`),
//! no `Origin` and no `Sec-Fetch-*`, and `Content-Type: application/json`: it passes.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The middleware: refuses what [`refusal`] names, passes the rest on.
pub(crate) async fn guard(req: Request, next: Next) -> Response {
    match refusal(req.method(), req.headers()) {
        Some((status, why)) => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            why,
        )
            .into_response(),
        None => next.run(req).await,
    }
}

/// Why a request is refused, with its status; `None` when it may go on.
pub(crate) fn refusal(method: &Method, headers: &HeaderMap) -> Option<(StatusCode, String)> {
    let forbidden = |why: String| Some((StatusCode::FORBIDDEN, why));
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().unwrap_or_default();
        if !is_loopback_authority(host) {
            return forbidden(format!(
                "the reflection API serves only localhost, not Host {host:?}"
            ));
        }
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let origin = origin.to_str().unwrap_or_default();
            if !is_local_origin(origin) {
                return forbidden(format!(
                    "the reflection API does not serve web pages from origin {origin:?}"
                ));
            }
        }
        None => {
            let site = headers
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
                return forbidden(format!(
                    "the reflection API does not serve {site} browser requests"
                ));
            }
        }
    }
    // Browsers too old for Sec-Fetch-* still name the page (unless it hides it).
    if let Some(referer) = headers.get(header::REFERER) {
        let referer = referer.to_str().unwrap_or_default();
        let page_origin = referer
            .split_once("://")
            .map(|(scheme, rest)| (scheme, rest.split(['/', '?', '#']).next().unwrap_or("")))
            .map(|(scheme, authority)| format!("{scheme}://{authority}"));
        if !page_origin.is_some_and(|o| is_local_origin(&o)) {
            return forbidden(format!(
                "the reflection API does not serve web pages from {referer:?}"
            ));
        }
    }
    if method == Method::POST && !is_json(headers) {
        return Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the reflection API takes JSON bodies only (Content-Type: application/json)".to_owned(),
        ));
    }
    None
}

/// Whether the request's `Content-Type` is JSON: `application/json` or
/// `application/<x>+json`, with or without parameters (genkit-axum's flow server
/// applies the same rule).
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or_default().trim();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub.len() > 5 && sub[sub.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// `localhost`, `127.0.0.1`, `[::1]`, each with an optional port.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip6, port)) if port.is_empty() || port.strip_prefix(':').is_some_and(is_port) => {
                return ip6 == "::1";
            }
            _ => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return false,
            None => authority,
        },
    };
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1"
}

fn is_port(s: &str) -> bool {
    s.parse::<u16>().is_ok()
}

/// `http(s)://` + a loopback authority.
fn is_local_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(is_loopback_authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_cli_passes() {
        let h = headers(&[
            ("host", "127.0.0.1:3100"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(refusal(&Method::POST, &h), None);
        let h = headers(&[("host", "localhost:3100")]);
        assert_eq!(refusal(&Method::GET, &h), None);
        let h = headers(&[("host", "[::1]:3100"), ("origin", "http://localhost:4000")]);
        assert_eq!(refusal(&Method::GET, &h), None);
    }

    #[test]
    fn browsers_and_foreign_hosts_are_refused() {
        let status = |m: Method, h: &[(&'static str, &'static str)]| {
            refusal(&m, &headers(h)).map(|(s, _)| s.as_u16())
        };
        assert_eq!(
            status(Method::GET, &[("host", "evil.example:3100")]),
            Some(403)
        );
        assert_eq!(
            status(Method::GET, &[("host", "127.0.0.1.evil:3100")]),
            Some(403)
        );
        assert_eq!(status(Method::GET, &[("host", "localhost:x")]), Some(403));
        assert_eq!(
            status(Method::GET, &[("origin", "https://evil.example")]),
            Some(403)
        );
        assert_eq!(status(Method::GET, &[("origin", "null")]), Some(403));
        assert_eq!(
            status(Method::GET, &[("referer", "https://evil.example/page")]),
            Some(403)
        );
        assert_eq!(
            status(
                Method::GET,
                &[("referer", "http://localhost:4000/flows?x=1")]
            ),
            None
        );
        assert_eq!(
            status(Method::GET, &[("sec-fetch-site", "cross-site")]),
            Some(403)
        );
        assert_eq!(
            status(Method::POST, &[("content-type", "text/plain")]),
            Some(415)
        );
        assert_eq!(status(Method::POST, &[]), Some(415));
        assert_eq!(
            status(
                Method::POST,
                &[("content-type", "application/problem+json; charset=utf-8")]
            ),
            None
        );
    }
}
