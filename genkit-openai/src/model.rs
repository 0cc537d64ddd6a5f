//! The `{plugin}/{name}` model actions and their info by model family.

use std::sync::Arc;

use genkit_core::{
    Error, GenerateRequest, GenerateResponse, GenerateResponseChunk, ModelAction, ModelContext,
    ModelInfo, ModelSupports, Result,
};

use crate::client::Client;
use crate::translate::{Aggregator, Dialect, from_openai, to_openai};

/// What a model of the family of `name` supports. OpenAI's own models: GPT-4o, GPT-4.1,
/// GPT-5 and the o-series take images, tools, a system role and JSON schemas;
/// `o1-mini`/`o1-preview` take neither tools nor a system role; GPT-3.5 takes no
/// images. Models of a compatible server: tools, system role and JSON schemas, images
/// only for vision families (`*vision*`, `llava*`, `gemma3*`, `*-vl*`, `pixtral*`).
pub fn supports(name: &str, dialect: Dialect) -> ModelSupports {
    let mut s = ModelSupports::full();
    let base = name.rsplit('/').next().unwrap_or(name);
    match dialect {
        Dialect::OpenAi => {
            if base.starts_with("o1-mini") || base.starts_with("o1-preview") {
                s.tools = Some(false);
                s.tool_choice = Some(false);
                s.system_role = Some(false);
                s.media = Some(false);
                s.constrained = Some("none".into());
            } else if base.starts_with("gpt-3.5") {
                s.media = Some(false);
            }
        }
        Dialect::Compatible => {
            let vision = ["vision", "llava", "gemma3", "-vl", "pixtral", "llama4"]
                .iter()
                .any(|v| base.contains(v));
            s.media = Some(vision);
        }
    }
    s
}

/// The info of `{plugin}/{name}`, labelled `{label} - {name}`.
pub fn info(label: &str, name: &str, dialect: Dialect) -> ModelInfo {
    ModelInfo::new(format!("{label} - {name}"), supports(name, dialect))
}

/// One model action: the model id it calls, how the server speaks.
pub(crate) fn model_action(
    plugin: &str,
    label: &str,
    name: &str,
    dialect: Dialect,
    client: Arc<Client>,
) -> ModelAction {
    let model: Arc<str> = Arc::from(name);
    ModelAction::new(
        format!("{plugin}/{name}"),
        info(label, name, dialect),
        move |req, cx| {
            let client = client.clone();
            let model = model.clone();
            async move { generate(&client, &model, dialect, &req, &cx).await }
        },
    )
}

async fn generate(
    client: &Client,
    model: &str,
    dialect: Dialect,
    req: &GenerateRequest,
    cx: &ModelContext,
) -> Result<GenerateResponse> {
    let streaming = cx.is_streaming();
    let body = to_openai(req, model, dialect, streaming)?;
    if !streaming {
        return from_openai(client.chat(&body).await?);
    }
    let mut chunks = client.chat_stream(&body).await?;
    let mut agg = Aggregator::new();
    while let Some(chunk) = chunks.next().await {
        let parts = agg.push(chunk?)?;
        if !parts.is_empty() {
            cx.send_chunk(GenerateResponseChunk::new(parts)).await;
        }
    }
    if !agg.finished() {
        return Err(Error::unavailable(format!(
            "the stream of {model} ended without a finish reason"
        )));
    }
    agg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(supports("gpt-4o-mini", Dialect::OpenAi).media, Some(true));
        assert_eq!(supports("o1-mini", Dialect::OpenAi).tools, Some(false));
        assert_eq!(
            supports("gpt-3.5-turbo", Dialect::OpenAi).media,
            Some(false)
        );
        assert_eq!(supports("llama3.2", Dialect::Compatible).media, Some(false));
        assert_eq!(
            supports("llama3.2-vision", Dialect::Compatible).media,
            Some(true)
        );
        assert_eq!(supports("llama3.2", Dialect::Compatible).tools, Some(true));
    }
}
