//! [`OpenAi`]: the plugin value for OpenAI and for any OpenAI-compatible server, its
//! settings, and where it gets its key.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use genkit_core::embedder::EmbedderRef;
use genkit_core::{ActionListing, Error, ModelRef, Plugin, Registry, Result, Status};

use crate::client::{ApiKey, Client};
use crate::server::{LocalOpenAi, ServerOptions};
use crate::translate::Dialect;
use crate::{embedder, model};

/// OpenAI's endpoint (what the official SDKs use).
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The environment variable of the OpenAI key.
pub const KEY_VAR: &str = "OPENAI_API_KEY";
/// The environment variable that overrides the base URL (as OpenAI's SDKs read it).
pub const BASE_URL_VAR: &str = "OPENAI_BASE_URL";
/// Where Ollama listens (`host:port` or a URL), as the `ollama` CLI reads it.
pub const OLLAMA_HOST_VAR: &str = "OLLAMA_HOST";
/// Ollama's default address.
pub const OLLAMA_DEFAULT_HOST: &str = "http://127.0.0.1:11434";
/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// OpenAI models listed for the Dev UI (as `openai/{name}`). Any other `openai/{name}` is
/// resolved on its first use all the same.
pub const KNOWN_MODELS: [&str; 11] = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "o3",
    "o3-mini",
    "o4-mini",
];
/// OpenAI embedders listed for the Dev UI.
pub const KNOWN_EMBEDDERS: [&str; 3] = [
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
];

/// A known OpenAI-compatible service: plugin name, label, base URL, key variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preset {
    /// The plugin name (model prefix).
    pub name: &'static str,
    /// The label in errors and the Dev UI.
    pub label: &'static str,
    /// Its endpoint.
    pub base_url: &'static str,
    /// The environment variable of its key.
    pub key_var: &'static str,
}

/// DeepSeek (`deepseek/deepseek-chat`, `deepseek/deepseek-reasoner`).
pub const DEEPSEEK: Preset = Preset {
    name: "deepseek",
    label: "DeepSeek",
    base_url: "https://api.deepseek.com/v1",
    key_var: "DEEPSEEK_API_KEY",
};
/// xAI (`xai/grok-4`).
pub const XAI: Preset = Preset {
    name: "xai",
    label: "xAI",
    base_url: "https://api.x.ai/v1",
    key_var: "XAI_API_KEY",
};
/// Groq (`groq/llama-3.3-70b-versatile`).
pub const GROQ: Preset = Preset {
    name: "groq",
    label: "Groq",
    base_url: "https://api.groq.com/openai/v1",
    key_var: "GROQ_API_KEY",
};
/// OpenRouter (`openrouter/anthropic/claude-sonnet-4.5`, …).
pub const OPENROUTER: Preset = Preset {
    name: "openrouter",
    label: "OpenRouter",
    base_url: "https://openrouter.ai/api/v1",
    key_var: "OPENROUTER_API_KEY",
};

/// The OpenAI plugin: `openai/{model}` models and `openai/{embedder}` embedders over
/// the Chat Completions and Embeddings APIs; under another name and base URL, the same
/// for any OpenAI-compatible server ([`OpenAi::compatible`], [`OpenAi::ollama`],
/// [`OpenAi::preset`]), as Genkit's `openAICompatible({name, baseURL})`.
///
/// Models need not be declared: any `openai/{name}` is resolved on its first use.
///
/// ```no_run
/// # async fn demo() -> genkit_core::Result<()> {
/// use genkit_openai::OpenAi;
/// let ai = genkit_core::Genkit::builder()
///     .plugin(OpenAi::from_env()?)
///     .plugin(OpenAi::ollama())
///     .model("openai/gpt-4o-mini")
///     .build()
///     .await?;
/// let local = ai.generate().model("ollama/llama3.2").prompt("Hi").await?;
/// # Ok(()) }
/// ```
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct OpenAi {
    name: String,
    label: String,
    dialect: Dialect,
    key: ApiKey,
    base_url: String,
    models: Vec<String>,
    embedders: Vec<String>,
    timeout: Duration,
    local: Option<Arc<LocalOpenAi>>,
    /// Built by `init`; shared by every model and embedder, resolved ones too.
    client: OnceLock<Arc<Client>>,
}

impl fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAi")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("base_url", &self.base_url)
            .field("models", &self.models)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Which server [`OpenAi::from_env_or_local`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// The real API (or `OPENAI_BASE_URL`), with a key.
    Remote {
        /// Where requests go.
        base_url: String,
        /// The environment variable the key came from.
        key_var: &'static str,
    },
    /// The in-process [`LocalOpenAi`] server, because no key was set.
    Local {
        /// Where requests go.
        base_url: String,
    },
}

impl Backend {
    /// True for the local server.
    pub fn is_local(&self) -> bool {
        matches!(self, Backend::Local { .. })
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Remote { base_url, key_var } => write!(f, "{base_url} (key from {key_var})"),
            Backend::Local { base_url } => write!(
                f,
                "local OpenAI-compatible server at {base_url} ({KEY_VAR} is not set)"
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

/// `OLLAMA_HOST` (`host:port`, `:port` or a URL) as a base URL ending in `/v1`.
pub fn ollama_base_url(host: Option<&str>) -> String {
    let host = host
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .unwrap_or(OLLAMA_DEFAULT_HOST);
    let host = host.trim_end_matches('/');
    let with_scheme = if host.contains("://") {
        host.to_string()
    } else if let Some(port) = host.strip_prefix(':') {
        format!("http://127.0.0.1:{port}")
    } else {
        format!("http://{host}")
    };
    format!("{with_scheme}/v1")
}

impl OpenAi {
    fn build(name: &str, label: &str, dialect: Dialect, key: String, base_url: String) -> OpenAi {
        OpenAi {
            name: name.to_string(),
            label: label.to_string(),
            dialect,
            key: ApiKey(key),
            base_url: base_url.trim_end_matches('/').to_string(),
            models: Vec::new(),
            embedders: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            local: None,
            client: OnceLock::new(),
        }
    }

    /// OpenAI with this key. The base URL is `OPENAI_BASE_URL` when set, else OpenAI's.
    pub fn new(api_key: impl Into<String>) -> Self {
        let base = env_nonempty(BASE_URL_VAR).unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        Self::build("openai", "OpenAI", Dialect::OpenAi, api_key.into(), base)
    }

    /// OpenAI with the key of `OPENAI_API_KEY`; FAILED_PRECONDITION when it is not set.
    pub fn from_env() -> Result<Self> {
        let key = env_nonempty(KEY_VAR).ok_or_else(|| missing_key("OpenAI", KEY_VAR))?;
        Ok(OpenAi::new(key))
    }

    /// OpenAI with `OPENAI_API_KEY` when set; otherwise a [`LocalOpenAi`] server started
    /// in this process (it lives as long as the plugin's models). [`Backend`] says which.
    pub async fn from_env_or_local() -> Result<(Self, Backend)> {
        if let Some(key) = env_nonempty(KEY_VAR) {
            let ai = OpenAi::new(key);
            let backend = Backend::Remote {
                base_url: ai.base_url.clone(),
                key_var: KEY_VAR,
            };
            return Ok((ai, backend));
        }
        let server = LocalOpenAi::start().await.map_err(|e| {
            Error::unavailable(format!("cannot start the local OpenAI server: {e}"))
        })?;
        let base_url = server.base_url();
        let ai = OpenAi::new("local-openai").with_local_server(server);
        Ok((ai, Backend::Local { base_url }))
    }

    /// Any OpenAI-compatible server: models `{name}/{model}` at `base_url` (ending in the
    /// API version, e.g. `http://localhost:8000/v1` for vLLM), no key unless
    /// [`with_api_key`](Self::with_api_key) gives one.
    pub fn compatible(name: impl Into<String>, base_url: impl Into<String>) -> Self {
        let name = name.into();
        Self::build(
            &name,
            &name,
            Dialect::Compatible,
            String::new(),
            base_url.into(),
        )
    }

    /// Ollama at `OLLAMA_HOST` (default `127.0.0.1:11434`), no key: `ollama/{model}`.
    pub fn ollama() -> Self {
        let base = ollama_base_url(env_nonempty(OLLAMA_HOST_VAR).as_deref());
        Self::build("ollama", "Ollama", Dialect::Compatible, String::new(), base)
    }

    /// A known service ([`DEEPSEEK`], [`XAI`], [`GROQ`], [`OPENROUTER`]) with the key of its
    /// environment variable; FAILED_PRECONDITION naming it when it is not set.
    pub fn preset(preset: Preset) -> Result<Self> {
        let key = env_nonempty(preset.key_var)
            .ok_or_else(|| missing_key(preset.label, preset.key_var))?;
        Ok(Self::build(
            preset.name,
            preset.label,
            Dialect::Compatible,
            key,
            preset.base_url.to_string(),
        ))
    }

    /// Sends this key as the bearer token.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.key = ApiKey(key.into());
        self
    }

    /// Sends requests to another endpoint (ending in the API version: `…/v1`).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }

    /// Points the plugin at a [`LocalOpenAi`] server and keeps it running as long as the
    /// plugin's models.
    pub fn with_local_server(mut self, server: LocalOpenAi) -> Self {
        self.base_url = server.base_url();
        self.local = Some(Arc::new(server));
        self
    }

    /// The label in errors and the Dev UI (`OpenAI`, `Ollama`).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Registers `{name}/{model}` up front (a `{name}/` prefix is accepted) and lists it
    /// for the Dev UI. Not needed to call a model: any name resolves on first use.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        let m = self.short_name(model.into());
        if !self.models.contains(&m) {
            self.models.push(m);
        }
        self
    }

    /// Registers the embedder `{name}/{model}` up front.
    pub fn with_embedder(mut self, model: impl Into<String>) -> Self {
        let m = self.short_name(model.into());
        if !self.embedders.contains(&m) {
            self.embedders.push(m);
        }
        self
    }

    /// How long a request may take (for a stream: to start, and between two events).
    /// Default: 300 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The plugin name (model prefix).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The in-process local server, when the plugin has one.
    pub fn local_server(&self) -> Option<&LocalOpenAi> {
        self.local.as_deref()
    }

    fn short_name(&self, name: String) -> String {
        match name
            .strip_prefix(&self.name)
            .and_then(|s| s.strip_prefix('/'))
        {
            Some(s) => s.to_string(),
            None => name,
        }
    }

    fn own<'a>(&self, name: &'a str) -> Option<&'a str> {
        name.strip_prefix(self.name.as_str())?
            .strip_prefix('/')
            .filter(|s| !s.is_empty())
    }

    fn model(&self, short: &str, client: Arc<Client>) -> ModelRef {
        Arc::new(model::model_action(
            &self.name,
            &self.label,
            short,
            self.dialect,
            client,
        ))
    }

    fn embedder(&self, short: &str, client: Arc<Client>) -> EmbedderRef {
        Arc::new(embedder::embedder_action(
            &self.name,
            &self.label,
            short,
            client,
        ))
    }

    fn known(&self, registered: &[String], known: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = registered.to_vec();
        if self.dialect == Dialect::OpenAi {
            names.extend(
                known
                    .iter()
                    .filter(|k| !registered.iter().any(|r| r == *k))
                    .map(|k| k.to_string()),
            );
        }
        names
            .into_iter()
            .map(|n| format!("{}/{n}", self.name))
            .collect()
    }
}

/// A plugin for the local server with the options given (for tests and benchmarks):
/// `openai/{model}` at `server`, with its key.
impl OpenAi {
    /// Starts a [`LocalOpenAi`] with `options` and returns a plugin named `name` on it
    /// (the OpenAI dialect for `openai`, compatible otherwise), keeping it alive.
    pub async fn local(name: &str, options: ServerOptions) -> Result<Self> {
        let key = options
            .api_key
            .clone()
            .unwrap_or_else(|| "local-openai".into());
        let server = LocalOpenAi::start_with(options).await.map_err(|e| {
            Error::unavailable(format!("cannot start the local OpenAI server: {e}"))
        })?;
        let plugin = if name == "openai" {
            OpenAi::new(key)
        } else {
            OpenAi::compatible(name, "").with_api_key(key)
        };
        Ok(plugin.with_local_server(server))
    }
}

fn missing_key(label: &str, var: &str) -> Error {
    Error::new(
        Status::FailedPrecondition,
        format!("no {label} API key: set {var} (or pass the key to the plugin)"),
    )
}

impl Plugin for OpenAi {
    fn name(&self) -> &str {
        &self.name
    }

    fn init(&self, registry: &Registry) -> Result<()> {
        let client = Client::new(
            &self.base_url,
            self.key.clone(),
            &self.label,
            self.timeout,
            self.local.clone(),
        )?;
        let client = self.client.get_or_init(|| Arc::new(client)).clone();
        for m in &self.models {
            registry.register_model(self.model(m, client.clone()))?;
        }
        for e in &self.embedders {
            registry.register_embedder(self.embedder(e, client.clone()))?;
        }
        Ok(())
    }

    /// Any `{name}/{model}`: the server says whether it exists when it is called (an
    /// unknown model is NOT_FOUND with the server's message).
    fn resolve_model(&self, name: &str) -> Option<ModelRef> {
        let short = self.own(name)?;
        Some(self.model(short, self.client.get()?.clone()))
    }

    fn resolve_embedder(&self, name: &str) -> Option<EmbedderRef> {
        let short = self.own(name)?;
        Some(self.embedder(short, self.client.get()?.clone()))
    }

    fn list_models(&self) -> Vec<String> {
        self.known(&self.models, &KNOWN_MODELS)
    }

    fn list_embedders(&self) -> Vec<String> {
        self.known(&self.embedders, &KNOWN_EMBEDDERS)
    }

    /// The server's `GET /models` (OpenAI, Ollama, vLLM…): every id as `{name}/{id}`, an
    /// embedder when its id says `embed`, with the family's info (the list says nothing
    /// of what a model supports); speech, image and moderation models are left out. The
    /// registered models and embedders are listed too.
    fn list_actions(&self) -> BoxFuture<'_, Result<Vec<ActionListing>>> {
        Box::pin(async move {
            let client = self
                .client
                .get()
                .ok_or_else(|| {
                    Error::failed_precondition(format!(
                        "the {} plugin is not initialized",
                        self.name
                    ))
                })?
                .clone();
            let mut out = Vec::new();
            for id in client.list_models().await? {
                if id.is_empty() || !listable(&id) {
                    continue;
                }
                let name = format!("{}/{id}", self.name);
                if id.contains("embed") {
                    out.push(ActionListing::embedder(name));
                } else {
                    out.push(ActionListing::model(name));
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

/// Whether a listed id is a chat or embedding model (not speech, image or moderation).
fn listable(id: &str) -> bool {
    ![
        "whisper",
        "tts",
        "dall-e",
        "moderation",
        "transcribe",
        "gpt-image",
    ]
    .iter()
    .any(|x| id.contains(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_urls_and_debug() {
        let p = OpenAi::new("sk-secret-123")
            .with_model("openai/gpt-x")
            .with_model("gpt-x");
        assert_eq!(p.models, vec!["gpt-x".to_string()]);
        assert!(!format!("{p:?}").contains("sk-secret-123"));
        assert_eq!(p.own("openai/gpt-4o"), Some("gpt-4o"));
        assert_eq!(p.own("openai/"), None);
        assert_eq!(p.own("openaix/gpt"), None);
        assert!(p.list_models().contains(&"openai/gpt-4o-mini".to_string()));
        assert_eq!(ollama_base_url(None), "http://127.0.0.1:11434/v1");
        assert_eq!(
            ollama_base_url(Some("0.0.0.0:9999")),
            "http://0.0.0.0:9999/v1"
        );
        assert_eq!(ollama_base_url(Some(":7000")), "http://127.0.0.1:7000/v1");
        assert_eq!(
            ollama_base_url(Some("https://o.example/")),
            "https://o.example/v1"
        );
        let c = OpenAi::compatible("vllm", "http://127.0.0.1:8000/v1/");
        assert_eq!(c.base_url(), "http://127.0.0.1:8000/v1");
        assert!(c.list_models().is_empty());
    }

    #[test]
    fn missing_keys_name_their_variable() {
        let e = missing_key("DeepSeek", DEEPSEEK.key_var);
        assert_eq!(e.status(), Status::FailedPrecondition);
        assert!(e.message().contains("DEEPSEEK_API_KEY"));
    }
}
