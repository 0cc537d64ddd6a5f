//! `#[genkit::tool]` and `#[genkit::flow]` through the public facade: schemas,
//! descriptions, direct calls, registration, runs by key, and a renamed dependency.

extern crate genkit as gk;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use genkit::prelude::*;
use genkit::{Action, IntoTool, RunOptions, ToolSpec};
use serde_json::Value;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct SearchInput {
    /// What to search for.
    query: String,
}

/// Search the web for a query.
#[genkit::tool]
async fn web_search(input: SearchInput) -> Result<String> {
    Ok(format!("Results for: {}", input.query))
}

/// Reads a page.
///
/// Returns its first line.
#[genkit::tool(name = "read_page")]
async fn read_page_tool(input: PageInput) -> genkit::Result<Page> {
    Ok(Page {
        url: input.url,
        first_line: "hello".into(),
    })
}

#[derive(Deserialize, JsonSchema)]
struct PageInput {
    url: String,
}

#[derive(Serialize, JsonSchema)]
struct Page {
    url: String,
    first_line: String,
}

/// This doc comment is replaced.
#[genkit::tool(description = "Adds two numbers.")]
async fn add(input: AddInput) -> Result<i64, std::convert::Infallible> {
    Ok(input.a + input.b)
}

/// Input that can be deserialized but not serialized: a direct call cannot record it.
#[derive(Deserialize, JsonSchema)]
struct AddInput {
    a: i64,
    b: i64,
}

/// Asks for approval before answering.
#[genkit::tool]
async fn guarded(input: SearchInput, ctx: ToolContext) -> Result<String> {
    match ctx.resumed() {
        Some(_) => Ok(format!("approved: {}", input.query)),
        None => Err(ctx.interrupt(json!({"reason": "needs approval"}))),
    }
}

/// Research a topic with the web.
#[genkit::flow]
async fn research_flow(ai: &Genkit, input: SearchInput) -> Result<String> {
    let found = web_search(SearchInput {
        query: input.query.clone(),
    })
    .await?;
    Ok(format!("{found} ({} actions)", ai.registry().list().len()))
}

#[genkit::flow(name = "shout")]
async fn shout_flow(input: String) -> Result<String> {
    Ok(input.to_uppercase())
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct CountInput {
    count: u32,
    label: String,
}

/// Streams `label-0`, `label-1`, … and returns how many it sent.
#[genkit::flow]
async fn count_flow(_ai: &Genkit, input: CountInput, ctx: FlowContext) -> Result<u32> {
    for i in 0..input.count {
        ctx.send_chunk(format!("{}-{i}", input.label)).await?;
    }
    Ok(if ctx.is_streaming() { input.count } else { 0 })
}

#[genkit::flow]
async fn borrowed_ctx_flow(_ai: &Genkit, input: u32, ctx: &FlowContext) -> Result<Option<Value>> {
    let _ = input;
    Ok(ctx.context().cloned())
}

mod renamed {
    use super::*;

    /// Echoes through a renamed `genkit`.
    #[gk::tool(crate = "gk")]
    pub async fn echo(input: String) -> gk::Result<String> {
        Ok(input)
    }

    #[gk::flow(crate = "::gk", name = "renamed_flow")]
    pub(crate) async fn flow(ai: &gk::Genkit, input: String) -> gk::Result<String> {
        let _ = ai;
        echo(input).await
    }
}

async fn instance() -> Genkit {
    Genkit::builder().build().await.unwrap()
}

#[test]
fn tool_input_schema_is_derived() {
    let def = web_search::action().definition();
    assert_eq!(def.name, "web_search");
    assert_eq!(
        def.input_schema.as_ref().unwrap(),
        &json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "SearchInput",
            "type": "object",
            "properties": {
                "query": {"description": "What to search for.", "type": "string"}
            },
            "required": ["query"]
        })
    );
    assert_eq!(def.output_schema.as_ref().unwrap()["type"], "string");
    // Derived once: the same action every time.
    assert!(Arc::ptr_eq(web_search::action(), web_search::action()));
}

#[test]
fn output_schema_of_a_struct() {
    let def = read_page_tool::action().definition();
    let out = def.output_schema.as_ref().unwrap();
    assert_eq!(out["title"], "Page");
    assert_eq!(out["required"], json!(["url", "first_line"]));
}

#[test]
fn doc_comment_becomes_the_description() {
    assert_eq!(
        web_search::action().definition().description,
        "Search the web for a query."
    );
    assert_eq!(
        read_page_tool::action().definition().description,
        "Reads a page.\n\nReturns its first line."
    );
    assert_eq!(
        research_flow::action().desc().description.as_deref(),
        Some("Research a topic with the web.")
    );
    // No doc comment, no description.
    assert_eq!(shout_flow::action().desc().description, None);
}

#[test]
fn name_and_description_arguments_override() {
    assert_eq!(read_page_tool::action().name(), "read_page");
    assert_eq!(read_page_tool::action().desc().key, "/tool/read_page");
    assert_eq!(add::action().definition().description, "Adds two numbers.");
    assert_eq!(shout_flow::action().desc().key, "/flow/shout");
    assert_eq!(renamed::flow::action().desc().key, "/flow/renamed_flow");
}

#[test]
fn a_tool_is_a_value_for_tools() {
    let ToolSpec::Action(t) = web_search.into_tool() else {
        panic!("not an action")
    };
    assert!(Arc::ptr_eq(&t, web_search::action()));
    let tools = [web_search, web_search];
    assert_eq!(tools.len(), 2);
}

#[tokio::test]
async fn direct_calls() {
    assert_eq!(
        web_search(SearchInput {
            query: "rust".into()
        })
        .await
        .unwrap(),
        "Results for: rust"
    );
    let page = read_page_tool(PageInput { url: "u".into() }).await.unwrap();
    assert_eq!(
        (page.url.as_str(), page.first_line.as_str()),
        ("u", "hello")
    );
    assert_eq!(add(AddInput { a: 2, b: 3 }).await.unwrap(), 5);
    assert_eq!(shout_flow("hi".to_string()).await.unwrap(), "HI");
    assert_eq!(renamed::echo("e".to_string()).await.unwrap(), "e");

    // A tool with a context takes it in a direct call.
    let err = guarded(SearchInput { query: "q".into() }, ToolContext::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Interrupt { .. }), "{err:?}");

    let ai = instance().await;
    let out = research_flow(
        &ai,
        SearchInput {
            query: "rust".into(),
        },
    )
    .await
    .unwrap();
    assert!(out.starts_with("Results for: rust ("), "{out}");
    assert_eq!(renamed::flow(&ai, "x".to_string()).await.unwrap(), "x");
    // Called directly, a flow gets a default, non-streaming context.
    let sent = count_flow(
        &ai,
        CountInput {
            count: 2,
            label: "a".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(sent, 0);
    assert_eq!(borrowed_ctx_flow(&ai, 1).await.unwrap(), None);
}

#[tokio::test]
async fn the_instance_lists_every_tool_and_flow() {
    let ai = instance().await;
    let keys: Vec<String> = ai
        .registry()
        .list()
        .iter()
        .map(|a| a.desc().key.clone())
        .collect();
    for key in [
        "/tool/web_search",
        "/tool/read_page",
        "/tool/add",
        "/tool/guarded",
        "/tool/echo",
        "/flow/research_flow",
        "/flow/shout",
        "/flow/count_flow",
        "/flow/borrowed_ctx_flow",
        "/flow/renamed_flow",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }
    // The registered action is the macro's own.
    assert!(Arc::ptr_eq(
        &ai.registry().tool("web_search").unwrap(),
        web_search::action()
    ));
    let listed = ai
        .registry()
        .lookup("/flow/research_flow")
        .unwrap()
        .desc()
        .to_json();
    assert_eq!(
        listed["inputSchema"]["properties"]["query"]["type"],
        "string"
    );
    assert_eq!(listed["outputSchema"]["type"], "string");

    // Opting out registers none of them.
    let bare = Genkit::builder()
        .without_submitted_actions()
        .build()
        .await
        .unwrap();
    assert!(bare.registry().lookup("/tool/web_search").is_none());
}

#[tokio::test]
async fn flow_runs_by_key_with_json_input() {
    let ai = instance().await;
    let out = ai
        .run_action(
            "/flow/research_flow",
            json!({"query": "genkit"}),
            RunOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        out.as_str().unwrap().starts_with("Results for: genkit ("),
        "{out}"
    );
    let out = ai
        .run_action("/flow/shout", json!("hey"), RunOptions::default())
        .await
        .unwrap();
    assert_eq!(out, json!("HEY"));
    let out = ai
        .run_action("/tool/add", json!({"a": 1, "b": 41}), RunOptions::default())
        .await;
    assert_eq!(out.unwrap(), json!(42));
}

#[tokio::test]
async fn bad_json_input_is_invalid_argument_naming_the_field() {
    let ai = instance().await;
    let err = ai
        .run_action(
            "/flow/count_flow",
            json!({"count": "three", "label": "x"}),
            RunOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("count"), "{}", err.message());

    let err = ai
        .run_action(
            "/flow/research_flow",
            json!({"qery": "x"}),
            RunOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("query"), "{}", err.message());

    let err = ai
        .run_action("/tool/add", json!({"a": 1}), RunOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains('b'), "{}", err.message());
}

#[tokio::test]
async fn streaming_flow_sends_chunks_and_reads_context() {
    let ai = instance().await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let out = ai
        .run_action(
            "/flow/count_flow",
            json!({"count": 3, "label": "c"}),
            RunOptions::streaming(tx),
        )
        .await
        .unwrap();
    assert_eq!(out, json!(3));
    let mut chunks = Vec::new();
    while let Ok(c) = rx.try_recv() {
        chunks.push(c);
    }
    assert_eq!(chunks, [json!("c-0"), json!("c-1"), json!("c-2")]);

    let opts = RunOptions::default().with_context(json!({"uid": "u1"}));
    let out = ai
        .run_action("/flow/borrowed_ctx_flow", json!(7), opts)
        .await
        .unwrap();
    assert_eq!(out, json!({"uid": "u1"}));
}

#[tokio::test]
async fn a_tool_runs_in_the_generate_loop() {
    let ai = instance().await;
    let turn = Arc::new(Mutex::new(0));
    ai.define_model(
        "m",
        ModelInfo::new("m", ModelSupports::full()),
        move |req, _| {
            let turn = turn.clone();
            async move {
                let mut turn = turn.lock().unwrap();
                *turn += 1;
                if *turn == 1 {
                    assert_eq!(req.tools.as_ref().unwrap()[0].name, "web_search");
                    let part =
                        Part::tool_request("web_search", Some("1".into()), json!({"query": "q"}));
                    return Ok(GenerateResponse::from_message(Message::new(
                        Role::Model,
                        vec![part],
                    )));
                }
                let tool_msg = req.messages.last().unwrap();
                let out = tool_msg.content[0]
                    .tool_response
                    .as_ref()
                    .unwrap()
                    .output
                    .clone();
                Ok(GenerateResponse::from_text(out.unwrap().as_str().unwrap()))
            }
        },
    )
    .unwrap();
    let resp = ai
        .generate()
        .model("m")
        .prompt("go")
        .tools([web_search])
        .await
        .unwrap();
    assert_eq!(resp.text(), "Results for: q");
}

/// Records every `genkit` span's string attributes by `genkit:name`.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<HashMap<String, HashMap<String, String>>>>);

impl<S> tracing_subscriber::Layer<S> for Spans
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(fields) = span.extensions().get::<Fields>()
            && let Some(name) = fields.0.get("genkit:name")
        {
            self.0
                .lock()
                .unwrap()
                .insert(name.clone(), fields.0.clone());
        }
    }
}

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }

    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().to_string(), value.to_string());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

#[tokio::test]
async fn a_direct_call_is_traced_with_its_input_when_serializable() {
    use tracing_subscriber::layer::SubscriberExt;
    let ai = instance().await;
    // Register the span callsites first: tests on other threads may be registering
    // them concurrently with no subscriber, which would cache "never interested".
    research_flow(
        &ai,
        SearchInput {
            query: "warm".into(),
        },
    )
    .await
    .unwrap();
    add(AddInput { a: 0, b: 0 }).await.unwrap();

    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    research_flow(&ai, SearchInput { query: "t".into() })
        .await
        .unwrap();
    add(AddInput { a: 1, b: 2 }).await.unwrap();

    let spans = spans.0.lock().unwrap();
    let flow = &spans["research_flow"];
    assert_eq!(flow["genkit:metadata:subtype"], "flow");
    assert_eq!(flow["genkit:input"], r#"{"query":"t"}"#);
    assert_eq!(flow["genkit:state"], "success");
    assert_eq!(flow["genkit:path"], "/{research_flow,t:flow}");
    // The tool called inside the flow is its child.
    let tool = &spans["web_search"];
    assert_eq!(
        tool["genkit:path"],
        "/{research_flow,t:flow}/{web_search,t:action,s:tool}"
    );
    assert_eq!(tool["genkit:input"], r#"{"query":"t"}"#);
    assert_eq!(tool["genkit:output"], r#""Results for: t""#);
    // `AddInput` is not `Serialize`: the span has no input, but its output.
    let added = &spans["add"];
    assert!(!added.contains_key("genkit:input"), "{added:?}");
    assert_eq!(added["genkit:output"], "3");
}

mod schema_attribute {
    //! `#[genkit::schema]` derives serde and schemars through `genkit` alone.
    use genkit::prelude::*;

    /// A city to look up.
    #[genkit::schema]
    #[derive(Debug, PartialEq)]
    pub struct CityQuery {
        /// The city's name.
        #[serde(rename = "cityName")]
        pub city: String,
        pub days: Option<u8>,
    }

    /// Reports the weather.
    #[genkit::tool]
    async fn forecast(input: CityQuery) -> Result<String> {
        Ok(format!(
            "{} for {} days",
            input.city,
            input.days.unwrap_or(1)
        ))
    }

    #[tokio::test]
    async fn derives_work_without_direct_dependencies() {
        let q: CityQuery = serde_json::from_value(json!({"cityName": "Oslo"})).unwrap();
        assert_eq!(
            q,
            CityQuery {
                city: "Oslo".into(),
                days: None
            }
        );
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            json!({"cityName": "Oslo", "days": null})
        );
        let schema = genkit::schema::schema_of::<CityQuery>();
        assert_eq!(schema["description"], "A city to look up.");
        assert_eq!(
            schema["properties"]["cityName"]["description"],
            "The city's name."
        );
        assert_eq!(schema["required"], json!(["cityName"]));
        assert_eq!(forecast(q).await.unwrap(), "Oslo for 1 days");
    }
}
