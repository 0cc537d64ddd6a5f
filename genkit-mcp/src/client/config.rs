//! How to reach one MCP server: a command to spawn (stdio) or a URL (Streamable HTTP).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// One MCP server to connect to, as Claude Desktop or Cursor configure them: a command
/// with arguments and environment, spoken to over its stdin/stdout, or the URL of a
/// Streamable HTTP endpoint with headers (for auth).
///
/// ```
/// use genkit_mcp::McpServerConfig;
///
/// let files = McpServerConfig::stdio("npx")
///     .args(["-y", "@modelcontextprotocol/server-filesystem", "/tmp"])
///     .env("LOG_LEVEL", "warn");
/// let remote = McpServerConfig::http("https://mcp.example.com/mcp")
///     .header("Authorization", "Bearer s3cret");
/// # let _ = (files, remote);
/// ```
#[derive(Clone)]
#[must_use]
pub struct McpServerConfig {
    pub(crate) transport: Transport,
    pub(crate) timeout: Duration,
}

#[derive(Clone)]
pub(crate) enum Transport {
    Stdio {
        command: OsString,
        args: Vec<OsString>,
        env: BTreeMap<OsString, OsString>,
        cwd: Option<PathBuf>,
        stderr: bool,
    },
    Http {
        url: String,
        headers: Vec<(String, String)>,
    },
}

/// What a request may take by default before it is DEADLINE_EXCEEDED (the MCP
/// TypeScript SDK's default too).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl McpServerConfig {
    /// A server started as `command`, spoken to over its stdin and stdout. Its stderr
    /// is this process's stderr. If it exits, the call in flight fails UNAVAILABLE and
    /// the next call starts it again.
    pub fn stdio(command: impl Into<OsString>) -> Self {
        McpServerConfig {
            transport: Transport::Stdio {
                command: command.into(),
                args: Vec::new(),
                env: BTreeMap::new(),
                cwd: None,
                stderr: true,
            },
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A Streamable HTTP server at `url` (`http://127.0.0.1:3000/mcp`).
    pub fn http(url: impl Into<String>) -> Self {
        McpServerConfig {
            transport: Transport::Http {
                url: url.into(),
                headers: Vec::new(),
            },
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Appends command-line arguments (stdio).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        if let Transport::Stdio { args: a, .. } = &mut self.transport {
            a.extend(args.into_iter().map(Into::into));
        }
        self
    }

    /// Sets an environment variable of the process (stdio); the rest of this
    /// process's environment is inherited.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        if let Transport::Stdio { env, .. } = &mut self.transport {
            env.insert(key.into(), value.into());
        }
        self
    }

    /// The working directory of the process (stdio).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        if let Transport::Stdio { cwd, .. } = &mut self.transport {
            *cwd = Some(dir.into());
        }
        self
    }

    /// Discards the process's stderr instead of passing it through (stdio).
    pub fn quiet(mut self) -> Self {
        if let Transport::Stdio { stderr, .. } = &mut self.transport {
            *stderr = false;
        }
        self
    }

    /// Adds a header to every HTTP request (`Authorization`, API keys). Header values
    /// are never logged, traced or put in an error.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Transport::Http { headers, .. } = &mut self.transport {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// How long one request may take (default 60 s); past it, DEADLINE_EXCEEDED.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub(crate) fn is_stdio(&self) -> bool {
        matches!(self.transport, Transport::Stdio { .. })
    }
}

impl fmt::Debug for McpServerConfig {
    /// Header values are left out: they are usually credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Stdio {
                command, args, cwd, ..
            } => f
                .debug_struct("McpServerConfig::Stdio")
                .field("command", command)
                .field("args", args)
                .field("cwd", cwd)
                .finish_non_exhaustive(),
            Transport::Http { url, headers } => f
                .debug_struct("McpServerConfig::Http")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
                )
                .finish_non_exhaustive(),
        }
    }
}
