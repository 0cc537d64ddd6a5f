//! The `googleai/{name}` model actions.

use std::sync::Arc;

use genkit_core::{
    Error, GenerateRequest, GenerateResponse, GenerateResponseChunk, ModelAction, ModelContext,
    ModelInfo, ModelSupports, Result,
};

use crate::client::Client;
use crate::translate::{Aggregator, from_gemini, to_gemini};

/// What every Gemini model supports here: multi-turn, media, tools (with tool choice),
/// system instructions, JSON output, constrained output when no tools are declared
/// (Gemini refuses a JSON response type together with function calling).
pub fn gemini_supports() -> ModelSupports {
    let mut s = ModelSupports::full();
    s.constrained = Some("no-tools".into());
    s
}

/// The model info of `googleai/{name}`, by family: Gemini models as
/// [`gemini_supports`]; Gemma models on the Gemini API take no function declarations,
/// no system instruction and no JSON mode; text-to-speech and image models answer with
/// media and take no tools.
pub fn gemini_info(name: &str) -> ModelInfo {
    let mut supports = gemini_supports();
    if name.starts_with("gemma-") {
        supports.tools = Some(false);
        supports.tool_choice = Some(false);
        supports.system_role = Some(false);
        supports.output = Some(vec!["text".into()]);
        supports.constrained = Some("none".into());
    } else if name.contains("-tts") || name.contains("-image") {
        supports.tools = Some(false);
        supports.tool_choice = Some(false);
        supports.output = Some(vec!["media".into()]);
        supports.constrained = Some("none".into());
    }
    ModelInfo::new(format!("Google AI - {name}"), supports)
}

pub(crate) fn model_action(name: &str, client: Arc<Client>) -> ModelAction {
    let version: Arc<str> = Arc::from(name);
    ModelAction::new(
        format!("googleai/{name}"),
        gemini_info(name),
        move |req, cx| {
            let client = client.clone();
            let version = version.clone();
            async move { generate(&client, &version, &req, &cx).await }
        },
    )
}

async fn generate(
    client: &Client,
    name: &str,
    req: &GenerateRequest,
    cx: &ModelContext,
) -> Result<GenerateResponse> {
    // Serialized now: the wire copy of the conversation is freed before the call, not
    // held for as long as the answer takes (nor kept in this future's state). The body
    // itself is held until the answer (reqwest keeps it to follow a redirect), so
    // without the spare capacity the growing buffer left (up to half of it).
    let (body, version) = {
        let translated = to_gemini(req)?;
        let mut body = serde_json::to_vec(&translated.body)?;
        body.shrink_to_fit();
        (body, translated.version)
    };
    let model = version.as_deref().unwrap_or(name);
    if !cx.is_streaming() {
        let resp = client.generate(model, body).await?;
        return from_gemini(&resp);
    }
    let mut events = client.stream(model, body).await?;
    let mut agg = Aggregator::new();
    while let Some(event) = events.next().await {
        let parts = agg.push(&event?)?;
        if !parts.is_empty() {
            cx.send_chunk(GenerateResponseChunk::new(parts)).await;
        }
    }
    if !agg.finished() && !agg.blocked() {
        return Err(Error::unavailable(
            "the Gemini stream ended before its final event (no finishReason)",
        ));
    }
    agg.finish()
}
