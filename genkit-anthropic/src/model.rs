//! The `anthropic/{name}` model actions and what each model family supports.

use std::sync::Arc;

use genkit_core::{
    GenerateRequest, GenerateResponse, GenerateResponseChunk, ModelAction, ModelContext, ModelInfo,
    ModelSupports, Result,
};

use crate::client::Client;
use serde_json::{Value, json};

use crate::translate::{Aggregator, Target, Translated, from_anthropic, to_anthropic};

/// True for models that take structured outputs (`output_config.format`): the Claude
/// 4 family from Opus 4.1 and Sonnet/Haiku/Opus 4.5 on, and any later family. Claude 3
/// models and the first Claude 4 models (`claude-sonnet-4`, `claude-opus-4`) do not.
pub fn supports_structured_output(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("claude-") else {
        // Not a Claude name (a proxy's alias): assume a current model.
        return true;
    };
    let mut words = rest.split('-');
    let family = words.next().unwrap_or_default();
    if family.chars().all(|c| c.is_ascii_digit()) {
        // Old naming: claude-3-5-sonnet, claude-3-7-sonnet, claude-2.1.
        return false;
    }
    let major: u32 = match words.next().and_then(|w| w.parse().ok()) {
        Some(m) => m,
        None => return true,
    };
    // A minor version is one or two digits; a date (20250514) is not one.
    let minor: u32 = words
        .next()
        .filter(|w| w.len() <= 2)
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    match major {
        0..=3 => false,
        4 => minor >= 5 || (family == "opus" && minor >= 1),
        _ => true,
    }
}

/// What a Claude model supports here: multi-turn, images and PDFs, tools with tool
/// choice, system prompts, text and JSON output; constrained output where the model
/// takes structured outputs (else Genkit asks for JSON in the prompt).
pub fn claude_supports(name: &str) -> ModelSupports {
    let mut s = ModelSupports::full();
    if !supports_structured_output(name) {
        s.constrained = Some("none".into());
    }
    s
}

/// The model info of `anthropic/{name}`.
pub fn claude_info(name: &str) -> ModelInfo {
    ModelInfo::new(format!("Anthropic - {name}"), claude_supports(name))
}

pub(crate) fn model_action(name: &str, client: Arc<Client>) -> ModelAction {
    let model: Arc<str> = Arc::from(name);
    let structured = supports_structured_output(name);
    ModelAction::new(
        format!("anthropic/{name}"),
        claude_info(name),
        move |req, cx| {
            let client = client.clone();
            let model = model.clone();
            async move { generate(&client, Target::new(&model, structured), &req, &cx).await }
        },
    )
}

async fn generate(
    client: &Client,
    target: Target<'_>,
    req: &GenerateRequest,
    cx: &ModelContext,
) -> Result<GenerateResponse> {
    let Translated { mut body, dropped } = to_anthropic(req, target)?;
    let note = |mut r: GenerateResponse| {
        if !dropped.is_empty()
            && let Some(Value::Object(c)) = r.custom.as_mut()
        {
            c.insert("droppedConfig".into(), json!(dropped));
        }
        r
    };
    if !cx.is_streaming() {
        return Ok(note(from_anthropic(client.create(&body).await?)));
    }
    body.stream = Some(true);
    let mut events = client.stream(&body).await?;
    let mut agg = Aggregator::new();
    while let Some(event) = events.next().await {
        let parts = agg.push(event?, client.key())?;
        if !parts.is_empty() {
            cx.send_chunk(GenerateResponseChunk::new(parts)).await;
        }
    }
    agg.finish().map(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_output_by_family() {
        for (name, yes) in [
            ("claude-sonnet-4-5", true),
            ("claude-sonnet-4-5-20250929", true),
            ("claude-haiku-4-5", true),
            ("claude-opus-4-1", true),
            ("claude-opus-4-7", true),
            ("claude-sonnet-4", false),
            ("claude-sonnet-4-20250514", false),
            ("claude-opus-4-20250514", false),
            ("claude-3-7-sonnet-latest", false),
            ("claude-3-5-haiku-latest", false),
            ("claude-sonnet-5", true),
        ] {
            assert_eq!(supports_structured_output(name), yes, "{name}");
        }
        assert_eq!(
            claude_supports("claude-sonnet-4").constrained.as_deref(),
            Some("none")
        );
    }
}
