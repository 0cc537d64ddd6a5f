//! The PostgreSQL store against a real throwaway cluster (initdb + pg_ctl on a free
//! 127.0.0.1 port). PostgreSQL's binaries come from `genkit_testkit::postgres_bin_dir` (installed on
//! first use where we are root).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use genkit_core::agent::{
    AgentFinishReason, AgentInit, AgentInput, GetSnapshotRequest, SessionStore,
};
use genkit_core::{Error, Genkit, Status, ToolContext};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;
use genkit_store::PostgresSessionStore;

struct Cluster {
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

    fn start() -> Cluster {
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
        let data = c.dir.join("data");
        let out = c
            .cmd("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!("-h 127.0.0.1 -p {} -k {}", c.port, c.dir.display());
        let out = c
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(c.dir.join("log"))
            .args(["-w", "start"])
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(c.dir.join("log")).unwrap_or_default()
        );
        c
    }

    fn config(&self) -> String {
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
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SearchInput {
    query: String,
}

async fn agent(server: &LocalGemini, store: Arc<dyn SessionStore>) -> genkit_core::agent::Agent {
    let ai = Genkit::builder()
        .plugin(GoogleAi::new("k").with_base_url(server.base_url()))
        .model("googleai/gemini-2.0-flash")
        .without_submitted_actions()
        .build()
        .await
        .unwrap();
    ai.define_tool(
        "web_search",
        "Search the web for a query.",
        |i: SearchInput, _cx: ToolContext| async move {
            Ok::<_, Error>(format!("Results for: {}", i.query))
        },
    )
    .unwrap();
    ai.define_agent("myAgent")
        .tools(["web_search"])
        .store_ref(store)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_resumes_refuses_concurrent_turns_and_reports_bad_rows() {
    let cluster = Cluster::start();
    let server = LocalGemini::start().await.unwrap();
    let open = || async {
        Arc::new(
            PostgresSessionStore::connect(&cluster.config())
                .await
                .unwrap(),
        )
    };

    // Resume after dropping everything in memory.
    let sid = {
        let a = agent(&server, open().await).await;
        let out = a
            .run(
                AgentInit::default(),
                AgentInput::text("Search: postgres"),
                None,
                None,
            )
            .await
            .unwrap();
        out.session_id.unwrap()
    };
    let (a1, a2) = (
        agent(&server, open().await).await,
        agent(&server, open().await).await,
    );
    let out = a1
        .run(
            AgentInit::session(&sid),
            AgentInput::text("second"),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop));
    assert!(
        server
            .requests()
            .pop()
            .unwrap()
            .body
            .to_string()
            .contains("Search: postgres")
    );

    // Two app instances continue the session at once: one wins, one gets ABORTED.
    server.set_latency(Duration::from_millis(300));
    let (r1, r2) = tokio::join!(
        a1.run(
            AgentInit::session(&sid),
            AgentInput::text("one"),
            None,
            None
        ),
        a2.run(
            AgentInit::session(&sid),
            AgentInput::text("two"),
            None,
            None
        ),
    );
    server.set_latency(Duration::ZERO);
    let errs: Vec<Error> = [&r1, &r2]
        .iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    assert_eq!(errs.len(), 1, "{r1:?} {r2:?}");
    assert_eq!(errs[0].status(), Status::Aborted);
    let leaf = a2
        .get_snapshot(GetSnapshotRequest::session(&sid))
        .await
        .unwrap()
        .unwrap();
    let users: Vec<String> = leaf
        .state
        .unwrap()
        .messages
        .iter()
        .filter(|m| m.role == genkit_core::Role::User)
        .map(|m| m.text())
        .collect();
    assert_eq!(users.len(), 3, "{users:?}");
    assert_eq!(users[..2], ["Search: postgres", "second"]);
    assert!(users[2] == "one" || users[2] == "two");

    // Bad rows.
    let store = open().await;
    store.write_raw("bad", "s", 1, "{oops").await.unwrap();
    store.write_raw("future", "s", 9, "{}").await.unwrap();
    let e = store.get_snapshot("bad").await.unwrap_err();
    assert_eq!(e.status(), Status::DataLoss, "{e}");
    let e = store.get_snapshot("future").await.unwrap_err();
    assert_eq!(e.status(), Status::FailedPrecondition, "{e}");
    assert!(e.message().contains("format version 9"));
}
