//! An interrupted generation handed to a caller (a served flow's HTTP client) and back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FinishReason, GenerateResponse, Message, Part, Resume};
use crate::error::{Error, Result, Status};

/// An interrupted generation, in a shape a caller can resume from: the conversation so
/// far and the interrupted tool requests. [`GenerateResponse::ok_or_interrupted`] puts
/// it in an error's `details` (so an HTTP caller receives it); the caller adds its
/// answers in `resume` and sends the whole object back, and the flow continues with
/// `.messages(i.messages).resume(i.resume.unwrap_or_default())`.
///
/// JSON: `{"messages": [...], "interrupts": [<toolRequest part>...], "resume"?:
/// {"restart"?: [...], "respond"?: [...]}}`. To approve a request (for example one
/// `ToolApproval` stopped), send `{"toolRequest": <the part's toolRequest>, "metadata":
/// {"resumed": {"toolApproved": true}}}` in `resume.restart`; to answer in the tool's
/// place, `{"toolResponse": {"name", "ref" (both the request's), "output"}, "metadata":
/// {"interruptResponse": true}}` in `resume.respond`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Interruption {
    /// The conversation, ending with the model message that holds the interrupted
    /// tool requests.
    #[schemars(with = "Vec<Value>")]
    pub messages: Vec<Message>,
    /// The interrupted tool-request parts (each with its `metadata.interrupt`).
    #[serde(default)]
    #[schemars(with = "Vec<Value>")]
    pub interrupts: Vec<Part>,
    /// The caller's answers, when it sends the interruption back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub resume: Option<Resume>,
}

impl Interruption {
    /// The interruption of `response`, if it finished `interrupted`.
    pub fn of(response: &GenerateResponse) -> Option<Self> {
        (response.finish_reason == Some(FinishReason::Interrupted)).then(|| Interruption {
            messages: response.messages(),
            interrupts: response.interrupts().into_iter().cloned().collect(),
            resume: None,
        })
    }

    /// The error a flow returns for it: FAILED_PRECONDITION (HTTP 400), naming the
    /// waiting tools, with this interruption as its `details`.
    pub fn into_error(self) -> Error {
        let names: Vec<String> = self
            .interrupts
            .iter()
            .filter_map(|p| p.tool_request.as_ref())
            .map(|r| format!("`{}`", r.name))
            .collect();
        let message = format!(
            "interrupted: the tool call {} waits for an answer; send `details` back with `resume` to continue",
            names.join(", ")
        );
        let details = serde_json::to_value(&self).unwrap_or(Value::Null);
        Error::new(Status::FailedPrecondition, message).with_details(details)
    }
}

impl GenerateResponse {
    /// `Ok(self)` unless the generation was interrupted; then the [`Interruption`] as a
    /// FAILED_PRECONDITION error, so a served flow answers its HTTP caller with what to
    /// resume from instead of an empty text: `Ok(call.await?.ok_or_interrupted()?.text())`.
    pub fn ok_or_interrupted(self) -> Result<Self> {
        match Interruption::of(&self) {
            Some(i) => Err(i.into_error()),
            None => Ok(self),
        }
    }
}
