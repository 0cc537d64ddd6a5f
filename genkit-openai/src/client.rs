//! The HTTP side: one `reqwest::Client` per plugin, the key as a bearer token,
//! timeouts, error mapping.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use genkit_core::{Error, Result};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{self, RetryHeaders};
use crate::server::LocalOpenAi;
use crate::sse::ChunkStream;
use crate::wire;

/// An API key. Its `Debug` never shows it.
#[derive(Clone, Default)]
pub(crate) struct ApiKey(pub(crate) String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "ApiKey(none)"
        } else {
            "ApiKey(***)"
        })
    }
}

/// What every model and embedder of one plugin instance shares.
pub(crate) struct Client {
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
    /// `OpenAI`, `Ollama`, … in error messages.
    provider: Arc<str>,
    timeout: Duration,
    /// Keeps an in-process local server alive as long as the models that use it.
    _local: Option<Arc<LocalOpenAi>>,
}

impl Client {
    pub(crate) fn new(
        base_url: &str,
        key: ApiKey,
        provider: &str,
        timeout: Duration,
        local: Option<Arc<LocalOpenAi>>,
    ) -> Result<Client> {
        let mut headers = HeaderMap::new();
        if !key.0.is_empty() {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.0)).map_err(|_| {
                Error::invalid_argument(format!(
                    "the {provider} API key contains characters that cannot go in an HTTP header"
                ))
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("genkit-rust/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            provider: Arc::from(provider),
            timeout,
            _local: local,
        })
    }

    /// POSTs `body` to `{base_url}/{path}`; a non-2xx answer is an error here.
    async fn send<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> Result<reqwest::Response> {
        let what = || format!("POST /{path}");
        let mut bytes = serde_json::to_vec(body)?;
        // Held until the answer (reqwest keeps it to follow a redirect): without the
        // spare capacity of the growing buffer.
        bytes.shrink_to_fit();
        let url = format!("{}/{path}", self.base_url);
        let fut = self.http.post(url).body(bytes).send();
        let resp = match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => return Err(error::timeout(&self.provider, &what(), self.timeout)),
            Ok(Err(e)) => return Err(error::from_transport(&e, &what(), &self.key.0)),
            Ok(Ok(r)) => r,
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let code = resp.status().as_u16();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let (retry_ms, retry) = (header("retry-after-ms"), header(RETRY_AFTER.as_str()));
        let body = match tokio::time::timeout(self.timeout, resp.bytes()).await {
            Ok(Ok(b)) => b,
            _ => Bytes::new(),
        };
        let hints = RetryHeaders {
            retry_after_ms: retry_ms.as_deref(),
            retry_after: retry.as_deref(),
        };
        Err(error::from_http(
            &self.provider,
            code,
            hints,
            &body,
            &self.key.0,
        ))
    }

    /// POSTs and parses the JSON answer, all within the timeout.
    async fn call<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<R> {
        let what = || format!("POST /{path}");
        let fut = async {
            let resp = self.send(path, body).await?;
            resp.bytes()
                .await
                .map_err(|e| error::from_transport(&e, &what(), &self.key.0))
        };
        let bytes = tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| error::timeout(&self.provider, &what(), self.timeout))??;
        serde_json::from_slice(&bytes)
            .map_err(|e| error::malformed(&self.provider, &what(), &e, &self.key.0))
    }

    /// `GET /models`: the ids the server lists.
    pub(crate) async fn list_models(&self) -> Result<Vec<String>> {
        let what = || "GET /models".to_string();
        let url = format!("{}/models", self.base_url);
        let fut = async {
            let resp = self
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| error::from_transport(&e, &what(), &self.key.0))?;
            let code = resp.status().as_u16();
            let ok = resp.status().is_success();
            let body = resp
                .bytes()
                .await
                .map_err(|e| error::from_transport(&e, &what(), &self.key.0))?;
            if !ok {
                let hints = RetryHeaders {
                    retry_after_ms: None,
                    retry_after: None,
                };
                return Err(error::from_http(
                    &self.provider,
                    code,
                    hints,
                    &body,
                    &self.key.0,
                ));
            }
            let list: ModelList = serde_json::from_slice(&body)
                .map_err(|e| error::malformed(&self.provider, &what(), &e, &self.key.0))?;
            Ok(list.data.into_iter().map(|m| m.id).collect())
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| error::timeout(&self.provider, &what(), self.timeout))?
    }

    /// `POST /chat/completions`.
    pub(crate) async fn chat(&self, body: &wire::ChatRequest<'_>) -> Result<wire::ChatCompletion> {
        self.call("chat/completions", body).await
    }

    /// `POST /chat/completions` with `stream: true`.
    pub(crate) async fn chat_stream(&self, body: &wire::ChatRequest<'_>) -> Result<ChunkStream> {
        let resp = self.send("chat/completions", body).await?;
        Ok(ChunkStream::new(
            resp,
            self.timeout,
            self.provider.clone(),
            self.key.0.clone(),
            format!("POST /chat/completions ({})", body.model),
        ))
    }

    /// `POST /embeddings`.
    pub(crate) async fn embed(
        &self,
        body: &wire::EmbeddingRequest<'_>,
    ) -> Result<wire::EmbeddingResponse> {
        self.call("embeddings", body).await
    }
}

/// `GET /models`: `{data: [{id, object: "model", owned_by}]}`.
#[derive(serde::Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ListedModel>,
}

#[derive(serde::Deserialize)]
struct ListedModel {
    id: String,
}
