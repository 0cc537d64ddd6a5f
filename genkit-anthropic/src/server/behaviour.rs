//! The default, deterministic answers (the rule is documented in [`super`]).

use std::collections::HashMap;

use genkit_googleai::server::{argument_text, arguments, best_match_index, example};
use serde_json::Value;

use crate::wire::{ContentBlock, KnownBlock, MessagesRequest, Thinking, ToolChoice, Usage};

/// What the model "says".
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Answer {
    /// The blocks, in order.
    pub blocks: Vec<KnownBlock>,
    /// `end_turn`, `tool_use`, `max_tokens` or `stop_sequence`.
    pub stop_reason: &'static str,
    /// The stop sequence that matched.
    pub stop_sequence: Option<String>,
    /// Token counts.
    pub usage: Usage,
}

/// The signature this server gives a thinking text (and checks when it comes back).
pub fn sign(thinking: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in thinking.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("RXJsb2NhbC1zaWc{h:016x}")
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

fn first_text<'a>(blocks: &'a [ContentBlock<'_>]) -> Option<&'a str> {
    blocks.iter().find_map(|b| match b {
        ContentBlock::Text { text, .. } if !text.trim().is_empty() => Some(text.as_ref()),
        _ => None,
    })
}

/// The text of a tool result: its text blocks joined.
fn result_text(content: Option<&Vec<ContentBlock<'_>>>) -> String {
    content
        .into_iter()
        .flatten()
        .filter_map(|b| match b {
            ContentBlock::Text { text, .. } => Some(text.as_ref()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("")
}

/// Answers a request.
pub fn answer(req: &MessagesRequest<'_>) -> Answer {
    let start = req
        .messages
        .iter()
        .rposition(|m| m.role == "user" && first_text(&m.content).is_some())
        .unwrap_or(0);
    let prompt = req
        .messages
        .get(start)
        .and_then(|m| first_text(&m.content))
        .unwrap_or_default()
        .trim()
        .to_string();
    let turn = &req.messages[start.min(req.messages.len())..];
    let names: HashMap<&str, &str> = turn
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|b| match b {
            ContentBlock::ToolUse { id, name, .. } => Some((id.as_ref(), name.as_ref())),
            _ => None,
        })
        .collect();
    let results: Vec<(String, String)> = turn
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|b| match b {
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                ..
            } => Some((
                names
                    .get(tool_use_id.as_ref())
                    .copied()
                    .unwrap_or("tool")
                    .to_string(),
                result_text(content.as_ref()),
            )),
            _ => None,
        })
        .collect();

    let mut blocks = Vec::new();
    if matches!(
        req.thinking,
        Some(Thinking::Enabled { .. } | Thinking::Adaptive { .. })
    ) {
        let thinking = format!("Thinking about: {prompt}");
        blocks.push(KnownBlock::Thinking {
            signature: sign(&thinking),
            thinking,
        });
    }
    let mut stop_reason = "end_turn";
    let mut stop_sequence = None;
    if let Some(calls) = calls(req, &prompt).filter(|_| results.is_empty()) {
        blocks.extend(calls);
        stop_reason = "tool_use";
    } else {
        let mut text = if !results.is_empty() {
            results
                .iter()
                .map(|(name, result)| format!("Based on {name}: {result}"))
                .collect::<Vec<_>>()
                .join("\n")
        } else if let Some(f) = req.output_config.as_ref().and_then(|o| o.format.as_ref()) {
            example(
                &inline_refs(&f.schema, &f.schema, 0),
                &argument_text(&prompt),
                0,
            )
            .to_string()
        } else {
            format!(
                "This is the local Anthropic server ({}) answering: {prompt}",
                req.model
            )
        };
        if let Some((at, seq)) = req
            .stop_sequences
            .iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .filter_map(|s| text.find(s.as_ref()).map(|at| (at, s)))
            .min_by_key(|(at, _)| *at)
        {
            text.truncate(at);
            stop_reason = "stop_sequence";
            stop_sequence = Some(seq.to_string());
        }
        let thought: u64 = blocks.iter().map(output_words).sum();
        let room = usize::try_from(req.max_tokens.saturating_sub(thought)).unwrap_or(usize::MAX);
        let pieces: Vec<&str> = text.split_inclusive(' ').collect();
        if pieces.len() > room {
            text = pieces[..room].concat().trim_end().to_string();
            stop_reason = "max_tokens";
            stop_sequence = None;
        }
        if !text.is_empty() {
            blocks.push(KnownBlock::Text {
                text,
                citations: None,
            });
        }
    }

    let input: u64 = req
        .system
        .iter()
        .flatten()
        .chain(req.messages.iter().flat_map(|m| m.content.iter()))
        .map(|b| match b {
            ContentBlock::Text { text, .. } => words(text),
            _ => 1,
        })
        .sum();
    let output = blocks.iter().map(output_words).sum();
    Answer {
        blocks,
        stop_reason,
        stop_sequence,
        usage: Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            ..Default::default()
        },
    }
}

fn output_words(b: &KnownBlock) -> u64 {
    match b {
        KnownBlock::Text { text, .. } => words(text),
        KnownBlock::Thinking { thinking, .. } => words(thinking),
        _ => 1,
    }
}

/// The tool calls for this prompt: the tool `tool_choice` names, else the declared
/// tool sharing the most words with the prompt (the first on ties); one call per
/// `;`-separated piece of the argument text (one only when parallel use is disabled).
fn calls(req: &MessagesRequest<'_>, prompt: &str) -> Option<Vec<KnownBlock>> {
    let tools = req.tools.as_ref().filter(|t| !t.is_empty())?;
    let (named, single) = match &req.tool_choice {
        Some(ToolChoice::None {}) => return None,
        Some(ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        }) => (
            Some(name.as_str()),
            *disable_parallel_tool_use == Some(true),
        ),
        Some(
            ToolChoice::Auto {
                disable_parallel_tool_use,
            }
            | ToolChoice::Any {
                disable_parallel_tool_use,
            },
        ) => (None, *disable_parallel_tool_use == Some(true)),
        None => (None, false),
    };
    let index = match named {
        Some(n) => tools.iter().position(|t| t.name == n)?,
        None => best_match_index(
            tools.iter().map(|t| {
                (
                    t.name.as_ref(),
                    t.description.as_deref().unwrap_or_default(),
                )
            }),
            prompt,
        )?,
    };
    let tool = &tools[index];
    let arg = argument_text(prompt);
    let mut items: Vec<&str> = arg
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        items.push(&arg);
    }
    if single {
        items.truncate(1);
    }
    let n = req.messages.len();
    Some(
        items
            .iter()
            .enumerate()
            .map(|(i, item)| KnownBlock::ToolUse {
                id: format!("toolu_local_{n}_{i}"),
                name: tool.name.to_string(),
                input: arguments(Some(&tool.input_schema), item),
            })
            .collect(),
    )
}

/// The schema with its local `$ref`s (`#/$defs/X`, `#/definitions/X`) replaced by
/// what they name, so an example can be made of it.
fn inline_refs(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > 32 {
        return Value::Null;
    }
    match schema {
        Value::Object(o) => {
            if let Some(target) = o
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| root.pointer(pointer))
            {
                return inline_refs(target, root, depth + 1);
            }
            Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), inline_refs(v, root, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(a) => {
            Value::Array(a.iter().map(|v| inline_refs(v, root, depth + 1)).collect())
        }
        other => other.clone(),
    }
}

/// The `input_json_delta` pieces of a tool input: its JSON text in two halves.
pub fn json_pieces(input: &Value) -> Vec<String> {
    let s = input.to_string();
    let mid = s
        .char_indices()
        .map(|(i, _)| i)
        .find(|i| *i >= s.len() / 2)
        .unwrap_or(s.len());
    [&s[..mid], &s[mid..]]
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}
