//! The HTTP side: one `reqwest::Client` per plugin, the key in `x-api-key`, the
//! `anthropic-version` header, timeouts, and error mapping.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use genkit_core::{Error, Result};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use crate::error::{self, Headers};
use crate::server::LocalAnthropic;
use crate::sse::EventStream;
use crate::wire;

/// The API key. Its `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct ApiKey(pub(crate) String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// What every model of one plugin instance shares.
pub(crate) struct Client {
    http: reqwest::Client,
    url: String,
    key: ApiKey,
    timeout: Duration,
    /// Keeps an in-process local server alive as long as the models that use it.
    _local: Option<Arc<LocalAnthropic>>,
}

const WHAT: &str = "POST /v1/messages";

impl Client {
    pub(crate) fn new(
        base_url: &str,
        version: &str,
        key: ApiKey,
        timeout: Duration,
        local: Option<Arc<LocalAnthropic>>,
    ) -> Result<Client> {
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_str(&key.0).map_err(|_| {
            Error::invalid_argument(
                "the Anthropic API key contains characters that cannot go in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        headers.insert("x-api-key", value);
        headers.insert(
            "anthropic-version",
            HeaderValue::from_str(version).map_err(|_| {
                Error::invalid_argument("the anthropic-version cannot go in an HTTP header")
            })?,
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("genkit-rust/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            url: format!("{}/v1/messages", base_url.trim_end_matches('/')),
            key,
            timeout,
            _local: local,
        })
    }

    pub(crate) fn key(&self) -> &str {
        &self.key.0
    }

    /// POSTs the body and waits for the status line and headers; a non-2xx answer is
    /// its error.
    async fn send(&self, body: &wire::MessagesRequest<'_>) -> Result<reqwest::Response> {
        let mut bytes = serde_json::to_vec(body)?;
        // Held until the answer (reqwest keeps it to follow a redirect): without the
        // spare capacity of the growing buffer.
        bytes.shrink_to_fit();
        let fut = self.http.post(&self.url).body(bytes).send();
        let resp = match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => return Err(error::timeout(WHAT, self.timeout)),
            Ok(Err(e)) => return Err(genkit_googleai::error::from_transport(&e, WHAT, self.key())),
            Ok(Ok(r)) => r,
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let code = resp.status().as_u16();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header(RETRY_AFTER.as_str());
        let request_id = header("request-id");
        let body = match tokio::time::timeout(self.timeout, resp.bytes()).await {
            Ok(Ok(b)) => b,
            _ => Bytes::new(),
        };
        let headers = Headers {
            retry_after: retry_after.as_deref(),
            request_id: request_id.as_deref(),
        };
        Err(error::from_http(code, headers, &body, self.key()))
    }

    /// One page of `GET /v1/models?limit=1000` (after `after_id`).
    pub(crate) async fn list_models(&self, after_id: Option<&str>) -> Result<ModelPage> {
        const WHAT_LIST: &str = "GET /v1/models";
        let base = self.url.strip_suffix("/v1/messages").unwrap_or(&self.url);
        let url = format!("{base}/v1/models?limit=1000");
        // reqwest encodes the cursor into the query.
        let after: &[(&str, &str)] = match after_id {
            Some(id) => &[("after_id", id)],
            None => &[],
        };
        let fut = async {
            let resp =
                self.http.get(url).query(after).send().await.map_err(|e| {
                    genkit_googleai::error::from_transport(&e, WHAT_LIST, self.key())
                })?;
            let code = resp.status().as_u16();
            let ok = resp.status().is_success();
            let body = resp
                .bytes()
                .await
                .map_err(|e| genkit_googleai::error::from_transport(&e, WHAT_LIST, self.key()))?;
            if !ok {
                let headers = Headers {
                    retry_after: None,
                    request_id: None,
                };
                return Err(error::from_http(code, headers, &body, self.key()));
            }
            serde_json::from_slice(&body).map_err(|e| error::malformed(WHAT_LIST, &e, self.key()))
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| error::timeout(WHAT_LIST, self.timeout))?
    }

    /// A whole answer.
    pub(crate) async fn create(&self, body: &wire::MessagesRequest<'_>) -> Result<wire::Message> {
        let fut = async {
            let resp = self.send(body).await?;
            resp.bytes()
                .await
                .map_err(|e| genkit_googleai::error::from_transport(&e, WHAT, self.key()))
        };
        let bytes = tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| error::timeout(WHAT, self.timeout))??;
        serde_json::from_slice(&bytes).map_err(|e| error::malformed(WHAT, &e, self.key()))
    }

    /// A streamed answer (the body must say `"stream": true`).
    pub(crate) async fn stream(&self, body: &wire::MessagesRequest<'_>) -> Result<EventStream> {
        let resp = self.send(body).await?;
        Ok(EventStream::new(resp, self.timeout, self.key.0.clone()))
    }
}

/// A page of `GET /v1/models`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ModelPage {
    pub(crate) data: Vec<ListedModel>,
    pub(crate) has_more: bool,
    pub(crate) last_id: Option<String>,
}

/// One model of `GET /v1/models`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ListedModel {
    pub(crate) id: String,
    pub(crate) display_name: Option<String>,
}
