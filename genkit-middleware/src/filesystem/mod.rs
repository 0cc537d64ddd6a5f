//! `Filesystem`: file tools confined to one directory.

mod paths;
mod tools;

use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use genkit_core::{Error, Middleware, Result, ToolCall, ToolNext, ToolRef};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

pub use tools::{FILE_MAX_BYTES, LIST_MAX_ENTRIES, READ_MAX_BYTES};

use crate::config;
use paths::Root;

/// Gives the model file tools confined to a root directory, as Genkit's `filesystem`.
///
/// Tools (Genkit's names and arguments, each name after an optional prefix):
/// - `list_files {dirPath = "", recursive = false}` → `[{path, isDirectory,
///   sizeBytes}]`, paths relative to the listed directory (recursion skips hidden
///   directories and never follows symlinks; symlinks leading out are not listed);
/// - `read_file {filePath, offset = 0, limit = 0}` (1-indexed lines; 0 = all) →
///   `<read_file path="…" totalLines="N">` (or `lines="a-b"`) + the text +
///   `</read_file>`; files over [`FILE_MAX_BYTES`] (10 MiB) are refused, and a read
///   over [`READ_MAX_BYTES`] (256 KiB) must use `offset`/`limit`;
/// - only with [`allow_write_access`](Self::allow_write_access):
///   `write_file {filePath, content}` (creates parent directories) and
///   `edit_file {filePath, edits: [{oldString, newString, replaceAll = false}]}`.
///
/// **Confinement**: the root is canonicalized once; every path is resolved against it
/// with every existing component's symlinks followed, and must stay inside. `..`
/// above the root, absolute paths outside it, symlinks (even dangling ones) leading
/// out and oversized files are refused; nothing outside the root is read, listed or
/// written. (A process that swaps a directory for a symlink between the check and the
/// I/O is outside this model: the root is assumed not to be writable by attackers
/// other than through these tools.)
///
/// **Errors are for the model**: a failing file tool does not fail the generation; the
/// model gets the tool output `"Tool '<name>' failed: <message>"` and can correct
/// itself (interrupts pass through).
///
/// **Differences from Genkit, on purpose**: Genkit JS/Go/Python return a short
/// summary from `read_file` and queue the file text as a user message for the next
/// model call (and queue errors likewise); genkit-rs returns the text and errors as
/// the tool output, so they stay in `response.messages()` for the next call. Genkit
/// re-roots absolute paths (`/etc/passwd` → `<root>/etc/passwd`); genkit-rs refuses
/// absolute paths outside the root. Images are not read (text files only).
///
/// ```no_run
/// # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
/// use genkit_middleware::Filesystem;
/// let r = ai.generate()
///     .prompt("Summarize docs/ into summary.md")
///     .use_(Filesystem::new("./workspace")?.allow_write_access(true))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Filesystem {
    root: Root,
    writable: bool,
    prefix: String,
    tools: Arc<std::sync::OnceLock<Vec<ToolRef>>>,
}

impl std::fmt::Debug for Filesystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filesystem")
            .field("root", &self.root.path())
            .field("writable", &self.writable)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// The JSON config of the registered `filesystem` middleware (Genkit's field names).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FilesystemConfig {
    /// The directory all file operations are confined to (required).
    #[serde(default, alias = "rootDir", alias = "root_dir")]
    pub root_directory: String,
    /// Adds `write_file` and `edit_file` (default false).
    #[serde(default, alias = "allow_write_access")]
    pub allow_write_access: bool,
    /// Prefix of the tool names (default "").
    #[serde(default, alias = "tool_name_prefix")]
    pub tool_name_prefix: String,
}

impl Filesystem {
    /// Read-only file tools on `root`, which must be an existing directory
    /// (FAILED_PRECONDITION otherwise).
    pub fn new(root: impl AsRef<Path>) -> Result<Self> {
        Ok(Filesystem {
            root: Root::open(root.as_ref())?,
            writable: false,
            prefix: String::new(),
            tools: Arc::default(),
        })
    }

    /// From the JSON config of the registered `filesystem` middleware.
    pub fn from_config(config: Option<Value>) -> Result<Self> {
        let c: FilesystemConfig = config::parse("filesystem", config)?;
        if c.root_directory.trim().is_empty() {
            return Err(Error::invalid_argument(
                "invalid config for middleware 'filesystem': rootDirectory is required",
            ));
        }
        Ok(Filesystem::new(&c.root_directory)?
            .allow_write_access(c.allow_write_access)
            .tool_name_prefix(c.tool_name_prefix))
    }

    /// Adds `write_file` and `edit_file`.
    pub fn allow_write_access(mut self, yes: bool) -> Self {
        self.writable = yes;
        self.tools = Arc::default();
        self
    }

    /// Prefixes every tool name (for two `Filesystem`s in one call).
    pub fn tool_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self.tools = Arc::default();
        self
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    fn own_tools(&self) -> &[ToolRef] {
        self.tools
            .get_or_init(|| tools::build(&self.root, self.writable, &self.prefix))
    }
}

impl Middleware for Filesystem {
    fn name(&self) -> &str {
        "filesystem"
    }

    fn tools(&self) -> Vec<ToolRef> {
        self.own_tools().to_vec()
    }

    fn tool<'a>(&'a self, call: ToolCall, next: ToolNext<'a>) -> BoxFuture<'a, Result<Value>> {
        if !self.own_tools().iter().any(|t| Arc::ptr_eq(t, &call.tool)) {
            return next.run(call);
        }
        let name = call.request.name.clone();
        Box::pin(async move {
            match next.run(call).await {
                Err(e) if !matches!(e, Error::Interrupt { .. }) => {
                    tracing::info!(
                        target: "genkit::middleware",
                        middleware = "filesystem",
                        tool = name.as_str(),
                        status = e.status().name(),
                        error = e.message(),
                        "file tool refused"
                    );
                    Ok(Value::String(format!(
                        "Tool '{name}' failed: {}",
                        e.message()
                    )))
                }
                other => other,
            }
        })
    }
}
