//! Middleware decisions are in the trace: `tracing` events with target
//! `genkit::middleware`. One test per binary, so no other thread races the
//! callsites' interest while the scoped subscriber is installed.

mod common;

use std::sync::{Arc, Mutex};

use common::{Delays, genkit, server};
use genkit_googleai::server::Reply;

/// Captures `genkit::middleware` events as `field=value` lines.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _cx: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "genkit::middleware" {
            return;
        }
        struct V(String);
        impl tracing::field::Visit for V {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={:?} ", f.name(), v));
            }
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                self.0.push_str(&format!("{}={} ", f.name(), v));
            }
        }
        let mut v = V(String::new());
        event.record(&mut v);
        self.0.lock().unwrap().push(v.0);
    }
}

#[tokio::test]
async fn retries_and_fallbacks_are_in_the_trace() {
    use tracing_subscriber::layer::SubscriberExt;
    let events = Events::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let srv = server().await;
    let ai = genkit(&srv).await;
    srv.push(Reply::error(429, "quota"));
    srv.push(Reply::error(503, "overloaded"));
    let delays = Delays::default();
    ai.generate()
        .prompt("hi")
        .use_(delays.retry().no_jitter())
        .await
        .unwrap();
    let ev = events.0.lock().unwrap().clone();
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(ev[0].contains("middleware=retry"), "{ev:?}");
    assert!(ev[0].contains("attempt=1 "), "{ev:?}");
    assert!(ev[0].contains("delay_ms=1000 "), "{ev:?}");
    assert!(ev[0].contains("status=RESOURCE_EXHAUSTED"), "{ev:?}");
    assert!(ev[0].contains("error=RESOURCE_EXHAUSTED: quota"), "{ev:?}");
    assert!(ev[1].contains("attempt=2 "), "{ev:?}");
    assert!(ev[1].contains("status=UNAVAILABLE"), "{ev:?}");

    srv.push(Reply::error(503, "down"));
    ai.generate()
        .prompt("hi")
        .use_(genkit_middleware::Fallback::new([
            "googleai/gemini-2.5-flash",
        ]))
        .await
        .unwrap();
    let ev = events.0.lock().unwrap().clone();
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(ev[2].contains("middleware=fallback"), "{ev:?}");
    assert!(ev[2].contains("model=googleai/gemini-2.5-flash"), "{ev:?}");
    assert!(ev[2].contains("status=UNAVAILABLE"), "{ev:?}");
}
