//! The `{plugin}/{name}` embedders: every document in one `POST /embeddings`.
//!
//! Options (`EmbedRequest.options`): `dimensions` (text-embedding-3 models), `user`,
//! `version` (the model to call instead). A document's text parts are joined; other
//! parts are INVALID_ARGUMENT.

use std::borrow::Cow;
use std::sync::Arc;

use genkit_core::embedder::{EmbedRequest, EmbedResponse, EmbedderAction, EmbedderInfo, Embedding};
use genkit_core::{Error, Result};
use serde::Deserialize;

use crate::client::Client;
use crate::wire;

/// Options of the embedders.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EmbedOptions {
    /// Shorter vectors.
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// An end-user id.
    #[serde(default)]
    pub user: Option<String>,
    /// The model to call instead of the action's own.
    #[serde(default)]
    pub version: Option<String>,
}

/// The default vector length of an embedding model (OpenAI's; 768 for others).
pub fn dimensions(name: &str) -> u32 {
    match name {
        "text-embedding-3-large" => 3072,
        "text-embedding-3-small" | "text-embedding-ada-002" => 1536,
        _ => 768,
    }
}

pub(crate) fn embedder_action(
    plugin: &str,
    label: &str,
    name: &str,
    client: Arc<Client>,
) -> EmbedderAction {
    let model: Arc<str> = Arc::from(name);
    let info = EmbedderInfo::new(format!("{label} - {name}"), dimensions(name));
    EmbedderAction::new(
        format!("{plugin}/{name}"),
        info,
        move |req: EmbedRequest| {
            let client = client.clone();
            let model = model.clone();
            async move { embed(&client, &model, req).await }
        },
    )
}

fn doc_text(parts: &[genkit_core::Part]) -> Result<Cow<'_, str>> {
    if let [p] = parts
        && let Some(t) = &p.text
    {
        return Ok(Cow::Borrowed(t));
    }
    let mut s = String::new();
    for p in parts {
        s.push_str(p.text.as_deref().ok_or_else(|| {
            Error::invalid_argument(
                "the embeddings API takes text only: a document holds another part",
            )
        })?);
    }
    Ok(Cow::Owned(s))
}

async fn embed(client: &Client, name: &str, req: EmbedRequest) -> Result<EmbedResponse> {
    let opts: EmbedOptions = match req.options {
        None | Some(serde_json::Value::Null) => EmbedOptions::default(),
        Some(v) => genkit_core::from_value(v)
            .map_err(|e| Error::invalid_argument(format!("options: {}", e.message())))?,
    };
    if req.input.is_empty() {
        return Ok(EmbedResponse::new(Vec::new()));
    }
    let input = req
        .input
        .iter()
        .enumerate()
        .map(|(i, d)| {
            doc_text(&d.content)
                .map_err(|e| Error::invalid_argument(format!("input[{i}]: {}", e.message())))
        })
        .collect::<Result<Vec<_>>>()?;
    let n = input.len();
    let body = wire::EmbeddingRequest {
        model: opts.version.map_or(Cow::Borrowed(name), Cow::Owned),
        input,
        encoding_format: "float",
        dimensions: opts.dimensions,
        user: opts.user,
    };
    let mut resp = client.embed(&body).await?;
    if resp.data.len() != n {
        return Err(Error::internal(format!(
            "the embeddings API returned {} vectors for {n} documents",
            resp.data.len()
        )));
    }
    resp.data.sort_by_key(|d| d.index);
    if resp.data.iter().enumerate().any(|(i, d)| d.index != i) {
        return Err(Error::internal(
            "the embeddings API returned vectors with wrong indices",
        ));
    }
    Ok(EmbedResponse::new(
        resp.data
            .into_iter()
            .map(|d| Embedding::new(d.embedding))
            .collect(),
    ))
}
