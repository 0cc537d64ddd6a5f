//! `examples/agent.rs` run twice with the same session id: the second run remembers
//! the first (against the local Gemini-compatible server over HTTP).

use std::process::Command;

use genkit::googleai::server::LocalGemini;

#[allow(dead_code)] // uses only `example`
mod common;
use common::example;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_example_remembers_across_runs() {
    let server = LocalGemini::start().await.unwrap();
    let db = std::env::temp_dir().join(format!("genkit-agent-example-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let run = |msg: &str| {
        let out = Command::new(example("agent"))
            .args(["test-session", msg])
            .env("GEMINI_API_KEY", "k")
            .env("GOOGLE_GEMINI_BASE_URL", server.base_url())
            .env("AGENT_DB", &db)
            .output()
            .expect("run the example");
        assert!(
            out.status.success(),
            "example failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = tokio::task::block_in_place(|| run("Search: Rust agents"));
    assert!(
        first.contains("Based on web_search: Results for: Rust agents"),
        "{first}"
    );
    assert!(!first.contains("remembered"), "{first}");
    let second = tokio::task::block_in_place(|| run("What did I ask before?"));
    assert!(
        second.contains(r#"remembered 4 earlier messages; you asked: ["Search: Rust agents"]"#),
        "{second}"
    );
    // The second run sent the first run's conversation to the model.
    let last = server.requests().pop().unwrap().body.to_string();
    assert!(last.contains("Search: Rust agents") && last.contains("What did I ask before?"));
    let _ = std::fs::remove_file(&db);
}
