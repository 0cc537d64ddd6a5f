//! `Artifacts`: read and write the artifacts of the agent session a generate runs in.
//!
//! Tools `read_artifact {name}` → `{name, content, found}` and, unless read-only,
//! `write_artifact {name, content}` → `{status}` (adds or replaces the session's
//! artifact, which the agent streams as an `artifact` chunk). Before each model call an
//! `<artifacts>` listing (names, sizes, `metadata.source`) is put in the system message,
//! replaced on every call, never kept in the history. Outside an agent session the
//! tools answer with an explanation instead of failing, as Genkit's do.

use std::sync::Arc;

use futures::future::BoxFuture;
use genkit_core::agent::{Artifact, current_session};
use genkit_core::{
    Error, GenerateRequest, GenerateResponse, Middleware, ModelContext, ModelNext, Part, Result,
    ToolAction, ToolRef, text_of,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config;
use crate::skills::with_listing;

/// Marks the listing part in the system message.
pub const ARTIFACTS_MARKER: &str = "artifacts-middleware-listing";

const NO_SESSION: &str = "No agent session is active: artifacts are only available when this generate runs inside an agent turn.";

/// The Artifacts middleware.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Artifacts {
    readonly: bool,
}

/// JSON config (`{"readonly": false}`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactsConfig {
    /// Offer only `read_artifact`.
    pub readonly: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
struct ReadInput {
    /// The artifact's name.
    name: String,
}

#[derive(Deserialize, JsonSchema)]
struct WriteInput {
    /// The artifact's name; an artifact with this name is replaced.
    name: String,
    /// Its text content.
    content: String,
}

#[derive(Serialize, JsonSchema)]
struct ReadOutput {
    name: String,
    content: String,
    found: bool,
}

#[derive(Serialize, JsonSchema)]
struct WriteOutput {
    status: String,
}

impl Artifacts {
    /// Read and write.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only `read_artifact`.
    pub fn readonly(mut self, yes: bool) -> Self {
        self.readonly = yes;
        self
    }

    /// From its JSON config.
    pub fn from_config(config: Option<Value>) -> Result<Self> {
        let c: ArtifactsConfig = config::parse("artifacts", config)?;
        Ok(Artifacts::new().readonly(c.readonly.unwrap_or(false)))
    }
}

fn content_of(a: &Artifact) -> String {
    a.parts
        .iter()
        .filter_map(|p| p.text.as_deref())
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_tool() -> ToolRef {
    Arc::new(ToolAction::new(
        "read_artifact",
        "Reads an artifact of this session by name.",
        |input: ReadInput, _ctx| async move {
            let Some(session) = current_session() else {
                return Ok::<_, Error>(ReadOutput {
                    name: input.name,
                    content: NO_SESSION.into(),
                    found: false,
                });
            };
            let found = session
                .artifacts()
                .into_iter()
                .find(|a| a.name.as_deref() == Some(input.name.as_str()));
            Ok(match found {
                Some(a) => ReadOutput {
                    content: content_of(&a),
                    name: input.name,
                    found: true,
                },
                None => ReadOutput {
                    name: input.name,
                    content: String::new(),
                    found: false,
                },
            })
        },
    ))
}

fn write_tool() -> ToolRef {
    Arc::new(ToolAction::new(
        "write_artifact",
        "Writes (adds or replaces) an artifact of this session.",
        |input: WriteInput, _ctx| async move {
            let Some(session) = current_session() else {
                return Ok::<_, Error>(WriteOutput {
                    status: NO_SESSION.into(),
                });
            };
            session.add_artifact(Artifact::new(
                input.name.clone(),
                vec![Part::text(input.content)],
            ));
            Ok(WriteOutput {
                status: format!("Artifact '{}' written.", input.name),
            })
        },
    ))
}

fn listing(artifacts: &[Artifact]) -> String {
    let mut s =
        String::from("<artifacts>\nArtifacts of this session (use read_artifact to read one):\n");
    if artifacts.is_empty() {
        s.push_str(" (none yet)\n");
    }
    for a in artifacts {
        let name = a.name.as_deref().unwrap_or("(unnamed)");
        let chars = text_of(&a.parts).chars().count();
        s.push_str(&format!(" - {name} ({chars} chars)"));
        if let Some(source) = a.metadata.as_ref().and_then(|m| m.get("source")) {
            s.push_str(&format!(
                " source: {}",
                source
                    .as_str()
                    .map_or_else(|| source.to_string(), str::to_string)
            ));
        }
        s.push('\n');
    }
    s.push_str("</artifacts>");
    s
}

impl Middleware for Artifacts {
    fn name(&self) -> &str {
        "artifacts"
    }

    fn tools(&self) -> Vec<ToolRef> {
        if self.readonly {
            vec![read_tool()]
        } else {
            vec![read_tool(), write_tool()]
        }
    }

    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        let Some(session) = current_session() else {
            return next.run(request, cx);
        };
        let text = listing(&session.artifacts());
        let request = match with_listing(&request, ARTIFACTS_MARKER, &text) {
            Some(r) => Arc::new(r),
            None => request,
        };
        next.run(request, cx)
    }
}
