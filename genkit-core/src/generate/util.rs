//! `/util/generate`: the whole generate loop driven by `GenerateActionOptions` JSON.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{GenerateOptions, ModelSpec, OutputOptions};
use crate::action::{Action, ActionDesc, ActionKind, RunOptions};
use crate::error::Result;
use crate::genkit::Genkit;
use crate::model::ChunkOut;
use crate::schema::Validator;
use crate::tool::ToolSpec;
use crate::types::{GenerateActionOptions, GenerateActionOutputConfig, from_value};

/// The `/util/generate` action.
pub(crate) struct GenerateUtil {
    desc: ActionDesc,
}

impl GenerateUtil {
    pub(crate) fn new() -> Self {
        let mut desc = ActionDesc::new(ActionKind::Util, "generate");
        desc.input_schema =
            crate::schema::genkit_def("GenerateActionOptions").map(|s| (*s).clone());
        desc.output_schema = crate::schema::genkit_def("GenerateResponse").map(|s| (*s).clone());
        GenerateUtil { desc }
    }
}

/// Builds generate options from Genkit's JSON options.
pub(crate) fn from_action_options(
    ai: &Genkit,
    o: GenerateActionOptions,
) -> Result<GenerateOptions> {
    let mut opts = GenerateOptions {
        model: o.model.map(ModelSpec::Name),
        messages: o.messages.into_iter().map(Arc::new).collect(),
        tools: o
            .tools
            .unwrap_or_default()
            .into_iter()
            .map(ToolSpec::Name)
            .collect(),
        tool_choice: o.tool_choice,
        config: o.config,
        docs: o.docs,
        max_turns: o.max_turns,
        return_tool_requests: o.return_tool_requests.unwrap_or(false),
        resume: o.resume,
        step_name: o.step_name,
        ..Default::default()
    };
    if let Some(out) = o.output {
        let validator = match &out.json_schema {
            Some(s) => Some(Arc::new(Validator::new(s)?)),
            None => None,
        };
        opts.output = Some(OutputOptions {
            format: out.format,
            content_type: out.content_type,
            schema: out.json_schema.map(Arc::new),
            validator,
            instructions: out.instructions,
            constrained: out.constrained,
        });
    }
    for r in o.r#use.unwrap_or_default() {
        let factory = ai.registry().middleware(&r.name)?;
        opts.middleware.push((factory.build)(r.config)?);
    }
    Ok(opts)
}

/// The options as `GenerateActionOptions` JSON, for the generate span's input: built
/// only when a layer reads that input.
pub(crate) struct OptionsForTrace<'a>(pub(crate) &'a GenerateOptions);

impl serde::Serialize for OptionsForTrace<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        options_view(self.0).serialize(s)
    }
}

fn options_view(o: &GenerateOptions) -> GenerateActionOptions {
    let mut messages = Vec::with_capacity(o.messages.len() + 2);
    if let Some(s) = &o.system {
        messages.push(crate::types::Message::new(
            crate::types::Role::System,
            s.clone(),
        ));
    }
    messages.extend(o.messages.iter().map(|m| crate::types::Message::clone(m)));
    if let Some(p) = &o.prompt {
        messages.push(crate::types::Message::new(
            crate::types::Role::User,
            p.clone(),
        ));
    }
    GenerateActionOptions {
        model: o.model.as_ref().map(|m| match m {
            ModelSpec::Name(n) => n.clone(),
            ModelSpec::Action(a) => a.name().to_string(),
        }),
        messages,
        tools: (!o.tools.is_empty()).then(|| {
            o.tools
                .iter()
                .map(|t| match t {
                    ToolSpec::Name(n) => n.clone(),
                    ToolSpec::Action(a) => a.name().to_string(),
                })
                .collect()
        }),
        tool_choice: o.tool_choice,
        config: o.config.clone(),
        output: o.output.as_ref().map(|out| GenerateActionOutputConfig {
            format: out.format.clone(),
            content_type: out.content_type.clone(),
            instructions: out.instructions.clone(),
            json_schema: out.schema.as_deref().cloned(),
            constrained: out.constrained,
        }),
        docs: o.docs.clone(),
        resume: o.resume.clone(),
        return_tool_requests: o.return_tool_requests.then_some(true),
        max_turns: o.max_turns,
        step_name: o.step_name.clone(),
        ..Default::default()
    }
}

/// The response as `/util/generate` returns it, shaped as Genkit's `toJSON()`:
/// `usage` and `custom` default to `{}`, `latencyMs` and `raw` are dropped.
pub(crate) fn response_json(mut resp: crate::types::GenerateResponse) -> Result<Value> {
    resp.latency_ms = None;
    resp.raw = None;
    let mut v = serde_json::to_value(resp)?;
    if let Some(obj) = v.as_object_mut() {
        obj.entry("usage")
            .or_insert_with(|| Value::Object(Default::default()));
        obj.entry("custom")
            .or_insert_with(|| Value::Object(Default::default()));
    }
    Ok(v)
}

impl Action for GenerateUtil {
    fn desc(&self) -> &ActionDesc {
        &self.desc
    }

    fn run_json(
        &self,
        ai: Genkit,
        input: Value,
        run: RunOptions,
    ) -> BoxFuture<'static, Result<Value>> {
        Box::pin(async move {
            let options: GenerateActionOptions = from_value(input)?;
            let mut opts = from_action_options(&ai, options)?;
            if let Some(c) = run.context {
                opts.context = Some(c);
            }
            let resp = super::tool_loop::generate(ai, opts, run.chunks.map(ChunkOut::Json)).await?;
            response_json(resp)
        })
    }
}
