//! The PostgreSQL store against a real throwaway cluster (initdb + pg_ctl on a free
//! 127.0.0.1 port; see `common::Cluster`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Cluster;
use genkit_core::agent::{
    AgentFinishReason, AgentInit, AgentInput, GetSnapshotRequest, SessionStore,
};
use genkit_core::{Error, Status};
use genkit_googleai::server::LocalGemini;
use genkit_store::PostgresSessionStore;

async fn agent(server: &LocalGemini, store: Arc<dyn SessionStore>) -> genkit_core::agent::Agent {
    common::genkit_on(server)
        .await
        .define_agent("myAgent")
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
    let users = common::user_texts(&leaf);
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

/// Turns fail UNAVAILABLE (quickly, without calling the model) while the server is
/// down and succeed again once it is back: the pool replaces its dead connections,
/// also after a restart the store never saw as downtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_reconnects_after_the_server_restarts() {
    let cluster = Cluster::start();
    let server = LocalGemini::start().await.unwrap();
    let store = Arc::new(
        PostgresSessionStore::connect(&cluster.config())
            .await
            .unwrap(),
    );
    let a = agent(&server, store).await;
    let turn = |sid: Option<String>, text: &'static str| {
        let a = a.clone();
        async move {
            let init = sid.map(AgentInit::session).unwrap_or_default();
            a.run(init, AgentInput::text(text), None, None).await
        }
    };
    // Several sessions at once, so the pool holds several connections.
    let firsts = futures::future::join_all((0..4).map(|_| turn(None, "first"))).await;
    let sids: Vec<String> = firsts
        .into_iter()
        .map(|r| r.unwrap().session_id.unwrap())
        .collect();
    let continue_all = |text: &'static str| {
        let turns = sids.iter().map(|s| turn(Some(s.clone()), text));
        futures::future::join_all(turns)
    };

    // Restarted between two turns: every pooled connection died.
    cluster.pg_ctl("restart");
    for out in continue_all("after a restart").await {
        let out = out.unwrap();
        assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop), "{out:?}");
    }

    // Down: the turn fails UNAVAILABLE before it calls the model.
    cluster.pg_ctl("stop");
    let calls = server.requests().len();
    let out = turn(Some(sids[0].clone()), "while down").await.unwrap();
    assert_eq!(out.finish_reason, Some(AgentFinishReason::Failed));
    let error = out.error.unwrap();
    assert_eq!(error.status.as_deref(), Some("UNAVAILABLE"), "{error:?}");
    assert_eq!(server.requests().len(), calls);

    // Back: every session goes on where it was.
    cluster.pg_ctl("start");
    for out in continue_all("after the outage").await {
        let out = out.unwrap();
        assert_eq!(out.finish_reason, Some(AgentFinishReason::Stop), "{out:?}");
    }
    for sid in &sids {
        let leaf = a
            .get_snapshot(GetSnapshotRequest::session(sid))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            common::user_texts(&leaf),
            ["first", "after a restart", "after the outage"]
        );
    }
}
