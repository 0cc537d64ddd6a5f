//! How `docs` reach a model: for every model whose info does not claim
//! `supports.context`, the documents are rendered as text and appended to the last
//! user message of each model call, as Genkit's `augmentWithContext`:
//!
//! ```text
//! \n\nUse the following information to complete your task:\n\n
//! - [<metadata.ref, else metadata.id, else the index>]: <the document's text>\n
//! …
//! \n
//! ```
//!
//! The part carries `metadata: {purpose: "context"}`. A user message that already holds
//! such a part is left alone (a part with `metadata.pending` set is replaced instead),
//! so a rendering of your own comes first: add [`AugmentWithContext`] with your
//! preface, citations or item template to the call (`.use_(...)`), or
//! [`AugmentWithContext::off`] to send the model no documents. Models that claim
//! `supports.context` receive `docs` as they are.
//!
//! The rendering goes into the request the model receives (and its trace span), not
//! into the conversation: `response.request` and `response.messages()` hold the
//! messages without it, so a follow-up call with other documents is not stuck with
//! the first ones.
//!
//! ```
//! use genkit_core::generate::AugmentWithContext;
//! use genkit_core::{DocumentData, GenerateRequest, Message, Part, Role};
//!
//! let request = GenerateRequest {
//!     messages: vec![Message::new(Role::User, vec![Part::text("Capital of France?")]).into()],
//!     docs: Some(vec![DocumentData::from("Paris is the capital of France.").with_metadata("id", "d1")]),
//!     ..Default::default()
//! };
//! let augmented = AugmentWithContext::new().augment(&request).expect("docs to render");
//! assert_eq!(
//!     augmented.messages[0].content[1].text.as_deref(),
//!     Some("\n\nUse the following information to complete your task:\n\n- [d1]: Paris is the capital of France.\n\n")
//! );
//!
//! // Your own rendering.
//! let mine = AugmentWithContext::new()
//!     .preface("Sources:\n")
//!     .item_template(|doc, i| format!("{}. {}\n", i + 1, doc.text()));
//! let augmented = mine.augment(&request).expect("docs to render");
//! assert_eq!(
//!     augmented.messages[0].content[1].text.as_deref(),
//!     Some("Sources:\n1. Paris is the capital of France.\n\n")
//! );
//! ```

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::middleware::{Middleware, ModelNext};
use crate::model::{ModelContext, ModelInfo};
use crate::types::{DocumentData, GenerateRequest, GenerateResponse, Part, Role, is_falsy};

/// Genkit's preface before the rendered documents.
pub const CONTEXT_PREFACE: &str = "\n\nUse the following information to complete your task:\n\n";

type ItemTemplate = dyn Fn(&DocumentData, usize) -> String + Send + Sync;

/// Which metadata key names a document in the default item template.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Citation {
    /// `metadata.ref`, else `metadata.id`, else the document's index (Genkit's default).
    #[default]
    RefOrId,
    /// This metadata key (`[undefined]` for a document without it, as in Genkit).
    Key(String),
    /// No citation: `- <text>`.
    None,
}

/// Renders `docs` into the last user message of the request a model receives (see
/// the [module docs](self)). Used by default for models without `supports.context`;
/// add one to a call with `.use_(…)` to change the rendering, or
/// [`off`](Self::off) to send no documents.
#[derive(Clone)]
pub struct AugmentWithContext {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Off,
    Render {
        preface: Option<String>,
        citation: Citation,
        template: Option<Arc<ItemTemplate>>,
    },
}

impl Default for AugmentWithContext {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AugmentWithContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.mode {
            Mode::Off => f.write_str("AugmentWithContext::off()"),
            Mode::Render {
                preface,
                citation,
                template,
            } => f
                .debug_struct("AugmentWithContext")
                .field("preface", preface)
                .field("citation", citation)
                .field("item_template", &template.is_some())
                .finish(),
        }
    }
}

impl AugmentWithContext {
    /// Genkit's rendering: [`CONTEXT_PREFACE`], then `- [ref]: text\n` per document,
    /// then a blank line.
    pub fn new() -> Self {
        AugmentWithContext {
            mode: Mode::Render {
                preface: Some(CONTEXT_PREFACE.to_string()),
                citation: Citation::default(),
                template: None,
            },
        }
    }

    /// Sends the model no documents (it still sees them in `response.request.docs`
    /// and the trace of the generate call).
    pub fn off() -> Self {
        AugmentWithContext { mode: Mode::Off }
    }

    /// The text before the documents (`""` for none).
    pub fn preface(mut self, preface: impl Into<String>) -> Self {
        if let Mode::Render { preface: p, .. } = &mut self.mode {
            *p = Some(preface.into());
        }
        self
    }

    /// How the default item template cites a document.
    pub fn citation(mut self, citation: Citation) -> Self {
        if let Mode::Render { citation: c, .. } = &mut self.mode {
            *c = citation;
        }
        self
    }

    /// Renders each document (with its index) yourself.
    pub fn item_template(
        mut self,
        template: impl Fn(&DocumentData, usize) -> String + Send + Sync + 'static,
    ) -> Self {
        if let Mode::Render { template: t, .. } = &mut self.mode {
            *t = Some(Arc::new(template));
        }
        self
    }

    /// The request with the documents rendered into its last user message; `None`
    /// when nothing changes (no docs, no user message, or a context part that is not
    /// pending already there). [`off`](Self::off) gives the request without `docs`.
    pub fn augment(&self, request: &GenerateRequest) -> Option<GenerateRequest> {
        let docs = request.docs.as_deref().filter(|d| !d.is_empty())?;
        let Mode::Render {
            preface,
            citation,
            template,
        } = &self.mode
        else {
            return Some(GenerateRequest {
                docs: None,
                ..request.clone()
            });
        };
        let target = request
            .messages
            .iter()
            .rposition(|m| m.role == Role::User)?;
        let existing = request.messages[target]
            .content
            .iter()
            .position(|p| p.metadata_value("purpose") == Some(&Value::from("context")));
        if let Some(i) = existing {
            let part = &request.messages[target].content[i];
            if part.metadata_value("pending").is_none_or(is_falsy) {
                return None;
            }
        }
        let mut text = preface.clone().unwrap_or_default();
        for (i, doc) in docs.iter().enumerate() {
            match template {
                Some(t) => text.push_str(&t(doc, i)),
                None => text.push_str(&default_item(doc, i, citation)),
            }
        }
        text.push('\n');
        let mut meta = Map::new();
        meta.insert("purpose".into(), Value::from("context"));
        let mut out = request.clone();
        let content = &mut Arc::make_mut(&mut out.messages[target]).content;
        match existing {
            Some(i) => {
                let part = &mut content[i];
                part.text = Some(text);
                part.metadata = Some(Box::new(meta));
            }
            None => content.push(Part {
                text: Some(text),
                metadata: Some(Box::new(meta)),
                ..Default::default()
            }),
        }
        Some(out)
    }
}

/// `- [citation]: text\n`, as Genkit's default item template.
fn default_item(doc: &DocumentData, index: usize, citation: &Citation) -> String {
    let meta = |k: &str| doc.metadata.as_ref().and_then(|m| m.get(k));
    let cite = match citation {
        Citation::None => None,
        Citation::Key(k) => Some(meta(k).map(js_text).unwrap_or_else(|| "undefined".into())),
        Citation::RefOrId => Some(
            meta("ref")
                .filter(|v| !is_falsy(v))
                .or_else(|| meta("id").filter(|v| !is_falsy(v)))
                .map_or_else(|| index.to_string(), js_text),
        ),
    };
    match cite {
        Some(c) => format!("- [{c}]: {}\n", doc.text()),
        None => format!("- {}\n", doc.text()),
    }
}

/// A metadata value as JS template strings print it (strings bare, the rest as JSON;
/// objects are `[object Object]` in JS, JSON here).
fn js_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The built-in step of every model call: Genkit's rendering unless the model takes
/// documents natively.
pub(crate) fn for_model(info: &ModelInfo, request: &GenerateRequest) -> Option<GenerateRequest> {
    let native = info
        .supports
        .as_ref()
        .and_then(|s| s.context)
        .unwrap_or(false);
    if native {
        return None;
    }
    AugmentWithContext::new().augment(request)
}

impl Middleware for AugmentWithContext {
    fn name(&self) -> &str {
        "augmentWithContext"
    }

    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        let request = match self.augment(&request) {
            Some(r) => Arc::new(r),
            None => request,
        };
        next.run(request, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Message;
    use serde_json::json;

    fn request(content: Vec<Part>, docs: Vec<DocumentData>) -> GenerateRequest {
        GenerateRequest {
            messages: vec![
                Message::new(Role::User, vec![Part::text("first")]),
                Message::new(Role::Model, vec![Part::text("ok")]),
                Message::new(Role::User, content),
            ]
            .into_iter()
            .map(std::sync::Arc::new)
            .collect::<Vec<_>>(),
            docs: Some(docs),
            ..Default::default()
        }
    }

    fn doc(text: &str, meta: Value) -> DocumentData {
        serde_json::from_value(json!({"content": [{"text": text}], "metadata": meta})).unwrap()
    }

    #[test]
    fn citations_fall_back_from_ref_to_id_to_index() {
        let r = request(
            vec![Part::text("q")],
            vec![
                doc("a", json!({"id": "d1"})),
                doc("b", json!({"ref": "r2", "id": "x"})),
                doc("c", json!({"ref": "", "id": 0})),
            ],
        );
        let out = AugmentWithContext::new().augment(&r).unwrap();
        let last = &out.messages[2].content;
        assert_eq!(
            last[1].text.as_deref(),
            Some(
                "\n\nUse the following information to complete your task:\n\n- [d1]: a\n- [r2]: b\n- [2]: c\n\n"
            )
        );
        assert_eq!(last[1].metadata_value("purpose"), Some(&json!("context")));
        // The first user message and the original request are untouched.
        assert_eq!(out.messages[0].content.len(), 1);
        assert_eq!(r.messages[2].content.len(), 1);
    }

    #[test]
    fn existing_context_is_kept_and_pending_is_replaced() {
        let own = Part::text("mine").with_metadata("purpose", json!("context"));
        let r = request(vec![Part::text("q"), own], vec![doc("a", json!({}))]);
        assert!(AugmentWithContext::new().augment(&r).is_none());

        let pending = Part::text("placeholder")
            .with_metadata("purpose", json!("context"))
            .with_metadata("pending", json!(true));
        let r = request(
            vec![Part::text("q"), pending, Part::text("after")],
            vec![doc("a", json!({}))],
        );
        let out = AugmentWithContext::new().augment(&r).unwrap();
        let last = &out.messages[2].content;
        assert_eq!(last.len(), 3);
        assert_eq!(
            last[1].text.as_deref(),
            Some(format!("{CONTEXT_PREFACE}- [0]: a\n\n").as_str())
        );
        assert_eq!(
            last[1].metadata.as_deref(),
            json!({"purpose": "context"}).as_object()
        );
    }

    #[test]
    fn nothing_to_do_without_docs_or_user_message() {
        let r = request(vec![Part::text("q")], vec![]);
        assert!(AugmentWithContext::new().augment(&r).is_none());
        let mut r = request(vec![Part::text("q")], vec![doc("a", json!({}))]);
        r.messages.retain(|m| m.role != Role::User);
        assert!(AugmentWithContext::new().augment(&r).is_none());
    }

    #[test]
    fn custom_rendering_and_off() {
        let r = request(
            vec![Part::text("q")],
            vec![doc("a", json!({"src": "wiki"}))],
        );
        let out = AugmentWithContext::new()
            .preface("")
            .citation(Citation::Key("src".into()))
            .augment(&r)
            .unwrap();
        assert_eq!(
            out.messages[2].content[1].text.as_deref(),
            Some("- [wiki]: a\n\n")
        );
        let out = AugmentWithContext::new()
            .citation(Citation::None)
            .augment(&r)
            .unwrap();
        assert!(
            out.messages[2].content[1]
                .text
                .as_deref()
                .unwrap()
                .ends_with("- a\n\n")
        );
        let off = AugmentWithContext::off().augment(&r).unwrap();
        assert_eq!(off.docs, None);
        assert_eq!(off.messages, r.messages);
    }

    #[test]
    fn models_with_native_context_get_docs_as_they_are() {
        let r = request(vec![Part::text("q")], vec![doc("a", json!({}))]);
        let mut supports = crate::model::ModelSupports::default();
        assert!(for_model(&ModelInfo::new("m", supports.clone()), &r).is_some());
        supports.context = Some(true);
        assert!(for_model(&ModelInfo::new("m", supports), &r).is_none());
    }
}
