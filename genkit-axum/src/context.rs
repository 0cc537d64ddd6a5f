//! Context providers: read the request, return the context a flow sees in
//! [`FlowContext::context`](genkit_core::FlowContext::context), or reject the request
//! before the flow runs (as Genkit's `ContextProvider`s do).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use genkit_core::{Error, Result, Status};
use serde_json::{Value, json};

use crate::error::error_response;

/// What a context provider sees of a request: its method, headers and JSON input (the
/// envelope's `data`; `null` when the provider runs as a [`ContextLayer`], before the
/// body is read). Its `Debug` shows the header names, not their values (they carry
/// credentials).
#[non_exhaustive]
pub struct RequestData {
    /// The HTTP method.
    pub method: Method,
    /// The request headers.
    pub headers: HeaderMap,
    /// The input (`data`).
    pub input: Value,
}

/// Reads a request and returns its context (`{"auth": …}` by convention), or an error
/// with a status (UNAUTHENTICATED → 401, PERMISSION_DENIED → 403) that rejects it.
///
/// Any `Fn(&RequestData) -> impl Future<Output = Result<Value>>` is one; take what you
/// need from the request before the `async` block:
///
/// ```
/// use genkit_axum::{RequestData, ServeOptions};
/// use genkit_core::{Error, Status};
/// use serde_json::json;
///
/// let opts = ServeOptions::new().context(|req: &RequestData| {
///     let user = req.headers.get("x-user").and_then(|v| v.to_str().ok()).map(String::from);
///     async move {
///         let user = user.ok_or_else(|| Error::new(Status::Unauthenticated, "who are you?"))?;
///         Ok(json!({"auth": {"uid": user}}))
///     }
/// });
/// # let _ = opts;
/// ```
pub trait ContextProvider: Send + Sync + 'static {
    /// The request's context, or the error that rejects it.
    fn provide(&self, req: &RequestData) -> BoxFuture<'static, Result<Value>>;
}

pub(crate) type ProviderRef = Arc<dyn ContextProvider>;

impl<F, Fut> ContextProvider for F
where
    F: Fn(&RequestData) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value>> + Send + 'static,
{
    fn provide(&self, req: &RequestData) -> BoxFuture<'static, Result<Value>> {
        Box::pin(self(req))
    }
}

fn unauthenticated() -> Error {
    Error::new(Status::Unauthenticated, "Unauthenticated")
}

/// Genkit's `apiKey(expected)` provider: the `Authorization` header must equal
/// `expected` exactly (so pass `"Bearer <key>"` for bearer-style keys). Missing →
/// 401 UNAUTHENTICATED, different → 403 PERMISSION_DENIED. The context is
/// `{"auth": {"apiKey": <header>}}`.
pub fn api_key(expected: impl Into<String>) -> ApiKey {
    ApiKey {
        expected: Arc::from(expected.into()),
    }
}

/// The provider [`api_key`] returns. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ApiKey {
    expected: Arc<str>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("expected", &genkit_core::secrets::REDACTED)
            .finish()
    }
}

impl std::fmt::Debug for RequestData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestData")
            .field("method", &self.method)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("input", &self.input)
            .finish()
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell
/// how much of a guessed key was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ContextProvider for ApiKey {
    fn provide(&self, req: &RequestData) -> BoxFuture<'static, Result<Value>> {
        let result = match req.headers.get(axum::http::header::AUTHORIZATION) {
            None => Err(unauthenticated()),
            Some(v) if v.is_empty() => Err(unauthenticated()),
            Some(v) if same_secret(v.as_bytes(), self.expected.as_bytes()) => {
                Ok(json!({"auth": {"apiKey": &*self.expected}}))
            }
            Some(_) => Err(Error::new(Status::PermissionDenied, "Permission Denied")),
        };
        Box::pin(std::future::ready(result))
    }
}

/// A bearer-token provider: takes the token of `Authorization: Bearer <token>` (401
/// UNAUTHENTICATED when there is none) and hands it to `verify`, which returns the auth
/// value (the context becomes `{"auth": <value>}`) or an error such as
/// PERMISSION_DENIED (403).
///
/// ```
/// use genkit_axum::{ServeOptions, bearer};
/// use genkit_core::{Error, Status};
/// use serde_json::json;
///
/// let opts = ServeOptions::new().context(bearer(|token: String| async move {
///     match token.as_str() {
///         "alice-token" => Ok(json!({"uid": "alice"})),
///         _ => Err(Error::new(Status::PermissionDenied, "unknown token")),
///     }
/// }));
/// # let _ = opts;
/// ```
pub fn bearer<F, Fut>(verify: F) -> Bearer<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value>> + Send + 'static,
{
    Bearer { verify }
}

/// The provider [`bearer`] returns.
#[derive(Clone, Debug)]
pub struct Bearer<F> {
    verify: F,
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl<F, Fut> ContextProvider for Bearer<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value>> + Send + 'static,
{
    fn provide(&self, req: &RequestData) -> BoxFuture<'static, Result<Value>> {
        let Some(token) = bearer_token(&req.headers) else {
            return Box::pin(std::future::ready(Err(unauthenticated())));
        };
        let fut = (self.verify)(token.to_string());
        Box::pin(async move { Ok(json!({"auth": fut.await?})) })
    }
}

/// The context a [`ContextLayer`] put on a request; handlers use it when they have no
/// provider of their own. Its `Debug` is redacted as spans are
/// ([`genkit_core::secrets`]).
#[derive(Clone)]
pub struct RequestContext(pub Arc<Value>);

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequestContext")
            .field(&genkit_core::secrets::redact_context(&self.0))
            .finish()
    }
}

/// A tower layer that runs a context provider for every request of the routes it
/// wraps (with `input` = `null`), rejecting with Genkit's error JSON (401/403) or
/// storing the context for the flow and agent handlers below it. One line protects a
/// whole Router:
///
/// ```
/// use genkit_axum::{ContextLayer, api_key};
///
/// let app: axum::Router = axum::Router::new()
///     .route("/health", axum::routing::get(|| async { "ok" }))
///     .layer(ContextLayer::new(api_key("Bearer s3cret")));
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct ContextLayer {
    provider: ProviderRef,
}

impl ContextLayer {
    /// A layer running `provider`.
    pub fn new(provider: impl ContextProvider) -> Self {
        ContextLayer {
            provider: Arc::new(provider),
        }
    }
}

impl<S> tower_layer::Layer<S> for ContextLayer {
    type Service = ContextService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ContextService {
            inner,
            provider: self.provider.clone(),
        }
    }
}

/// The service of a [`ContextLayer`].
#[derive(Clone)]
pub struct ContextService<S> {
    inner: S,
    provider: ProviderRef,
}

impl<S> tower_service::Service<Request> for ContextService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone that was made ready is the one that is called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let provider = self.provider.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let data = RequestData {
                method: std::mem::take(&mut parts.method),
                headers: std::mem::take(&mut parts.headers),
                input: Value::Null,
            };
            let result = provider.provide(&data).await;
            parts.method = data.method;
            parts.headers = data.headers;
            match result {
                Ok(context) => {
                    parts.extensions.insert(RequestContext(Arc::new(context)));
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(e) => Ok(error_response(&e).into_response()),
            }
        })
    }
}
