//! The `googleai/{name}` embedders: one document → `embedContent`, several →
//! one `batchEmbedContents` call.
//!
//! Options (`EmbedRequest.options`): `taskType`, `title`, `outputDimensionality`,
//! `version` (the Gemini model to call instead).

use std::sync::Arc;

use genkit_core::embedder::{EmbedRequest, EmbedResponse, EmbedderAction, EmbedderInfo, Embedding};
use genkit_core::{Error, Result};
use serde::Deserialize;

use crate::client::Client;
use crate::translate::request::doc_parts;
use crate::wire;

/// Options of the Gemini embedders.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EmbedOptions {
    /// `RETRIEVAL_QUERY`, `RETRIEVAL_DOCUMENT`, `SEMANTIC_SIMILARITY`, …
    #[serde(default)]
    pub task_type: Option<String>,
    /// Document title (with `RETRIEVAL_DOCUMENT`).
    #[serde(default)]
    pub title: Option<String>,
    /// Truncate vectors to this length.
    #[serde(default)]
    pub output_dimensionality: Option<u32>,
    /// The Gemini model to call instead of the action's own.
    #[serde(default)]
    pub version: Option<String>,
}

/// The default vector length of a Gemini embedding model.
pub fn dimensions(name: &str) -> u32 {
    if name.starts_with("gemini-embedding") {
        3072
    } else {
        768
    }
}

pub(crate) fn embedder_action(name: &str, client: Arc<Client>) -> EmbedderAction {
    let version: Arc<str> = Arc::from(name);
    let info = EmbedderInfo::new(format!("Google AI - {name}"), dimensions(name));
    EmbedderAction::new(
        format!("googleai/{name}"),
        info,
        move |req: EmbedRequest| {
            let client = client.clone();
            let version = version.clone();
            async move { embed(&client, &version, req).await }
        },
    )
}

async fn embed(client: &Client, name: &str, req: EmbedRequest) -> Result<EmbedResponse> {
    let opts: EmbedOptions = match req.options {
        None | Some(serde_json::Value::Null) => EmbedOptions::default(),
        Some(v) => genkit_core::from_value(v)
            .map_err(|e| Error::invalid_argument(format!("options: {}", e.message())))?,
    };
    let model = opts.version.clone().unwrap_or_else(|| name.to_string());
    let model = model.strip_prefix("models/").unwrap_or(&model).to_string();
    let requests = req
        .input
        .iter()
        .map(|d| {
            Ok(wire::EmbedContentRequest {
                model: Some(format!("models/{model}")),
                content: wire::Content {
                    role: None,
                    parts: doc_parts(&d.content)?,
                },
                task_type: opts.task_type.clone(),
                title: opts.title.clone(),
                output_dimensionality: opts.output_dimensionality,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let vectors = match requests.len() {
        0 => Vec::new(),
        1 => {
            let mut one = requests;
            let body = one.remove(0);
            vec![client.embed(&model, &body).await?.embedding.values]
        }
        n => {
            let resp = client
                .batch_embed(&model, &wire::BatchEmbedContentsRequest { requests })
                .await?;
            if resp.embeddings.len() != n {
                return Err(Error::internal(format!(
                    "batchEmbedContents returned {} embeddings for {n} documents",
                    resp.embeddings.len()
                )));
            }
            resp.embeddings.into_iter().map(|e| e.values).collect()
        }
    };
    Ok(EmbedResponse::new(
        vectors.into_iter().map(Embedding::new).collect(),
    ))
}
