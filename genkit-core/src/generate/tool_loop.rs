//! The loop: call the model, run the tools it asks for concurrently, append the model
//! message and one tool message, call again; stop on a reply without tool requests.

use std::sync::Arc;

use futures::future::try_join_all;
use serde_json::{Map, Value, json};

use super::output::{ResolvedOutput, inject_instructions};
use super::{GenerateOptions, ModelSpec, output, resume};
use crate::error::{Error, Result, Status};
use crate::genkit::Genkit;
use crate::middleware::{MiddlewareRef, ModelNext, ToolCall, ToolNext};
use crate::model::{ChunkOut, ChunkSender, ModelContext, ModelRef};
use crate::tool::{ToolContext, ToolRef, ToolSpec};
use crate::trace::{ActionSpan, SpanMeta};
use crate::types::{
    FinishReason, GenerateRequest, GenerateResponse, GenerateResponseChunk, Message, Part, Role,
};

/// Runs one whole generate call inside its `generate` span (`t:util`). Not an `async
/// fn`, which would hold the call's future twice.
pub(crate) fn generate(
    ai: Genkit,
    mut opts: GenerateOptions,
    chunks: Option<ChunkOut>,
) -> impl Future<Output = Result<GenerateResponse>> {
    if opts.context.is_none() {
        opts.context = crate::trace::current_context();
    }
    let name = opts.step_name.clone();
    let meta = SpanMeta {
        name: name.as_deref().unwrap_or("generate"),
        kind: "util",
        subtype: None,
        key: None,
        session_id: None,
    };
    let context = opts.context.clone();
    // The options are turned into JSON only for a layer that reads the span's input.
    let input = super::util::OptionsForTrace(&opts);
    let traced = ActionSpan::open(meta, Some(&input), context);
    traced.run(run(ai, opts, chunks))
}

/// What every turn shares.
pub(crate) struct Turns<'a> {
    pub(crate) ai: &'a Genkit,
    pub(crate) tools: &'a [ToolRef],
    pub(crate) middleware: &'a [MiddlewareRef],
    pub(crate) context: Option<Arc<Value>>,
}

fn resolve_model(ai: &Genkit, spec: Option<ModelSpec>) -> Result<ModelRef> {
    match spec {
        Some(ModelSpec::Action(m)) => Ok(m),
        Some(ModelSpec::Name(n)) => ai.registry().model(&n),
        None => match ai.default_model() {
            Some(n) => ai.registry().model(n),
            None => Err(Error::invalid_argument(
                "Must supply a `model` to `generate()` calls.",
            )),
        },
    }
}

fn resolve_tools(
    ai: &Genkit,
    specs: Vec<ToolSpec>,
    middleware: &[MiddlewareRef],
) -> Result<Vec<ToolRef>> {
    let mut tools = Vec::with_capacity(specs.len());
    for spec in specs {
        tools.push(match spec {
            ToolSpec::Action(t) => t,
            ToolSpec::Name(n) => {
                let short = n.strip_prefix("/tool/").unwrap_or(&n);
                ai.registry()
                    .tool(short)
                    .map_err(|_| Error::internal(format!("Tool {n} not found")))?
            }
        });
    }
    for m in middleware {
        tools.extend(m.tools());
    }
    for (i, t) in tools.iter().enumerate() {
        let name = &t.definition().name;
        if let Some(earlier) = tools[..i].iter().find(|e| &e.definition().name == name) {
            return Err(Error::invalid_argument(format!(
                "Cannot provide two tools with the same name: '{}' and '{}'",
                t.name(),
                earlier.name()
            )));
        }
    }
    Ok(tools)
}

/// What a call keeps of its options once they are resolved. The options themselves
/// (~670 bytes) are dropped before the first wait instead of being held, twice, in the
/// future of every call in flight.
struct Call {
    model: ModelRef,
    middleware: Vec<MiddlewareRef>,
    tools: Vec<ToolRef>,
    context: Option<Arc<Value>>,
    validator: Option<Arc<crate::schema::Validator>>,
    /// The `generate` metadata put on the model's messages, when the output has a
    /// content type or format.
    annotate: Option<Value>,
    max_turns: u32,
    return_tool_requests: bool,
    resume: Option<Box<crate::types::Resume>>,
    /// The first request (its messages, before a resume's tool message).
    request: GenerateRequest,
}

/// Resolves the options: model, middleware, tools, messages, output.
fn prepare(ai: &Genkit, mut opts: GenerateOptions) -> Result<Call> {
    if let Some(e) = opts.error.take() {
        return Err(e);
    }
    let model = resolve_model(ai, opts.model.take())?;
    let middleware: Vec<MiddlewareRef> = ai
        .default_middleware()
        .iter()
        .cloned()
        .chain(opts.middleware.drain(..))
        .collect();
    let tools = resolve_tools(ai, std::mem::take(&mut opts.tools), &middleware)?;

    let mut messages = Vec::with_capacity(opts.messages.len() + 2);
    if let Some(system) = opts.system.take() {
        messages.push(Arc::new(Message::new(Role::System, system)));
    }
    messages.append(&mut opts.messages);
    if let Some(prompt) = opts.prompt.take() {
        messages.push(Arc::new(Message::new(Role::User, prompt)));
    }
    if messages.is_empty() {
        return Err(Error::invalid_argument(
            "at least one message is required in generate request",
        ));
    }

    let ResolvedOutput {
        config: output,
        validator,
        instructions,
    } = output::resolve(opts.output.take(), &model, !tools.is_empty())?;
    if let Some(text) = instructions {
        inject_instructions(&mut messages, text);
    }
    let annotate = (output.content_type.is_some() || output.format.is_some()).then(|| {
        let mut o = Map::new();
        if let Some(ct) = &output.content_type {
            o.insert("contentType".into(), Value::from(ct.as_str()));
        }
        if let Some(f) = &output.format {
            o.insert("format".into(), Value::from(f.as_str()));
        }
        json!({ "output": o })
    });
    let request = GenerateRequest {
        messages,
        config: opts.config.take(),
        tools: Some(tools.iter().map(|t| t.definition().clone()).collect()),
        tool_choice: opts.tool_choice,
        output: Some(output),
        docs: opts.docs.take(),
        candidates: None,
    };
    Ok(Call {
        model,
        middleware,
        tools,
        context: opts.context.take(),
        validator,
        annotate,
        max_turns: opts.max_turns.unwrap_or(5),
        return_tool_requests: opts.return_tool_requests,
        resume: opts.resume.take().map(Box::new),
        request,
    })
}

/// The loop. Not an `async fn`: the options are resolved first ([`prepare`]), and the
/// future holds only what the loop needs.
fn run(
    ai: Genkit,
    opts: GenerateOptions,
    chunks: Option<ChunkOut>,
) -> impl Future<Output = Result<GenerateResponse>> {
    let call = prepare(&ai, opts);
    async move {
        let mut call = call?;
        let turns = Turns {
            ai: &ai,
            tools: &call.tools,
            middleware: &call.middleware,
            context: call.context.clone(),
        };
        let mut message_index: u32 = 0;
        if let Some(r) = call.resume.take() {
            let tool_msg = resume::resolve(&turns, &mut call.request.messages, *r).await?;
            if let Some(c) = &chunks {
                c.send(tool_chunk(message_index, &tool_msg)).await;
            }
            call.request.messages.push(Arc::new(tool_msg));
            message_index += 1;
        }
        let mut request = Arc::new(std::mem::take(&mut call.request));
        let mut turn: u32 = 0;
        loop {
            let sender = chunks
                .as_ref()
                .map(|c| ChunkSender::new(c.clone(), message_index));
            let cx = ModelContext {
                chunks: sender.clone(),
            };
            // Boxed: held across the tools' wait, and ~680 bytes.
            let mut response = Box::new(
                ModelNext::new(&call.middleware, &call.model, ai.registry())
                    .run(request.clone(), cx)
                    .await?,
            );
            let emitted = sender.is_some_and(|s| s.emitted());
            let message = model_message(&mut response, call.annotate.as_ref())?;
            let has_requests = message.content.iter().any(|p| p.tool_request.is_some());
            if call.return_tool_requests || !has_requests {
                response.message = Some(message);
                if !has_requests && let Some(v) = &call.validator {
                    let schema = request.output.as_ref().and_then(|o| o.schema.as_ref());
                    let value = response.output_json().unwrap_or(Value::Null);
                    v.validate(&value, schema.unwrap_or(&Value::Null))?;
                }
                response.request = Some(request);
                return Ok(*response);
            }
            if turn + 1 > call.max_turns {
                response.message = Some(message);
                response.request = Some(request);
                return Err(Error::new(
                    Status::Aborted,
                    format!("Exceeded maximum tool call iterations ({})", call.max_turns),
                )
                .with_details(response_details(&response)));
            }

            let outcomes = run_tools(&turns, &message, turn).await?;
            if outcomes.iter().any(|o| matches!(o, Outcome::Interrupt(..))) {
                response.message = Some(interrupted_message(message, outcomes));
                response.finish_reason = Some(FinishReason::Interrupted);
                response.finish_message =
                    Some("One or more tool calls resulted in interrupts.".into());
                response.request = Some(request);
                return Ok(*response);
            }
            let content = outcomes
                .into_iter()
                .filter_map(|o| match o {
                    Outcome::Done(response) => Some(*response),
                    _ => None,
                })
                .collect();
            let tool_msg = Message::new(Role::Tool, content);
            let tool_index = message_index + u32::from(emitted);
            if let Some(c) = &chunks {
                c.send(tool_chunk(tool_index, &tool_msg)).await;
            }
            // The model normally dropped its handle on the request: this pushes in place.
            let r = Arc::make_mut(&mut request);
            r.messages.push(Arc::new(message));
            r.messages.push(Arc::new(tool_msg));
            turn += 1;
            message_index = tool_index + 1;
        }
    }
}

/// The model's message, annotated; an error for a blocked reply or one without a
/// message.
fn model_message(response: &mut GenerateResponse, annotate: Option<&Value>) -> Result<Message> {
    if let (Some(a), Some(m)) = (annotate, response.message.as_mut()) {
        m.metadata
            .get_or_insert_with(Map::new)
            .insert("generate".into(), a.clone());
    }
    if response.finish_reason == Some(FinishReason::Blocked) {
        let msg = match &response.finish_message {
            Some(m) if !m.is_empty() => format!("Generation blocked: {m}"),
            _ => "Generation blocked.".to_string(),
        };
        return Err(Error::failed_precondition(msg).with_details(response_details(response)));
    }
    response.message.take().ok_or_else(|| {
        let fr = response
            .finish_reason
            .and_then(|f| serde_json::to_value(f).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "undefined".into());
        Error::failed_precondition(format!(
            "Model did not generate a message. Finish reason: '{fr}': {}",
            response.finish_message.as_deref().unwrap_or("undefined")
        ))
    })
}

fn response_details(response: &GenerateResponse) -> Value {
    json!({ "response": response })
}

pub(crate) fn tool_chunk(index: u32, msg: &Message) -> GenerateResponseChunk {
    GenerateResponseChunk {
        role: Some(Role::Tool),
        index: Some(index),
        content: msg.content.clone(),
        ..Default::default()
    }
}

/// The result of one tool request.
pub(crate) enum Outcome {
    /// Not a tool request (text etc.).
    Skip,
    /// The tool answered: its tool-response part.
    Done(Box<Part>),
    /// The tool interrupted, with its metadata.
    Interrupt(Value),
}

/// Finds a tool by the short name the model used.
pub(crate) fn find_tool<'t>(tools: &'t [ToolRef], name: &str) -> Result<&'t ToolRef> {
    tools
        .iter()
        .find(|t| t.definition().name == name || t.name() == name)
        .ok_or_else(|| Error::not_found(format!("Tool {name} not found")))
}

/// Runs one tool request through the middleware chain.
pub(crate) async fn run_one(
    turns: &Turns<'_>,
    part: &Part,
    metadata: Option<crate::types::Metadata>,
) -> Result<Outcome> {
    let Some(req) = &part.tool_request else {
        return Ok(Outcome::Skip);
    };
    let tool = find_tool(turns.tools, &req.name)?.clone();
    let context = ToolContext {
        ai: Some(turns.ai.clone()),
        metadata,
        context: turns.context.clone(),
    };
    let call = ToolCall {
        request: crate::types::ToolRequest::clone(req),
        tool,
        context,
    };
    match ToolNext::new(turns.middleware).run(call).await {
        Ok(output) => Ok(Outcome::Done(Box::new(Part::tool_response(
            req.name.clone(),
            req.r#ref.clone(),
            output,
        )))),
        Err(Error::Interrupt { metadata }) => Ok(Outcome::Interrupt(metadata)),
        Err(e) => Err(e),
    }
}

/// Runs every tool request of `message` concurrently; the first error cancels the rest.
async fn run_tools(turns: &Turns<'_>, message: &Message, turn: u32) -> Result<Vec<Outcome>> {
    try_join_all(message.content.iter().map(|part| async move {
        run_one(turns, part, part.metadata.as_deref().cloned())
            .await
            .map_err(|e| {
                let name = part
                    .tool_request
                    .as_ref()
                    .map(|r| r.name.as_str())
                    .unwrap_or_default();
                add_tool_details(e, name, turn)
            })
    }))
    .await
}

/// Names the tool and turn in the details of a tool's error (message and status kept).
fn add_tool_details(e: Error, tool: &str, turn: u32) -> Error {
    match e {
        Error::Genkit {
            status,
            message,
            details: None,
            source,
        } => Error::Genkit {
            status,
            message,
            details: Some(json!({ "tool": tool, "turn": turn })),
            source,
        },
        other => other,
    }
}

/// The model message with each tool request marked `interrupt` or `pendingOutput`.
fn interrupted_message(mut message: Message, outcomes: Vec<Outcome>) -> Message {
    for (part, outcome) in message.content.iter_mut().zip(outcomes) {
        match outcome {
            Outcome::Interrupt(meta) => {
                part.metadata
                    .get_or_insert_with(Box::default)
                    .insert("interrupt".into(), meta);
            }
            Outcome::Done(response) => {
                let output = response.tool_response.and_then(|r| r.output);
                if let Some(output) = output.filter(|o| !o.is_null()) {
                    part.metadata
                        .get_or_insert_with(Box::default)
                        .insert("pendingOutput".into(), output);
                }
            }
            _ => {}
        }
    }
    message
}
