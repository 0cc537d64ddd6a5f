//! The HTTP side: one `reqwest::Client` per plugin, the key in `x-goog-api-key`,
//! timeouts, and error mapping. Streams are read through [`EventStream`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use genkit_core::{Error, Result, Status};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error;
use crate::server::LocalGemini;
use crate::sse::{SseError, SseParser};
use crate::wire;

/// The API key. Its `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct ApiKey(pub(crate) String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// How the plugin's HTTP client connects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Connections {
    /// Idle connections kept.
    pub(crate) max_idle: usize,
    /// HTTP/2 from the first byte (h2c on `http://`).
    pub(crate) http2_prior_knowledge: bool,
}

/// What every model and embedder of one plugin instance shares.
pub(crate) struct Client {
    http: reqwest::Client,
    base_url: String,
    /// `base_url` parsed once, when it parses (and has no query or fragment).
    base: Option<reqwest::Url>,
    api_version: String,
    key: ApiKey,
    timeout: Duration,
    /// Keeps an in-process local server alive as long as the models that use it.
    _local: Option<Arc<LocalGemini>>,
}

impl Client {
    pub(crate) fn new(
        base_url: &str,
        api_version: &str,
        key: ApiKey,
        timeout: Duration,
        connections: Connections,
        local: Option<Arc<LocalGemini>>,
    ) -> Result<Client> {
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_str(&key.0).map_err(|_| {
            Error::invalid_argument(
                "the Gemini API key contains characters that cannot go in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        headers.insert("x-goog-api-key", value);
        headers.insert(
            "x-goog-api-client",
            HeaderValue::from_static(concat!("genkit-rust/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut http = reqwest::Client::builder();
        if connections.http2_prior_knowledge {
            http = http.http2_prior_knowledge();
        }
        let http = http
            .pool_max_idle_per_host(connections.max_idle)
            .default_headers(headers)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            base: reqwest::Url::parse(base_url.trim_end_matches('/'))
                .ok()
                .filter(|u| u.query().is_none() && u.fragment().is_none() && !u.cannot_be_a_base()),
            api_version: api_version.to_string(),
            key,
            timeout,
            _local: local,
        })
    }

    /// The method's URL, built on the parsed base URL: per call only the path is
    /// parsed, not the whole URL again (as reqwest does with a text URL). `None` when
    /// the base URL does not parse; [`url`](Self::url) then gives reqwest the text,
    /// and the call fails with reqwest's error as before.
    fn parsed_url(&self, model: &str, method: &str) -> Option<reqwest::Url> {
        let mut url = self.base.clone()?;
        let (path, query) = self.method_path(url.path().trim_end_matches('/'), model, method);
        url.set_path(&path);
        url.set_query(query);
        Some(url)
    }

    /// The method's URL as text.
    fn url(&self, model: &str, method: &str) -> String {
        let (mut url, query) = self.method_path(&self.base_url, model, method);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        url
    }

    /// `{base}/{version}/models/{model}:{method}`, and the query the method needs.
    fn method_path(&self, base: &str, model: &str, method: &str) -> (String, Option<&'static str>) {
        let path = format!("{base}/{}/models/{model}:{method}", self.api_version);
        (
            path,
            (method == "streamGenerateContent").then_some("alt=sse"),
        )
    }

    fn key(&self) -> &str {
        &self.key.0
    }

    /// POSTs a serialized JSON body, within the timeout.
    async fn send_json(
        &self,
        model: &str,
        method: &str,
        bytes: Vec<u8>,
    ) -> Result<reqwest::Response> {
        tokio::time::timeout(self.timeout, self.post(model, method, bytes))
            .await
            .map_err(|_| error::timeout(&format!("{method} {model}"), self.timeout))?
    }

    /// POSTs a serialized JSON body; the caller bounds the time (one timer per call).
    async fn post(&self, model: &str, method: &str, bytes: Vec<u8>) -> Result<reqwest::Response> {
        // Only error paths need the label: build it there.
        let what = || format!("{method} {model}");
        let request = match self.parsed_url(model, method) {
            Some(url) => self.http.post(url),
            None => self.http.post(self.url(model, method)),
        };
        let resp = match request.body(bytes).send().await {
            Err(e) => return Err(error::from_transport(&e, &what(), self.key())),
            Ok(r) => r,
        };
        let code = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match tokio::time::timeout(self.timeout, resp.bytes()).await {
            Ok(Ok(b)) => b,
            _ => Bytes::new(),
        };
        Err(error::from_http(
            code,
            retry_after.as_deref(),
            &body,
            self.key(),
        ))
    }

    /// POSTs and parses a JSON answer, all within the timeout.
    async fn call<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        model: &str,
        method: &str,
        body: &T,
    ) -> Result<R> {
        self.call_json(model, method, serde_json::to_vec(body)?)
            .await
    }

    /// POSTs a serialized JSON body and parses a JSON answer, all within the timeout.
    async fn call_json<R: DeserializeOwned>(
        &self,
        model: &str,
        method: &str,
        bytes: Vec<u8>,
    ) -> Result<R> {
        // Only error paths need the label: build it there.
        let what = || format!("{method} {model}");
        let fut = async {
            let resp = self.post(model, method, bytes).await?;
            resp.bytes()
                .await
                .map_err(|e| error::from_transport(&e, &what(), self.key()))
        };
        let bytes = tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| error::timeout(&what(), self.timeout))??;
        serde_json::from_slice(&bytes).map_err(|e| error::malformed(&what(), &e, self.key()))
    }

    /// `models/{model}:generateContent` with a serialized `GenerateContentRequest`.
    pub(crate) async fn generate(
        &self,
        model: &str,
        body: Vec<u8>,
    ) -> Result<wire::GenerateContentResponse> {
        self.call_json(model, "generateContent", body).await
    }

    /// `models/{model}:streamGenerateContent?alt=sse` with a serialized
    /// `GenerateContentRequest`.
    pub(crate) async fn stream(&self, model: &str, body: Vec<u8>) -> Result<EventStream> {
        let resp = self.send_json(model, "streamGenerateContent", body).await?;
        Ok(EventStream {
            body: genkit_core::Prefetch::new(resp.bytes_stream()).boxed(),
            parser: SseParser::new(),
            failed: None,
            ready: VecDeque::new(),
            done: false,
            timeout: self.timeout,
            idle: genkit_core::IdleTimeout::new(self.timeout),
            key: self.key.clone(),
            what: format!("streamGenerateContent {model}"),
        })
    }

    /// `models/{model}:embedContent`.
    pub(crate) async fn embed(
        &self,
        model: &str,
        body: &wire::EmbedContentRequest,
    ) -> Result<wire::EmbedContentResponse> {
        self.call(model, "embedContent", body).await
    }

    /// `models/{model}:batchEmbedContents`.
    pub(crate) async fn batch_embed(
        &self,
        model: &str,
        body: &wire::BatchEmbedContentsRequest,
    ) -> Result<wire::BatchEmbedContentsResponse> {
        self.call(model, "batchEmbedContents", body).await
    }
}

impl Client {
    /// One page of `GET {base}/{version}/models?pageSize=1000`.
    pub(crate) async fn list_models(&self, page_token: Option<&str>) -> Result<ListModelsPage> {
        let what = || "list models".to_string();
        let url = format!(
            "{}/{}/models?pageSize=1000",
            self.base_url, self.api_version
        );
        // reqwest encodes the page token into the query.
        let token: &[(&str, &str)] = match page_token {
            Some(t) => &[("pageToken", t)],
            None => &[],
        };
        let fut = async {
            let resp = self
                .http
                .get(url)
                .query(token)
                .send()
                .await
                .map_err(|e| error::from_transport(&e, &what(), self.key()))?;
            let code = resp.status().as_u16();
            let ok = resp.status().is_success();
            let body = resp
                .bytes()
                .await
                .map_err(|e| error::from_transport(&e, &what(), self.key()))?;
            if !ok {
                return Err(error::from_http(code, None, &body, self.key()));
            }
            serde_json::from_slice(&body).map_err(|e| error::malformed(&what(), &e, self.key()))
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| error::timeout(&what(), self.timeout))?
    }
}

/// A page of `models.list`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ListModelsPage {
    pub(crate) models: Vec<ListedModel>,
    pub(crate) next_page_token: Option<String>,
}

/// One model of `models.list`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ListedModel {
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) supported_generation_methods: Vec<String>,
    pub(crate) input_token_limit: Option<u64>,
    pub(crate) output_token_limit: Option<u64>,
    pub(crate) thinking: Option<bool>,
}

/// The events of one `streamGenerateContent` answer, parsed as they arrive.
pub(crate) struct EventStream {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    ready: VecDeque<String>,
    /// A parse error met after the events in `ready`, returned once they are out.
    failed: Option<SseError>,
    done: bool,
    timeout: Duration,
    /// The wait for the next bytes, bounded by `timeout`.
    idle: genkit_core::IdleTimeout,
    key: ApiKey,
    what: String,
}

impl EventStream {
    /// The next event; `None` at the clean end of the stream. Waiting longer than the
    /// timeout for the next bytes is DEADLINE_EXCEEDED; a connection that breaks off,
    /// or ends inside an event, is UNAVAILABLE.
    pub(crate) async fn next(&mut self) -> Option<Result<wire::GenerateContentResponse>> {
        loop {
            if let Some(data) = self.ready.pop_front() {
                return Some(self.parse(&data));
            }
            if let Some(e) = self.failed.take() {
                return Some(Err(self.sse_error(e)));
            }
            if self.done {
                return None;
            }
            match self.idle.next(&mut self.body).await {
                Err(_) => {
                    self.done = true;
                    return Some(Err(error::timeout(&self.what, self.timeout)));
                }
                Ok(Some(Ok(bytes))) => match self.parser.push(&bytes) {
                    Ok(events) => {
                        self.ready.extend(events.into_iter().map(|e| e.data));
                        // Bad bytes after complete events: the events first, then
                        // the error (`ready` empty, `failed` set).
                        self.failed = self.parser.error().cloned();
                    }
                    Err(e) => return Some(Err(self.sse_error(e))),
                },
                Ok(Some(Err(e))) => {
                    self.done = true;
                    let err = error::from_transport(&e, &self.what, &self.key.0);
                    return Some(Err(Error::new(
                        Status::Unavailable,
                        format!("the Gemini stream broke off: {}", err.message()),
                    )));
                }
                Ok(None) => {
                    self.done = true;
                    if let Err(e) = self.parser.finish() {
                        return Some(Err(self.sse_error(e)));
                    }
                }
            }
        }
    }

    fn stop(&mut self) {
        self.done = true;
        self.ready.clear();
        self.failed = None;
    }

    fn sse_error(&mut self, e: SseError) -> Error {
        self.done = true;
        self.ready.clear();
        let status = match e {
            SseError::Incomplete => Status::Unavailable,
            _ => Status::Internal,
        };
        Error::new(status, format!("{}: {e}", self.what))
    }

    fn parse(&mut self, data: &str) -> Result<wire::GenerateContentResponse> {
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                self.stop();
                return Err(error::malformed(&self.what, &e, &self.key.0));
            }
        };
        if let Some(err) = v.get("error") {
            self.stop();
            return Err(error::from_stream_error(err, &self.key.0));
        }
        serde_json::from_value(v).map_err(|e| {
            self.stop();
            error::malformed(&self.what, &e, &self.key.0)
        })
    }
}
