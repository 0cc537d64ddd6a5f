//! Each agent turn is traced under the agent's span, with `genkit:sessionId`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use genkit_core::Genkit;
use genkit_core::agent::{AgentInit, AgentInput, InMemorySessionStore};
use genkit_googleai::GoogleAi;
use genkit_googleai::server::LocalGemini;
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span: its parent and its fields.
type SpanInfo = (Option<u64>, HashMap<String, String>);

#[derive(Default, Clone)]
struct Seen(Arc<Mutex<HashMap<u64, SpanInfo>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);
impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        self.0.insert(f.name().to_string(), v.to_string());
    }
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        self.0.insert(f.name().to_string(), format!("{v:?}"));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Seen {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent().map(|p| p.id().into_u64()));
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.0
            .lock()
            .unwrap()
            .insert(id.into_u64(), (parent, fields));
    }

    fn on_record(&self, id: &Id, values: &tracing::span::Record<'_>, _ctx: Context<'_, S>) {
        if let Some((_, fields)) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
}

#[tokio::test]
async fn turns_are_spans_under_the_agent_with_the_session_id() {
    let seen = Seen::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(seen.clone()));
    let server = LocalGemini::start().await.unwrap();
    let ai = Genkit::builder()
        .plugin(GoogleAi::new("k").with_base_url(server.base_url()))
        .model("googleai/gemini-2.0-flash")
        .without_submitted_actions()
        .build()
        .await
        .unwrap();
    let agent = ai
        .define_agent("traced")
        .store(InMemorySessionStore::new())
        .build()
        .unwrap();
    let out = agent
        .run(AgentInit::default(), AgentInput::text("hello"), None, None)
        .await
        .unwrap();
    let sid = out.session_id.unwrap();
    let spans = seen.0.lock().unwrap().clone();
    let field = |id: u64, k: &str| spans.get(&id).and_then(|(_, f)| f.get(k).cloned());
    let ancestors = |mut id: u64| {
        let mut v = Vec::new();
        while let Some((Some(p), _)) = spans.get(&id) {
            v.push(*p);
            id = *p;
        }
        v
    };
    let model = spans
        .keys()
        .copied()
        .find(|id| field(*id, "genkit:metadata:subtype").as_deref() == Some("model"))
        .expect("a model span");
    let up = ancestors(model);
    assert!(
        up.iter()
            .any(|a| field(*a, "genkit:sessionId").as_deref() == Some(sid.as_str())),
        "no ancestor of the model span carries genkit:sessionId"
    );
    assert!(
        up.iter()
            .any(|a| field(*a, "genkit:name").as_deref() == Some("traced#0"))
    );
    let root = *up.last().unwrap();
    assert_eq!(
        field(root, "genkit:metadata:subtype").as_deref(),
        Some("agent")
    );
    assert_eq!(field(root, "genkit:key").as_deref(), Some("/agent/traced"));
    assert!(
        field(root, "genkit:input").is_some(),
        "the init is recorded on the agent span"
    );
}
