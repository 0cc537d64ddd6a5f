//! [`Anthropic`]: the plugin value, its settings, where it gets its key, and how it
//! resolves `anthropic/{any model}`.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use genkit_core::{ActionListing, Error, ModelRef, Plugin, Registry, Result, Status};

use crate::client::{ApiKey, Client};
use crate::model;
use crate::server::LocalAnthropic;

/// Anthropic's endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header sent with every request.
pub const DEFAULT_VERSION: &str = "2023-06-01";
/// The environment variable the key is read from (as Anthropic's SDKs read it).
pub const KEY_VAR: &str = "ANTHROPIC_API_KEY";
/// The environment variable that overrides the base URL (as Anthropic's SDKs read it).
pub const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";
/// Models registered up front and listed for the Dev UI (as `anthropic/{name}`); any
/// other `anthropic/{name}` resolves on its first use.
pub const KNOWN_MODELS: [&str; 9] = [
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-opus-4-5",
    "claude-haiku-4-5",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5",
    "claude-opus-4-1",
    "claude-sonnet-4",
    "claude-opus-4",
];
/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The key the plugin sends to an in-process local server (which accepts any key).
const LOCAL_KEY: &str = "local-anthropic";
const PREFIX: &str = "anthropic/";

/// The Anthropic plugin: `anthropic/{model}` models that call the Messages API.
///
/// ```no_run
/// # async fn demo() -> genkit_core::Result<()> {
/// use genkit_anthropic::Anthropic;
/// let ai = genkit_core::Genkit::builder()
///     .plugin(Anthropic::from_env()?)
///     .model("anthropic/claude-sonnet-4-5")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Anthropic {
    key: ApiKey,
    base_url: String,
    version: String,
    models: Vec<String>,
    timeout: Duration,
    local: Option<Arc<LocalAnthropic>>,
    /// Built by `init`, shared by every model (also those resolved later).
    client: Arc<OnceLock<Arc<Client>>>,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("key", &self.key)
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("models", &self.models)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Which Claude [`Anthropic::from_env_or_local`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// The Anthropic API (or the endpoint of `ANTHROPIC_BASE_URL`), with the key of
    /// `ANTHROPIC_API_KEY`.
    Api {
        /// Where requests go.
        base_url: String,
    },
    /// The in-process [`LocalAnthropic`] server, because no key was set.
    Local {
        /// Where requests go (`http://127.0.0.1:{port}`).
        base_url: String,
    },
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Api { base_url } => {
                write!(f, "Anthropic API at {base_url} (key from {KEY_VAR})")
            }
            Backend::Local { base_url } => write!(
                f,
                "local Anthropic-compatible server at {base_url} ({KEY_VAR} is not set)"
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

impl Anthropic {
    /// A plugin with this key. The base URL is `ANTHROPIC_BASE_URL` when set, else
    /// Anthropic's.
    pub fn new(api_key: impl Into<String>) -> Self {
        Anthropic {
            key: ApiKey(api_key.into()),
            base_url: env_nonempty(BASE_URL_VAR).map_or_else(
                || DEFAULT_BASE_URL.to_string(),
                |u| u.trim_end_matches('/').to_string(),
            ),
            version: DEFAULT_VERSION.to_string(),
            models: KNOWN_MODELS.iter().map(|s| s.to_string()).collect(),
            timeout: DEFAULT_TIMEOUT,
            local: None,
            client: Arc::default(),
        }
    }

    /// A plugin with the key of `ANTHROPIC_API_KEY`; FAILED_PRECONDITION naming it when
    /// it is not set.
    pub fn from_env() -> Result<Self> {
        let key = env_nonempty(KEY_VAR).ok_or_else(missing_key)?;
        Ok(Anthropic::new(key))
    }

    /// The key from the environment when set (as [`from_env`](Self::from_env));
    /// otherwise starts a [`LocalAnthropic`] server in this process and points the
    /// plugin at it. The [`Backend`] says which (print it). The local server lives as
    /// long as the plugin's models.
    pub async fn from_env_or_local() -> Result<(Self, Backend)> {
        if let Ok(ai) = Anthropic::from_env() {
            let backend = Backend::Api {
                base_url: ai.base_url.clone(),
            };
            return Ok((ai, backend));
        }
        let server = LocalAnthropic::start().await.map_err(|e| {
            Error::unavailable(format!("cannot start the local Anthropic server: {e}"))
        })?;
        let base_url = server.base_url();
        let mut ai = Anthropic::new(LOCAL_KEY).with_base_url(&base_url);
        ai.local = Some(Arc::new(server));
        Ok((ai, Backend::Local { base_url }))
    }

    /// Sends requests to another Anthropic-compatible endpoint (scheme, host, port).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }

    /// Sends another `anthropic-version` than `2023-06-01`.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Also registers `anthropic/{name}` up front and lists it (an `anthropic/` prefix
    /// is accepted). Any name resolves on first use without this.
    pub fn with_model(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        let name = name.strip_prefix(PREFIX).unwrap_or(&name).to_string();
        if !self.models.contains(&name) {
            self.models.push(name);
        }
        self
    }

    /// How long a request may take (for a stream: to start, and between two pieces).
    /// Default: 600 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The names (without `anthropic/`) of the models it registers up front.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// The in-process local server, when [`from_env_or_local`](Self::from_env_or_local)
    /// started one.
    pub fn local_server(&self) -> Option<&LocalAnthropic> {
        self.local.as_deref()
    }

    fn client(&self) -> Result<Arc<Client>> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let c = Arc::new(Client::new(
            &self.base_url,
            &self.version,
            self.key.clone(),
            self.timeout,
            self.local.clone(),
        )?);
        Ok(self.client.get_or_init(|| c).clone())
    }
}

fn missing_key() -> Error {
    Error::new(
        Status::FailedPrecondition,
        format!("no Anthropic API key: set {KEY_VAR} (or pass the key to Anthropic::new)"),
    )
}

impl Plugin for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn init(&self, registry: &Registry) -> Result<()> {
        let client = self.client()?;
        for m in &self.models {
            registry.register_model(Arc::new(model::model_action(m, client.clone())))?;
        }
        Ok(())
    }

    /// Any `anthropic/{name}`: the API says whether the model exists (its 404 is the
    /// call's NOT_FOUND).
    fn resolve_model(&self, name: &str) -> Option<ModelRef> {
        let short = name.strip_prefix(PREFIX).filter(|s| !s.is_empty())?;
        let client = self.client().ok()?;
        Some(Arc::new(model::model_action(short, client)))
    }

    fn list_models(&self) -> Vec<String> {
        self.models.iter().map(|m| format!("{PREFIX}{m}")).collect()
    }

    /// The API's `GET /v1/models` (every page): each model as `anthropic/{id}`, with
    /// its family's info labelled with its `display_name`. The registered models are
    /// listed too.
    fn list_actions(&self) -> BoxFuture<'_, Result<Vec<ActionListing>>> {
        Box::pin(async move {
            let client = self.client()?;
            let mut out: Vec<ActionListing> = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..MAX_LIST_PAGES {
                let page = client.list_models(after.as_deref()).await?;
                for m in &page.data {
                    if m.id.is_empty() {
                        continue;
                    }
                    let mut info = model::claude_info(&m.id);
                    if let Some(label) = m.display_name.as_deref().filter(|l| !l.is_empty()) {
                        info.label = Some(format!("Anthropic - {label}"));
                    }
                    out.push(ActionListing::model(format!("{PREFIX}{}", m.id)).with_info(info));
                }
                after = page.last_id.filter(|id| page.has_more && !id.is_empty());
                if after.is_none() {
                    break;
                }
            }
            for name in self.list_models() {
                if !out.iter().any(|l| l.name == name) {
                    out.push(ActionListing::model(name));
                }
            }
            Ok(out)
        })
    }
}

/// Pages of `GET /v1/models` read at most (1,000 models a page).
const MAX_LIST_PAGES: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_debug_and_resolution() {
        let p = Anthropic::new("sk-ant-sekret-123")
            .with_model("anthropic/claude-x")
            .with_model("claude-x");
        assert_eq!(p.models().iter().filter(|m| *m == "claude-x").count(), 1);
        assert!(!format!("{p:?}").contains("sekret"));
        assert!(
            p.list_models()
                .contains(&"anthropic/claude-sonnet-4-5".to_string())
        );
        let m = p
            .resolve_model("anthropic/claude-3-haiku-20240307")
            .unwrap();
        assert_eq!(m.name(), "anthropic/claude-3-haiku-20240307");
        assert!(p.resolve_model("openai/gpt-4o").is_none());
        assert!(p.resolve_model("anthropic/").is_none());
    }

    #[test]
    fn missing_key_names_the_variable_and_bad_keys_are_not_echoed() {
        assert!(missing_key().message().contains(KEY_VAR));
        let e = Anthropic::new("bad\nkey-value").client().err().unwrap();
        assert_eq!(e.status(), Status::InvalidArgument);
        assert!(!e.message().contains("key-value"));
    }
}
