//! Embedders: actions that turn documents into vectors (Genkit's `/embedder/{name}`).
//!
//! Providers register an [`EmbedderAction`] with
//! [`Registry::register_action`](crate::Registry::register_action); callers use
//! [`Genkit::embed`] (or run `/embedder/{name}` with an [`EmbedRequest`] as JSON).
//!
//! ```no_run
//! # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
//! let embeddings = ai.embed("googleai/text-embedding-004", ["Rust", "Genkit"]).await?;
//! assert_eq!(embeddings.len(), 2);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::action::{Action, ActionDesc, ActionKind, RunOptions};
use crate::error::Result;
use crate::genkit::Genkit;
use crate::trace::{SpanMeta, in_span};
use crate::types::{DocumentData, Metadata, Part, from_value};

/// The input of an embedder (Genkit's `EmbedRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EmbedRequest {
    /// The documents to embed, one embedding each.
    pub input: Vec<DocumentData>,
    /// Provider options (task type, dimensions, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

impl EmbedRequest {
    /// A request for these documents, without options.
    pub fn new(input: Vec<DocumentData>) -> Self {
        EmbedRequest {
            input,
            options: None,
        }
    }

    /// Sets the provider options.
    pub fn with_options(mut self, options: Value) -> Self {
        self.options = Some(options);
        self
    }
}

/// One vector (Genkit's `Embedding`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Embedding {
    /// The vector.
    pub embedding: Vec<f32>,
    /// Metadata about this embedding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Embedding {
    /// An embedding without metadata.
    pub fn new(embedding: Vec<f32>) -> Self {
        Embedding {
            embedding,
            metadata: None,
        }
    }
}

/// The output of an embedder (Genkit's `EmbedResponse`): one embedding per input
/// document, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EmbedResponse {
    /// The embeddings.
    pub embeddings: Vec<Embedding>,
}

impl EmbedResponse {
    /// A response holding these embeddings.
    pub fn new(embeddings: Vec<Embedding>) -> Self {
        EmbedResponse { embeddings }
    }
}

/// What an embedder supports (Genkit's `EmbedderInfo.supports`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmbedderSupports {
    /// Input kinds (`text`, `image`, `video`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<String>>,
    /// Whether it handles many languages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multilingual: Option<bool>,
}

/// Genkit's `EmbedderInfo`, listed as `metadata.embedder` of the action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmbedderInfo {
    /// Display label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Length of the vectors it returns by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports: Option<EmbedderSupports>,
}

impl EmbedderInfo {
    /// Info with a label, a dimension and text input.
    pub fn new(label: impl Into<String>, dimensions: u32) -> Self {
        EmbedderInfo {
            label: Some(label.into()),
            dimensions: Some(dimensions),
            supports: Some(EmbedderSupports {
                input: Some(vec!["text".into()]),
                multilingual: None,
            }),
        }
    }
}

type EmbedFn = dyn Fn(EmbedRequest) -> BoxFuture<'static, Result<EmbedResponse>> + Send + Sync;

/// An embedder action: a name, its [`EmbedderInfo`], and the function that embeds.
pub struct EmbedderAction {
    desc: ActionDesc,
    info: EmbedderInfo,
    f: Box<EmbedFn>,
}

/// A shared embedder.
pub type EmbedderRef = Arc<EmbedderAction>;

impl EmbedderAction {
    /// An embedder from an async function.
    pub fn new<F, Fut>(name: impl Into<String>, info: EmbedderInfo, f: F) -> Self
    where
        F: Fn(EmbedRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<EmbedResponse>> + Send + 'static,
    {
        let mut desc = ActionDesc::new(ActionKind::Embedder, name);
        if let Ok(v) = serde_json::to_value(&info) {
            desc.metadata.insert("embedder".into(), v);
        }
        EmbedderAction {
            desc,
            info,
            f: Box::new(move |r| Box::pin(f(r))),
        }
    }

    /// Its name (`googleai/text-embedding-004`).
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    /// Its info.
    pub fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    /// Embeds, inside its traced span (`{name,t:action,s:embedder}`).
    pub async fn embed(&self, request: EmbedRequest) -> Result<EmbedResponse> {
        let meta = SpanMeta {
            name: &self.desc.name,
            kind: "action",
            subtype: Some("embedder"),
            key: Some(&self.desc.key),
            session_id: None,
        };
        let fut = (self.f)(request.clone());
        in_span(meta, Some(&request), None, fut).await
    }
}

impl Action for EmbedderAction {
    fn desc(&self) -> &ActionDesc {
        &self.desc
    }

    fn run_json(
        &self,
        _ai: Genkit,
        input: Value,
        _opts: RunOptions,
    ) -> BoxFuture<'static, Result<Value>> {
        let request: Result<EmbedRequest> = from_value(input);
        let meta_name = self.desc.name.clone();
        let meta_key = self.desc.key.clone();
        let fut = request.map(|r| ((self.f)(r.clone()), r));
        Box::pin(async move {
            let (fut, request) = fut?;
            let meta = SpanMeta {
                name: &meta_name,
                kind: "action",
                subtype: Some("embedder"),
                key: Some(&meta_key),
                session_id: None,
            };
            let resp = in_span(meta, Some(&request), None, fut).await?;
            Ok(serde_json::to_value(resp)?)
        })
    }
}

impl From<&str> for DocumentData {
    fn from(text: &str) -> Self {
        DocumentData {
            content: vec![Part::text(text)],
            metadata: None,
        }
    }
}

impl From<String> for DocumentData {
    fn from(text: String) -> Self {
        DocumentData {
            content: vec![Part::text(text)],
            metadata: None,
        }
    }
}

impl From<&String> for DocumentData {
    fn from(text: &String) -> Self {
        DocumentData::from(text.as_str())
    }
}

impl Genkit {
    /// Embeds documents (or plain strings) with the registered embedder `embedder`
    /// (`googleai/text-embedding-004`): one embedding per document, in order. An unknown
    /// embedder is NOT_FOUND.
    pub async fn embed<D: Into<DocumentData>>(
        &self,
        embedder: &str,
        docs: impl IntoIterator<Item = D>,
    ) -> Result<Vec<Embedding>> {
        let request = EmbedRequest::new(docs.into_iter().map(Into::into).collect());
        Ok(self.embed_request(embedder, request).await?.embeddings)
    }

    /// Runs the embedder `embedder` with a full request (documents and options).
    pub async fn embed_request(
        &self,
        embedder: &str,
        request: EmbedRequest,
    ) -> Result<EmbedResponse> {
        self.registry().embedder(embedder)?.embed(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embed_json_is_camel_case_and_round_trips() {
        let req = EmbedRequest::new(vec![DocumentData::from("hi")])
            .with_options(json!({"taskType": "X"}));
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(
            v,
            json!({"input": [{"content": [{"text": "hi"}]}], "options": {"taskType": "X"}})
        );
        let resp: EmbedResponse =
            from_value(json!({"embeddings": [{"embedding": [1.0, 2.5], "metadata": {"a": 1}}]}))
                .unwrap();
        assert_eq!(resp.embeddings[0].embedding, vec![1.0, 2.5]);
        assert!(from_value::<EmbedResponse>(json!({"embeddings": [], "x": 1})).is_err());
    }

    #[tokio::test]
    async fn registered_embedder_runs_by_name() {
        let ai = Genkit::builder()
            .without_submitted_actions()
            .build()
            .await
            .unwrap();
        let e = EmbedderAction::new(
            "test/len",
            EmbedderInfo::new("Len", 1),
            |req: EmbedRequest| async move {
                Ok(EmbedResponse::new(
                    req.input
                        .iter()
                        .map(|d| {
                            Embedding::new(vec![crate::types::text_of(&d.content).len() as f32])
                        })
                        .collect(),
                ))
            },
        );
        assert_eq!(e.info().dimensions, Some(1));
        ai.registry().register_embedder(Arc::new(e)).unwrap();
        let out = ai.embed("test/len", ["ab", "abcd"]).await.unwrap();
        assert_eq!(
            out.iter().map(|e| e.embedding[0]).collect::<Vec<_>>(),
            vec![2.0, 4.0]
        );
        let listed = ai.registry().lookup("/embedder/test/len").unwrap();
        assert_eq!(listed.desc().metadata["embedder"]["dimensions"], json!(1));
        let missing = ai.embed("test/none", ["x"]).await.unwrap_err();
        assert_eq!(missing.status(), crate::Status::NotFound);
        let bad = ai
            .run_action(
                "/embedder/test/len",
                json!({"inputs": []}),
                RunOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(bad.status(), crate::Status::InvalidArgument);
    }
}
