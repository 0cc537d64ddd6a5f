//! `ToolApproval`: tools outside an allow-list wait for the caller's approval.

use futures::future::BoxFuture;
use genkit_core::{Middleware, Result, ToolCall, ToolNext};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config;

/// Runs only allow-listed tools; every other tool request interrupts the generation
/// for approval, as Genkit's `tool_approval`.
///
/// A tool not on the list is not run: `generate` ends with finish reason
/// `interrupted`, the request in `response.interrupts()` carrying
/// `metadata.interrupt = {"message": "Tool not in approved list: <name>"}`. The caller
/// then continues the same generation with `.messages(response.messages())` and, for
/// each interrupt, one of:
///
/// - **approve**: `.restart(&part, json!({"toolApproved": true}))` (Genkit's
///   `resume.restart` with `metadata.resumed.toolApproved`): the tool runs now;
/// - **deny** or **replace the output**: `.respond(&part, output)` (Genkit's
///   `resume.respond`): the tool does not run and the model sees `output` (for a
///   denial, say so in it, e.g. [`ToolApproval::denied`]).
///
/// Keep `ToolApproval` in the resumed call's `use` list. A resume carrying only
/// `resumed: true` (no `toolApproved`) does not approve.
///
/// **Trace**: each interrupt is an event (target `genkit::middleware`, fields
/// `middleware = "tool_approval"`, `tool`).
///
/// ```no_run
/// # async fn demo(ai: genkit_core::Genkit, delete_file: genkit_core::ToolRef) -> genkit_core::Result<()> {
/// use genkit_middleware::ToolApproval;
/// use serde_json::json;
///
/// let r = ai.generate().prompt("Delete: notes.txt").tools([&delete_file])
///     .use_(ToolApproval::new()).await?;
/// if let Some(part) = r.interrupts().first() {
///     let r = ai.generate().messages(r.messages()).tools([&delete_file])
///         .use_(ToolApproval::new())
///         .restart(part, json!({"toolApproved": true}))
///         .await?;
///     println!("{}", r.text());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ToolApproval {
    allowed: Vec<String>,
}

/// The JSON config of the registered `tool_approval` middleware.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolApprovalConfig {
    /// Tools that run without approval (Genkit JS calls it `approved`).
    #[serde(default, alias = "approved", alias = "allowed_tools")]
    pub allowed_tools: Vec<String>,
}

impl ToolApproval {
    /// No tool runs without approval.
    pub fn new() -> Self {
        Self::default()
    }

    /// These tools run without approval.
    pub fn allowed_tools<S: Into<String>>(tools: impl IntoIterator<Item = S>) -> Self {
        ToolApproval {
            allowed: tools.into_iter().map(Into::into).collect(),
        }
    }

    /// Also lets `tool` run without approval.
    pub fn allow(mut self, tool: impl Into<String>) -> Self {
        self.allowed.push(tool.into());
        self
    }

    /// From the JSON config of the registered `tool_approval` middleware.
    pub fn from_config(config: Option<Value>) -> Result<Self> {
        let c: ToolApprovalConfig = config::parse("tool_approval", config)?;
        Ok(ToolApproval {
            allowed: c.allowed_tools,
        })
    }

    /// An output for `.respond(&part, …)` telling the model the user refused the call.
    pub fn denied(reason: impl Into<String>) -> Value {
        json!({ "status": "denied", "message": reason.into() })
    }

    fn allows(&self, call: &ToolCall) -> bool {
        self.allowed
            .iter()
            .any(|a| a == &call.request.name || a == call.tool.name())
    }
}

/// Whether a resumed call was approved (`metadata.resumed.toolApproved == true`).
fn approved(call: &ToolCall) -> bool {
    call.context.resumed().is_some_and(|r| {
        r.get("toolApproved").or_else(|| r.get("tool_approved")) == Some(&Value::Bool(true))
    })
}

impl Middleware for ToolApproval {
    fn name(&self) -> &str {
        "tool_approval"
    }

    fn tool<'a>(&'a self, call: ToolCall, next: ToolNext<'a>) -> BoxFuture<'a, Result<Value>> {
        if self.allows(&call) || approved(&call) {
            return next.run(call);
        }
        tracing::info!(
            target: "genkit::middleware",
            middleware = "tool_approval",
            tool = call.request.name.as_str(),
            "tool call waits for approval"
        );
        let message = format!("Tool not in approved list: {}", call.request.name);
        let err = call.context.interrupt(json!({ "message": message }));
        Box::pin(async move { Err(err) })
    }
}
