//! The seed's app for the telemetry tests: `research_flow` asks a scripted model, which
//! calls `web_search`, then answers with the tool's output.

use std::sync::Arc;

use genkit_core::{
    Error, GenerateResponse, GenerationUsage, Genkit, Message, ModelInfo, Part, Role, Status,
    ToolAction,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, Serialize, JsonSchema)]
pub struct SearchInput {
    pub query: String,
}

/// The seed's app: `research_flow` asks a scripted model (with a config: temperature,
/// max tokens, top-p, a stop sequence), which calls `web_search`, then answers with the
/// tool's output. Usage, a model version and a response id come with every model
/// response.
pub async fn app() -> Genkit {
    let ai = Genkit::builder().build().await.unwrap();
    ai.define_model("scripted", ModelInfo::default(), |req, _| async move {
        let last = req
            .messages
            .last()
            .ok_or_else(|| Error::invalid_argument("no messages"))?;
        let mut usage = GenerationUsage::default();
        usage.input_tokens = Some(7);
        usage.output_tokens = Some(3);
        let mut response = if last.role == Role::Tool {
            let out = last.content[0]
                .tool_response
                .as_ref()
                .and_then(|r| r.output.clone())
                .unwrap_or(Value::Null);
            GenerateResponse::from_text(format!("Report: {}", out.as_str().unwrap_or("")))
        } else {
            let topic = last.text().trim_start_matches("Research: ").to_string();
            GenerateResponse::from_message(Message::new(
                Role::Model,
                vec![Part::tool_request(
                    "web_search",
                    Some("0".into()),
                    json!({ "query": topic }),
                )],
            ))
        };
        response.usage = Some(usage);
        response.custom = Some(json!({ "modelVersion": "scripted-001", "responseId": "r-1" }));
        Ok(response)
    })
    .unwrap();
    let web_search = Arc::new(ToolAction::new(
        "web_search",
        "Search the web for a query.",
        |input: SearchInput, _cx| async move {
            if input.query == "fail" {
                return Err(Error::new(Status::Unavailable, "search backend down"));
            }
            Ok(format!("Results for: {}", input.query))
        },
    ));
    ai.registry().register_tool(web_search).unwrap();
    ai.define_flow("research_flow", |ai, input: SearchInput, _cx| async move {
        let response = ai
            .generate()
            .model("scripted")
            .prompt(format!("Research: {}", input.query))
            .tools(["web_search"])
            .config(json!({
                "temperature": 0.25,
                "maxOutputTokens": 64,
                "topP": 0.9,
                "stopSequences": ["END"],
            }))
            .await?;
        Ok::<_, Error>(response.text())
    })
    .unwrap();
    ai
}

pub async fn research(ai: &Genkit, query: &str) -> genkit_core::Result<Value> {
    ai.run_action(
        "/flow/research_flow",
        json!({ "query": query }),
        Default::default(),
    )
    .await
}
