//! Shared by the store tests: a throwaway PostgreSQL cluster and a Genkit instance
//! talking to the local Gemini-compatible server.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use genkit_core::agent::SessionSnapshot;
use genkit_core::{Error, Genkit, Role, ToolContext};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;

/// A PostgreSQL cluster of its own (initdb + pg_ctl on a free 127.0.0.1 port),
/// stopped and deleted on drop. PostgreSQL's binaries come from
/// `genkit_testkit::postgres_bin_dir` (installed on first use where we are root).
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn cmd(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    /// Creates and starts a cluster.
    pub fn start() -> Cluster {
        let bin = genkit_testkit::postgres_bin_dir();
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
        let dir = std::env::temp_dir().join(format!(
            "genkit-pg-{}-{}",
            std::process::id(),
            genkit_core::agent::util::new_id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(
                ok,
                "cannot chown {} to the postgres user (postgres refuses to run as root)",
                dir.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Cluster {
            bin,
            dir,
            port,
            as_postgres: is_root,
        };
        let out = c
            .cmd("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(c.data())
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c.pg_ctl("start");
        c
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs `pg_ctl <action>` (`start`, `stop`, `restart`) and waits for it.
    pub fn pg_ctl(&self, action: &str) {
        let opts = format!("-h 127.0.0.1 -p {} -k {}", self.port, self.dir.display());
        let out = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-o", &opts, "-m", "fast", "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", action])
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {action} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// The connection settings.
    pub fn config(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SearchInput {
    query: String,
}

/// A Genkit instance on the local Gemini server, with a `web_search` tool.
pub async fn genkit(server_url: &str) -> Genkit {
    let ai = Genkit::builder()
        .plugin(GoogleAi::new("k").with_base_url(server_url))
        .model("googleai/gemini-2.0-flash")
        .without_submitted_actions()
        .build()
        .await
        .expect("genkit");
    ai.define_tool(
        "web_search",
        "Search the web for a query.",
        |i: SearchInput, _cx: ToolContext| async move {
            Ok::<_, Error>(format!("Results for: {}", i.query))
        },
    )
    .expect("tool");
    ai
}

/// [`genkit`] for a running server.
pub async fn genkit_on(server: &LocalGemini) -> Genkit {
    genkit(&server.base_url()).await
}

/// A fresh directory under the system's temp dir.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "genkit-store-test-{name}-{}-{}",
        std::process::id(),
        genkit_core::agent::util::new_id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The user messages of a snapshot's conversation.
pub fn user_texts(s: &SessionSnapshot) -> Vec<String> {
    let state = s.state.as_ref().expect("state");
    state
        .messages
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.text())
        .collect()
}
