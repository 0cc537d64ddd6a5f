//! [`GoogleAi`]: the plugin value, its settings, and where it gets its key.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use genkit_core::embedder::EmbedderRef;
use genkit_core::{ActionListing, Error, ModelRef, Plugin, Registry, Result, Status};
use serde_json::json;

use crate::client::{ApiKey, Client, Connections};
use crate::server::LocalGemini;
use crate::{embedder, model};

/// Google's endpoint.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// The API version in every path.
pub const DEFAULT_API_VERSION: &str = "v1beta";
/// The environment variables the key is read from, in order (as Genkit's plugin reads them).
pub const KEY_VARS: [&str; 3] = ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_API_KEY"];
/// The environment variable that overrides the base URL (as Google's SDKs read it).
pub const BASE_URL_VAR: &str = "GOOGLE_GEMINI_BASE_URL";
/// Models registered by default (as `googleai/{name}`).
pub const DEFAULT_MODELS: [&str; 3] = ["gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro"];
/// Embedders registered by default (as `googleai/{name}`).
pub const DEFAULT_EMBEDDERS: [&str; 2] = ["text-embedding-004", "gemini-embedding-001"];
/// The models listed for the Dev UI (as `googleai/{name}`), besides the registered ones.
/// Any other `googleai/{name}` is resolved on its first use all the same.
pub const KNOWN_MODELS: [&str; 8] = [
    "gemini-2.0-flash",
    "gemini-2.0-flash-lite",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-3-pro-preview",
    "gemma-3-27b-it",
    "gemma-3-12b-it",
];
/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How many idle connections to the API the plugin keeps by default (see
/// [`GoogleAi::with_max_idle_connections`]).
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 64;

/// The key the plugin sends to an in-process local server (which accepts any key).
const LOCAL_KEY: &str = "local-gemini";

/// The Gemini plugin: registers `googleai/{model}` models and `googleai/{embedder}`
/// embedders that call the Gemini REST API.
///
/// ```no_run
/// # async fn demo() -> genkit_core::Result<()> {
/// use genkit_googleai::GoogleAi;
/// let ai = genkit_core::Genkit::builder()
///     .plugin(GoogleAi::from_env()?)
///     .model("googleai/gemini-2.0-flash")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct GoogleAi {
    key: ApiKey,
    base_url: String,
    api_version: String,
    models: Vec<String>,
    embedders: Vec<String>,
    timeout: Duration,
    max_idle: usize,
    http2_prior_knowledge: bool,
    local: Option<Arc<LocalGemini>>,
    /// Built by `init`; shared by every model and embedder, resolved ones too.
    client: OnceLock<Arc<Client>>,
}

impl fmt::Debug for GoogleAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleAi")
            .field("key", &self.key)
            .field("base_url", &self.base_url)
            .field("models", &self.models)
            .field("embedders", &self.embedders)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Which Gemini [`GoogleAi::from_env_or_local`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// The Gemini API (or the endpoint of `GOOGLE_GEMINI_BASE_URL`), with a key.
    Gemini {
        /// Where requests go.
        base_url: String,
        /// The environment variable the key came from.
        key_var: &'static str,
    },
    /// The in-process [`LocalGemini`] server, because no key was set.
    Local {
        /// Where requests go (`http://127.0.0.1:{port}`).
        base_url: String,
    },
}

impl Backend {
    /// True for the local server.
    pub fn is_local(&self) -> bool {
        matches!(self, Backend::Local { .. })
    }

    /// Where requests go.
    pub fn base_url(&self) -> &str {
        match self {
            Backend::Gemini { base_url, .. } | Backend::Local { base_url } => base_url,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Gemini { base_url, key_var } => {
                write!(f, "Gemini API at {base_url} (key from {key_var})")
            }
            Backend::Local { base_url } => write!(
                f,
                "local Gemini-compatible server at {base_url} (none of {} is set)",
                KEY_VARS.join(", ")
            ),
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn key_from_env() -> Option<(&'static str, String)> {
    KEY_VARS
        .iter()
        .find_map(|v| env_nonempty(v).map(|k| (*v, k)))
}

impl GoogleAi {
    /// A plugin with this key. The base URL is `GOOGLE_GEMINI_BASE_URL` when set, else
    /// Google's.
    pub fn new(api_key: impl Into<String>) -> Self {
        GoogleAi {
            key: ApiKey(api_key.into()),
            base_url: env_nonempty(BASE_URL_VAR).unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            api_version: DEFAULT_API_VERSION.to_string(),
            models: DEFAULT_MODELS.iter().map(|s| s.to_string()).collect(),
            embedders: DEFAULT_EMBEDDERS.iter().map(|s| s.to_string()).collect(),
            timeout: DEFAULT_TIMEOUT,
            max_idle: DEFAULT_MAX_IDLE_CONNECTIONS,
            http2_prior_knowledge: false,
            local: None,
            client: OnceLock::new(),
        }
    }

    /// A plugin with the key of `GEMINI_API_KEY`, else `GOOGLE_API_KEY`, else
    /// `GOOGLE_GENAI_API_KEY`; FAILED_PRECONDITION naming them when none is set.
    pub fn from_env() -> Result<Self> {
        let (_, key) = key_from_env().ok_or_else(missing_key)?;
        Ok(GoogleAi::new(key))
    }

    /// The key from the environment when one is set (as [`from_env`](Self::from_env));
    /// otherwise starts a [`LocalGemini`] server in this process and points the plugin
    /// at it. Both paths build the same plugin; only the base URL differs. The
    /// [`Backend`] says which was chosen (print it). The local server lives as long as
    /// the plugin's models.
    pub async fn from_env_or_local() -> Result<(Self, Backend)> {
        if let Some((key_var, key)) = key_from_env() {
            let ai = GoogleAi::new(key);
            let backend = Backend::Gemini {
                base_url: ai.base_url.clone(),
                key_var,
            };
            return Ok((ai, backend));
        }
        let server = LocalGemini::start().await.map_err(|e| {
            Error::unavailable(format!("cannot start the local Gemini server: {e}"))
        })?;
        let base_url = server.base_url();
        // The look-alike speaks HTTP/2 as Gemini does: one connection for every call.
        let mut ai = GoogleAi::new(LOCAL_KEY)
            .with_base_url(&base_url)
            .with_http2_prior_knowledge();
        ai.local = Some(Arc::new(server));
        Ok((ai, Backend::Local { base_url }))
    }

    /// Sends requests to another Gemini-compatible endpoint (scheme, host, port).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }

    /// Uses another API version than `v1beta`.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Also registers `googleai/{name}` (a `googleai/` prefix is accepted). Not needed to
    /// call a model: any `googleai/{name}` is resolved on its first use; this registers
    /// it up front.
    pub fn with_model(mut self, name: impl Into<String>) -> Self {
        let name = short_name(name.into());
        if !self.models.contains(&name) {
            self.models.push(name);
        }
        self
    }

    /// Also registers the embedder `googleai/{name}`.
    pub fn with_embedder(mut self, name: impl Into<String>) -> Self {
        let name = short_name(name.into());
        if !self.embedders.contains(&name) {
            self.embedders.push(name);
        }
        self
    }

    /// How long a request may take (for a stream: to start, and between two pieces).
    /// Default: 300 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many idle connections to the API to keep (default
    /// [`DEFAULT_MAX_IDLE_CONNECTIONS`], 64); one beyond them is closed when its call
    /// ends. Calls in flight are not limited: a burst of 1,000 calls opens what it
    /// needs, and afterwards 64 stay. Each HTTP/1 connection holds ~30 KB of buffers
    /// (more with TLS), and the connection pool opens a spare one whenever a call
    /// starts while all are busy, so without a bound a process with 1,000 calls in
    /// flight kept ~1,900 connections (agents benchmark: peak RSS 114 -> 98 MiB at
    /// 64, same turns/s). `usize::MAX` keeps every one (reqwest's default).
    pub fn with_max_idle_connections(mut self, max: usize) -> Self {
        self.max_idle = max;
        self
    }

    /// Speaks HTTP/2 from the first byte, also on an `http://` URL (h2c), for a server
    /// known to speak it, such as [`LocalGemini`] (which
    /// [`from_env_or_local`](Self::from_env_or_local) starts with this set). Over
    /// `https://`, Gemini's own endpoint included, HTTP/2 is negotiated anyway (ALPN);
    /// this is only needed without TLS. A server that speaks only HTTP/1 refuses every
    /// call (UNAVAILABLE).
    ///
    /// HTTP/2 carries every call in flight over one connection, where HTTP/1 needs one
    /// connection (~30 KB of buffers) per call: 1,000 agent turns in flight peak at
    /// ~72 MiB instead of ~94 MiB, at higher turns/s (BENCHMARKS.md, agents).
    pub fn with_http2_prior_knowledge(mut self) -> Self {
        self.http2_prior_knowledge = true;
        self
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The names (without `googleai/`) of the models it registers.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// The in-process local server, when [`from_env_or_local`](Self::from_env_or_local)
    /// started one.
    pub fn local_server(&self) -> Option<&LocalGemini> {
        self.local.as_deref()
    }
}

fn short_name(name: String) -> String {
    match name.strip_prefix("googleai/") {
        Some(s) => s.to_string(),
        None => name,
    }
}

fn missing_key() -> Error {
    Error::new(
        Status::FailedPrecondition,
        format!(
            "no Gemini API key: set {} (or pass the key to GoogleAi::new)",
            KEY_VARS.join(", ")
        ),
    )
}

impl Plugin for GoogleAi {
    fn name(&self) -> &str {
        "googleai"
    }

    fn init(&self, registry: &Registry) -> Result<()> {
        let client = Arc::new(Client::new(
            &self.base_url,
            &self.api_version,
            self.key.clone(),
            self.timeout,
            Connections {
                max_idle: self.max_idle,
                http2_prior_knowledge: self.http2_prior_knowledge,
            },
            self.local.clone(),
        )?);
        let client = self.client.get_or_init(|| client).clone();
        for m in &self.models {
            registry.register_model(Arc::new(model::model_action(m, client.clone())))?;
        }
        for e in &self.embedders {
            registry.register_embedder(Arc::new(embedder::embedder_action(e, client.clone())))?;
        }
        Ok(())
    }

    /// Any `googleai/{name}`: Gemini says whether it exists when it is called (an
    /// unknown model is NOT_FOUND with Google's message).
    fn resolve_model(&self, name: &str) -> Option<ModelRef> {
        let short = name.strip_prefix("googleai/").filter(|s| !s.is_empty())?;
        let client = self.client.get()?.clone();
        Some(Arc::new(model::model_action(short, client)))
    }

    fn resolve_embedder(&self, name: &str) -> Option<EmbedderRef> {
        let short = name.strip_prefix("googleai/").filter(|s| !s.is_empty())?;
        let client = self.client.get()?.clone();
        Some(Arc::new(embedder::embedder_action(short, client)))
    }

    fn list_models(&self) -> Vec<String> {
        let mut names: Vec<String> = self.models.clone();
        for known in KNOWN_MODELS {
            if !names.iter().any(|n| n == known) {
                names.push(known.to_string());
            }
        }
        names.into_iter().map(|n| format!("googleai/{n}")).collect()
    }

    fn list_embedders(&self) -> Vec<String> {
        self.embedders
            .iter()
            .map(|n| format!("googleai/{n}"))
            .collect()
    }

    /// Gemini's `GET /v1beta/models` (every page): the models that take
    /// `generateContent` and the embedders that take `embedContent`, labelled with
    /// their display name, with their family's info and, in `metadata.googleai`, the
    /// token limits the list gives. The registered models and embedders are listed too.
    fn list_actions(&self) -> BoxFuture<'_, Result<Vec<ActionListing>>> {
        Box::pin(async move {
            let client = self
                .client
                .get()
                .ok_or_else(|| {
                    Error::failed_precondition("the googleai plugin is not initialized")
                })?
                .clone();
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..MAX_LIST_PAGES {
                let page = client.list_models(token.as_deref()).await?;
                for m in page.models {
                    out.extend(listing_of(m));
                }
                token = page.next_page_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
            for name in self.list_models() {
                if !out.iter().any(|l| l.name == name) {
                    out.push(ActionListing::model(name));
                }
            }
            for name in self.list_embedders() {
                if !out.iter().any(|l| l.name == name) {
                    out.push(ActionListing::embedder(name));
                }
            }
            Ok(out)
        })
    }
}

/// Pages of `models.list` read at most (1,000 models a page).
const MAX_LIST_PAGES: usize = 20;

/// What one model of `models.list` lists: a model, an embedder, or both (by its
/// `supportedGenerationMethods`), or nothing.
fn listing_of(m: crate::client::ListedModel) -> Vec<ActionListing> {
    let id = m.name.strip_prefix("models/").unwrap_or(&m.name);
    if id.is_empty() {
        return Vec::new();
    }
    let name = format!("googleai/{id}");
    let mut limits = serde_json::Map::new();
    if let Some(n) = m.input_token_limit {
        limits.insert("inputTokenLimit".into(), json!(n));
    }
    if let Some(n) = m.output_token_limit {
        limits.insert("outputTokenLimit".into(), json!(n));
    }
    if let Some(t) = m.thinking {
        limits.insert("thinking".into(), json!(t));
    }
    if let Some(d) = &m.description {
        limits.insert("description".into(), json!(d));
    }
    if let Some(v) = &m.version {
        limits.insert("version".into(), json!(v));
    }
    let with_limits = |mut l: ActionListing| {
        if !limits.is_empty() {
            l = l.with_metadata("googleai", serde_json::Value::Object(limits.clone()));
        }
        l
    };
    let methods = &m.supported_generation_methods;
    let mut out = Vec::new();
    if methods.iter().any(|x| x == "generateContent") {
        let mut info = model::gemini_info(id);
        if let Some(label) = m.display_name.as_deref().filter(|l| !l.is_empty()) {
            info.label = Some(format!("Google AI - {label}"));
        }
        out.push(with_limits(
            ActionListing::model(name.clone()).with_info(info),
        ));
    }
    if methods.iter().any(|x| x == "embedContent") {
        out.push(with_limits(ActionListing::embedder(name)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_names_and_debug() {
        let p = GoogleAi::new("sekret-key-123")
            .with_model("googleai/gemini-x")
            .with_model("gemini-x");
        assert_eq!(p.models().iter().filter(|m| *m == "gemini-x").count(), 1);
        assert!(p.models().iter().any(|m| m == "gemini-2.0-flash"));
        assert!(!format!("{p:?}").contains("sekret-key-123"));
        let p = p.with_base_url("http://127.0.0.1:9/");
        assert_eq!(p.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn missing_key_names_every_variable() {
        let e = missing_key();
        assert_eq!(e.status(), Status::FailedPrecondition);
        for v in KEY_VARS {
            assert!(e.message().contains(v), "{e}");
        }
    }

    #[test]
    fn backend_says_which_was_used() {
        let b = Backend::Gemini {
            base_url: DEFAULT_BASE_URL.into(),
            key_var: "GEMINI_API_KEY",
        };
        assert_eq!(
            b.to_string(),
            "Gemini API at https://generativelanguage.googleapis.com (key from GEMINI_API_KEY)"
        );
        assert!(!b.is_local());
        let l = Backend::Local {
            base_url: "http://127.0.0.1:1".into(),
        };
        assert!(
            l.to_string()
                .starts_with("local Gemini-compatible server at http://127.0.0.1:1")
        );
    }

    #[tokio::test]
    async fn a_key_that_cannot_be_a_header_is_refused_without_echoing_it() {
        let registry = Registry::default();
        let e = GoogleAi::new("bad\nkey-value").init(&registry).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArgument);
        assert!(!e.message().contains("key-value"));
    }
}
