//! A `use_` list runs outermost first; instance middleware wrap the call's own; a
//! closure is a middleware too (`middleware_fn`).

mod common;

use std::sync::{Arc, Mutex};

use common::{Delays, genkit, server};
use genkit_core::middleware::middleware_fn;
use genkit_googleai::server::Reply;

type Log = Arc<Mutex<Vec<String>>>;

fn recorder(name: &'static str, log: Log) -> impl genkit_core::Middleware {
    middleware_fn(name, move |request, cx, next| {
        let log = log.clone();
        Box::pin(async move {
            log.lock().unwrap().push(format!("{name} in"));
            let r = next.run(request, cx).await;
            log.lock()
                .unwrap()
                .push(format!("{name} out ok={}", r.is_ok()));
            r
        })
    })
}

#[tokio::test]
async fn the_list_runs_outermost_first() {
    let srv = server().await;
    let ai = genkit(&srv).await;
    let log: Log = Arc::default();
    srv.push(Reply::error(503, "down"));
    let delays = Delays::default();
    ai.generate()
        .prompt("hi")
        .use_(recorder("a", log.clone()))
        .use_(delays.retry())
        .use_(recorder("b", log.clone()))
        .await
        .unwrap();
    // `a` sees one call; `b`, inside the retry, sees both attempts.
    assert_eq!(
        *log.lock().unwrap(),
        [
            "a in",
            "b in",
            "b out ok=false",
            "b in",
            "b out ok=true",
            "a out ok=true"
        ]
    );
    assert_eq!(delays.get().len(), 1);
}
