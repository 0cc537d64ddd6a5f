//! Every action run is a `tracing` span with Genkit's attributes: the seed's tree
//! `research_flow → generate → model → web_search → model`, collected by a subscriber.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use genkit::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone)]
struct SpanRec {
    id: u64,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<SpanRec>>>,
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl<S> Layer<S> for Collector
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target() != "genkit" {
            return;
        }
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldVisitor(&mut fields));
        let parent = if let Some(p) = attrs.parent() {
            Some(p.into_u64())
        } else if attrs.is_contextual() {
            ctx.lookup_current().map(|s| s.id().into_u64())
        } else {
            None
        };
        self.spans.lock().unwrap().push(SpanRec {
            id: id.into_u64(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some(s) = spans.iter_mut().find(|s| s.id == id.into_u64()) {
            values.record(&mut FieldVisitor(&mut s.fields));
        }
    }
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct SearchInput {
    query: String,
}

/// Search the web for a query.
#[genkit::tool]
async fn web_search(input: SearchInput) -> Result<String> {
    if input.query == "fail" {
        return Err(Error::new(Status::Unavailable, "search backend down"));
    }
    Ok(format!("Results for: {}", input.query))
}

#[genkit::flow]
async fn research_flow(ai: &Genkit, input: SearchInput) -> Result<String> {
    let response = ai
        .generate()
        .model("scripted")
        .prompt(format!("Research: {}", input.query))
        .tools([web_search])
        .await?;
    Ok(response.text())
}

/// A model that asks for `web_search` with the prompt's topic, then answers with the
/// tool's output.
async fn instance() -> Genkit {
    let ai = Genkit::builder().build().await.unwrap();
    ai.define_model("scripted", ModelInfo::default(), |req, _| async move {
        let last = req.messages.last().unwrap();
        if last.role == Role::Tool {
            let out = last.content[0]
                .tool_response
                .as_ref()
                .unwrap()
                .output
                .clone()
                .unwrap();
            return Ok(GenerateResponse::from_text(format!(
                "Report: {}",
                out.as_str().unwrap()
            )));
        }
        let topic = last.text().trim_start_matches("Research: ").to_string();
        Ok(GenerateResponse::from_message(Message::new(
            Role::Model,
            vec![Part::tool_request(
                "web_search",
                Some("0".into()),
                json!({ "query": topic }),
            )],
        )))
    })
    .unwrap();
    ai
}

/// Installs a collecting subscriber on this thread. Callsites first hit by other test
/// threads without a subscriber may have cached "never"; rebuilding the interest cache
/// makes this subscriber see them.
fn collect() -> (Collector, tracing::subscriber::DefaultGuard) {
    let collector = Collector::default();
    let guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(collector.clone()));
    tracing::callsite::rebuild_interest_cache();
    (collector, guard)
}

fn by_name<'a>(spans: &'a [SpanRec], name: &str) -> Vec<&'a SpanRec> {
    spans
        .iter()
        .filter(|s| s.fields.get("genkit:name").map(String::as_str) == Some(name))
        .collect()
}

#[tokio::test]
async fn seed_tree_with_inputs_and_outputs() {
    let (collector, _guard) = collect();
    let ai = instance().await;
    let out = ai
        .run_action(
            "/flow/research_flow",
            json!({"query": "Rust"}),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(out, json!("Report: Results for: Rust"));

    let spans = collector.spans.lock().unwrap().clone();
    let names: Vec<&str> = spans
        .iter()
        .map(|s| s.fields["genkit:name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "research_flow",
            "generate",
            "scripted",
            "web_search",
            "scripted"
        ]
    );

    let flow = by_name(&spans, "research_flow")[0];
    assert_eq!(flow.parent, None);
    assert_eq!(flow.fields["genkit:path"], "/{research_flow,t:flow}");
    assert_eq!(flow.fields["genkit:isRoot"], "true");
    assert_eq!(flow.fields["genkit:type"], "action");
    assert_eq!(flow.fields["genkit:metadata:subtype"], "flow");
    assert_eq!(flow.fields["genkit:key"], "/flow/research_flow");
    assert_eq!(flow.fields["genkit:input"], r#"{"query":"Rust"}"#);
    assert_eq!(
        flow.fields["genkit:output"],
        r#""Report: Results for: Rust""#
    );
    assert_eq!(flow.fields["genkit:state"], "success");

    let generate = by_name(&spans, "generate")[0];
    assert_eq!(generate.parent, Some(flow.id));
    assert_eq!(
        generate.fields["genkit:path"],
        "/{research_flow,t:flow}/{generate,t:util}"
    );
    assert_eq!(generate.fields["genkit:type"], "util");
    assert!(!generate.fields.contains_key("genkit:isRoot"));
    let gen_input: Value = serde_json::from_str(&generate.fields["genkit:input"]).unwrap();
    assert_eq!(
        gen_input["messages"][0]["content"][0]["text"],
        "Research: Rust"
    );
    assert_eq!(gen_input["tools"], json!(["web_search"]));

    let models = by_name(&spans, "scripted");
    assert_eq!(models.len(), 2);
    for m in &models {
        assert_eq!(m.parent, Some(generate.id));
        assert_eq!(
            m.fields["genkit:path"],
            "/{research_flow,t:flow}/{generate,t:util}/{scripted,t:action,s:model}"
        );
        assert_eq!(m.fields["genkit:metadata:subtype"], "model");
        assert_eq!(m.fields["genkit:key"], "/model/scripted");
    }
    let second_in: Value = serde_json::from_str(&models[1].fields["genkit:input"]).unwrap();
    assert_eq!(second_in["messages"].as_array().unwrap().len(), 3);
    let second_out: Value = serde_json::from_str(&models[1].fields["genkit:output"]).unwrap();
    assert_eq!(
        second_out["message"]["content"][0]["text"],
        "Report: Results for: Rust"
    );

    let tool = by_name(&spans, "web_search")[0];
    assert_eq!(tool.parent, Some(generate.id));
    assert_eq!(
        tool.fields["genkit:path"],
        "/{research_flow,t:flow}/{generate,t:util}/{web_search,t:action,s:tool}"
    );
    assert_eq!(tool.fields["genkit:input"], r#"{"query":"Rust"}"#);
    assert_eq!(tool.fields["genkit:output"], r#""Results for: Rust""#);
    assert_eq!(tool.fields["genkit:state"], "success");
}

#[tokio::test]
async fn direct_flow_call_is_traced_with_its_input() {
    let (collector, _guard) = collect();
    let ai = instance().await;
    let out = research_flow(
        &ai,
        SearchInput {
            query: "Genkit".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(out, "Report: Results for: Genkit");
    let spans = collector.spans.lock().unwrap().clone();
    let flow = by_name(&spans, "research_flow")[0];
    assert_eq!(flow.fields["genkit:input"], r#"{"query":"Genkit"}"#);
    assert_eq!(flow.fields["genkit:isRoot"], "true");
    assert_eq!(by_name(&spans, "web_search").len(), 1);
}

#[tokio::test]
async fn failure_source_is_the_innermost_failing_span() {
    let (collector, _guard) = collect();
    let ai = instance().await;
    let err = ai
        .run_action(
            "/flow/research_flow",
            json!({"query": "fail"}),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::Unavailable);
    let spans = collector.spans.lock().unwrap().clone();
    let tool = by_name(&spans, "web_search")[0];
    assert_eq!(tool.fields["genkit:state"], "error");
    assert_eq!(tool.fields["genkit:isFailureSource"], "true");
    assert_eq!(
        tool.fields["exception.message"],
        "UNAVAILABLE: search backend down"
    );
    for name in ["generate", "research_flow"] {
        let s = by_name(&spans, name)[0];
        assert_eq!(s.fields["genkit:state"], "error", "{name}");
        assert!(!s.fields.contains_key("genkit:isFailureSource"), "{name}");
    }
}

static IGNORED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static READ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts its serializations, in `READ` or `IGNORED`.
#[derive(Deserialize, JsonSchema)]
struct Counted {
    read: bool,
}

impl Serialize for Counted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let counter = if self.read { &READ } else { &IGNORED };
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        s.serialize_str("counted")
    }
}

#[genkit::flow]
async fn count(input: Counted) -> Result<Counted> {
    Ok(Counted { read: input.read })
}

/// Enables every genkit span but reads none of their fields.
struct Ignoring;

impl<S: tracing::Subscriber> Layer<S> for Ignoring {}

#[tokio::test]
async fn input_and_output_are_serialized_only_for_a_layer_that_reads_them() {
    use std::sync::atomic::Ordering;
    {
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(Ignoring));
        tracing::callsite::rebuild_interest_cache();
        assert!(tracing::enabled!(target: "genkit", tracing::Level::INFO));
        count(Counted { read: false }).await.unwrap();
    }
    // Without any subscriber, nothing is serialized either.
    count(Counted { read: false }).await.unwrap();
    assert_eq!(
        IGNORED.load(Ordering::SeqCst),
        0,
        "nobody read the input or the output"
    );

    let (collector, _guard) = collect();
    count(Counted { read: true }).await.unwrap();
    assert_eq!(
        READ.load(Ordering::SeqCst),
        2,
        "input and output serialized once each, for the reader"
    );
    let spans = collector.spans.lock().unwrap().clone();
    let span = by_name(&spans, "count")[0];
    assert_eq!(span.fields["genkit:input"], r#""counted""#);
    assert_eq!(span.fields["genkit:output"], r#""counted""#);
}
