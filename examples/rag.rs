//! Retrieval-augmented generation: embed a handful of documents with the Gemini
//! embedder, pick the nearest to the question by cosine similarity (plain Rust), and
//! pass them as `docs`. The model receives them rendered into the prompt (Genkit's
//! "Use the following information to complete your task:" part); a small `tracing`
//! layer prints the model span's input to show it.
//!
//! `cargo run --example rag -- "Which city is the capital of France?"` (with no
//! `GEMINI_API_KEY` it runs against the local Gemini-compatible server).

use std::sync::{Arc, Mutex};

use genkit::googleai::GoogleAi;
use genkit::prelude::*;
use genkit::{DocumentData, GenerateRequest, Role};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const EMBEDDER: &str = "googleai/gemini-embedding-001";

const LIBRARY: [(&str, &str); 5] = [
    (
        "paris",
        "Paris is the capital of France and its largest city.",
    ),
    (
        "berlin",
        "Berlin is the capital of Germany, on the river Spree.",
    ),
    (
        "rust",
        "Rust is a systems programming language focused on safety.",
    ),
    ("tea", "Green tea is brewed with water below boiling point."),
    ("loire", "The Loire is the longest river in France."),
];

/// How many documents go to the model.
const TOP: usize = 2;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let n = norm(a) * norm(b);
    if n == 0.0 { 0.0 } else { dot / n }
}

#[tokio::main]
async fn main() -> Result<()> {
    let model_inputs = ModelInputs::default();
    let subscriber = tracing_subscriber::registry().with(model_inputs.clone());
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| Error::internal(format!("cannot install the tracing layer: {e}")))?;

    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.5-flash")
        .build()
        .await?;

    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Which city is the capital of France?".to_string());

    // Embed the library and the question in one call each.
    let docs: Vec<DocumentData> = LIBRARY
        .iter()
        .map(|(id, text)| DocumentData::from(*text).with_metadata("id", *id))
        .collect();
    let vectors = ai.embed(EMBEDDER, docs.clone()).await?;
    let query = ai.embed(EMBEDDER, [question.as_str()]).await?;
    let query = &query
        .first()
        .ok_or_else(|| Error::internal("the embedder returned no embedding"))?
        .embedding;

    // Nearest first.
    let mut ranked: Vec<(f32, &DocumentData)> = vectors
        .iter()
        .zip(&docs)
        .map(|(v, d)| (cosine(&v.embedding, query), d))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (score, doc) in &ranked {
        eprintln!("{score:.3}  {}", doc.text());
    }
    let nearest: Vec<DocumentData> = ranked.iter().take(TOP).map(|(_, d)| (*d).clone()).collect();

    let response = ai
        .generate()
        .prompt(question.as_str())
        .docs(nearest)
        .await?;
    println!("{}", response.text());

    // The trace: what the model span recorded as its input.
    for input in model_inputs.take() {
        let request: GenerateRequest = genkit::from_value(input)?;
        let last_user = request.messages.iter().rev().find(|m| m.role == Role::User);
        for part in last_user.map(|m| m.content.as_slice()).unwrap_or_default() {
            if part.metadata_value("purpose") == Some(&json!("context")) {
                println!(
                    "--- the model received (trace, genkit:input):\n{}",
                    part.text.as_deref().unwrap_or_default().trim()
                );
            }
        }
    }
    Ok(())
}

/// Collects the `genkit:input` of every model span (`genkit:metadata:subtype` =
/// `model`).
#[derive(Clone, Default)]
struct ModelInputs(Arc<Mutex<Vec<Value>>>);

impl ModelInputs {
    fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Marks a span as a model span.
struct IsModel;

#[derive(Default)]
struct Fields {
    model: bool,
    input: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "genkit:metadata:subtype" && value == "model" {
            self.model = true;
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "genkit:input" {
            self.input = Some(format!("{value:?}"));
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for ModelInputs
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if fields.model
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(IsModel);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let is_model = ctx
            .span(id)
            .is_some_and(|s| s.extensions().get::<IsModel>().is_some());
        if !is_model {
            return;
        }
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(v) = fields.input.and_then(|s| serde_json::from_str(&s).ok()) {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(v);
        }
    }
}
