//! Micro-benchmarks (criterion): schema derivation and registration, Gemini
//! request/response translation, one in-process generate turn with a scripted model,
//! streaming chunk throughput, and span overhead with tracing on vs off.
//!
//! `cargo bench -p genkit-microbench --bench micro`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use genkit_bench::workloads::Query;
use genkit_core::{
    Error, GenerateRequest, GenerateResponse, GenerateResponseChunk, Genkit, Message, ModelInfo,
    ModelRef, ModelSupports, Part, Registry, Role, ToolAction, ToolRef,
};
use genkit_googleai::translate::{from_gemini, to_gemini};
use genkit_googleai::wire::GenerateContentResponse;
use serde_json::json;

fn rt() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio: {e}"),
    }
}

fn ok<T>(r: genkit_core::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

fn lookup_tool() -> ToolAction {
    ToolAction::new("lookup", "Look up a topic.", |q: Query, _cx| async move {
        Ok::<_, Error>(format!("Results for: {}", q.query))
    })
}

fn schema(c: &mut Criterion) {
    let mut g = c.benchmark_group("schema");
    g.bench_function("schemars derive (uncached)", |b| {
        b.iter(|| black_box(schemars::schema_for!(Query)))
    });
    g.bench_function("ToolAction::new (cached schema)", |b| {
        b.iter(|| black_box(lookup_tool()))
    });
    g.bench_function("ToolAction::new + register", |b| {
        b.iter_batched(
            Registry::default,
            |reg| {
                ok(reg.register_tool(Arc::new(lookup_tool())));
                reg
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// A request as the loop's third turn sends it: prompt, two tool rounds, two tools.
fn loop_request() -> GenerateRequest {
    let tool = lookup_tool();
    let search = ToolAction::new("search", "Search the web.", |q: Query, _cx| async move {
        Ok::<_, Error>(q.query)
    });
    let mut messages = vec![Message::user("Research: rust")];
    for turn in 0..2 {
        messages.push(Message::new(
            Role::Model,
            vec![
                Part::tool_request("search", None, json!({"query": format!("t{turn}a")})),
                Part::tool_request("lookup", None, json!({"query": format!("t{turn}b")})),
            ],
        ));
        messages.push(Message::new(
            Role::Tool,
            vec![
                Part::tool_response("search", None, json!("Found: rust")),
                Part::tool_response("lookup", None, json!("Results for: rust")),
            ],
        ));
    }
    GenerateRequest {
        messages: messages.into_iter().map(Arc::new).collect(),
        tools: Some(vec![search.definition().clone(), tool.definition().clone()]),
        ..Default::default()
    }
}

fn translate(c: &mut Criterion) {
    let mut g = c.benchmark_group("translate");
    let req = loop_request();
    g.bench_function("to_gemini (5 messages, 2 tools)", |b| {
        b.iter(|| black_box(ok(to_gemini(black_box(&req)))))
    });
    g.bench_function("to_gemini + serialize body", |b| {
        b.iter(|| {
            let t = ok(to_gemini(black_box(&req)));
            black_box(ok(serde_json::to_vec(&t.body).map_err(Error::from)))
        })
    });
    let wire = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "search", "args": {"query": "rust"}}},
            {"functionCall": {"name": "lookup", "args": {"query": "rust"}}}
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "gemini-2.0-flash"
    })
    .to_string();
    g.bench_function("parse + from_gemini (2 function calls)", |b| {
        b.iter(|| {
            let r: GenerateContentResponse =
                ok(serde_json::from_str(black_box(&wire)).map_err(Error::from));
            black_box(ok(from_gemini(&r)))
        })
    });
    g.finish();
}

struct Scripted {
    ai: Genkit,
    model: ModelRef,
    lookup: ToolRef,
    streamer: ModelRef,
}

/// A model that asks for `lookup` (when tools are declared) until the conversation
/// holds a tool response, then answers; and a model that streams 1,000 chunks.
fn scripted(rt: &tokio::runtime::Runtime) -> Scripted {
    let ai = ok(rt.block_on(Genkit::builder().without_submitted_actions().build()));
    let info = ModelInfo::new("scripted", ModelSupports::full());
    let model = ok(ai.define_model(
        "bench/scripted",
        info.clone(),
        |req: Arc<GenerateRequest>, _cx| async move {
            let no_tools = req.tools.as_ref().is_none_or(|t| t.is_empty());
            let answered = no_tools || req.messages.iter().any(|m| m.role == Role::Tool);
            let part = if answered {
                Part::text("Based on lookup: Results for: rust")
            } else {
                Part::tool_request("lookup", None, json!({"query": "rust"}))
            };
            Ok(GenerateResponse::from_message(Message::new(
                Role::Model,
                vec![part],
            )))
        },
    ));
    let streamer = ok(
        ai.define_model("bench/streamer", info, |_req, cx| async move {
            for i in 0..1000 {
                cx.send_chunk(GenerateResponseChunk::from_text(format!("w{i} ")))
                    .await;
            }
            Ok(GenerateResponse::from_text("done"))
        }),
    );
    let lookup = ok(
        ai.define_tool("lookup", "Look up a topic.", |q: Query, _cx| async move {
            Ok::<_, Error>(format!("Results for: {}", q.query))
        }),
    );
    Scripted {
        ai,
        model,
        lookup,
        streamer,
    }
}

async fn one_turn(s: &Scripted) -> String {
    let r = ok(s
        .ai
        .generate()
        .model(&s.model)
        .prompt("Look up: rust")
        .tools([&s.lookup])
        .await);
    r.text()
}

fn generate(c: &mut Criterion) {
    let rt = rt();
    let s = scripted(&rt);
    let mut g = c.benchmark_group("generate");
    g.bench_function("one tool round, scripted model, tracing off", |b| {
        b.iter(|| black_box(rt.block_on(one_turn(&s))))
    });
    g.bench_function("text only, scripted model, tracing off", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(async {
                    ok(s.ai.generate().model(&s.model).prompt("hi").await).text()
                }),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("1,000 chunks through generate().stream()", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut st = s.ai.generate().model(&s.streamer).prompt("go").stream();
                let mut n = 0usize;
                while let Some(c) = st.next().await {
                    ok(c);
                    n += 1;
                }
                black_box(n)
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("spans");
    g.bench_function("one tool round, tracing off", |b| {
        b.iter(|| black_box(rt.block_on(one_turn(&s))))
    });
    g.bench_function(
        "one tool round, tracing on (no-op layer on target genkit)",
        |b| {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::{Layer, filter};
            struct Noop;
            impl<S: tracing::Subscriber> Layer<S> for Noop {}
            let sub = tracing_subscriber::registry()
                .with(Noop.with_filter(filter::filter_fn(|m| m.target() == "genkit")));
            tracing::subscriber::with_default(sub, || {
                b.iter(|| black_box(rt.block_on(one_turn(&s))))
            })
        },
    );
    g.finish();
}

criterion_group!(benches, schema, translate, generate);
criterion_main!(benches);
