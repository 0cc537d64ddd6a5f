//! The default, deterministic answers (the rule is documented in [`super`]).

use serde_json::{Map, Value, json};

use crate::wire;

/// What the model "says": its parts and token counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The parts of the answer.
    pub parts: Vec<wire::Part>,
    /// Usage to report.
    pub usage: wire::UsageMetadata,
}

/// Words too common to say which function fits.
const STOP_WORDS: [&str; 16] = [
    "the", "and", "for", "with", "what", "about", "from", "this", "that", "are", "you", "your",
    "was", "how", "who", "its",
];

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

fn count_words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

fn text_of(c: &wire::Content) -> Option<&str> {
    c.parts
        .iter()
        .filter(|p| p.thought != Some(true))
        .find_map(|p| p.text.as_deref().filter(|t| !t.trim().is_empty()))
}

/// Whether the model name is a "thinking" model that signs its function calls.
fn thinking(model: &str, req: &wire::GenerateContentRequest) -> bool {
    model.contains("2.5")
        || model.starts_with("gemini-3")
        || req
            .generation_config
            .as_ref()
            .is_some_and(|g| g.thinking_config.is_some())
}

/// The argument text of a prompt: what follows its first `:`, else all of it.
pub fn argument_text(prompt: &str) -> String {
    match prompt.split_once(':') {
        Some((_, rest)) if !rest.trim().is_empty() => rest.trim().to_string(),
        _ => prompt.trim().to_string(),
    }
}

/// Answers a generate request.
pub fn generate(model: &str, req: &wire::GenerateContentRequest) -> Answer {
    // The current turn starts at the last user content with text.
    let start = req
        .contents
        .iter()
        .rposition(|c| c.role.as_deref() != Some("model") && text_of(c).is_some())
        .unwrap_or(0);
    let prompt = req
        .contents
        .get(start)
        .and_then(text_of)
        .unwrap_or_default()
        .trim()
        .to_string();
    let responses: Vec<&wire::FunctionResponse> = req.contents[start.min(req.contents.len())..]
        .iter()
        .flat_map(|c| c.parts.iter())
        .filter_map(|p| p.function_response.as_ref())
        .collect();
    let declarations: Vec<&wire::FunctionDeclaration> = req
        .tools
        .iter()
        .flatten()
        .flat_map(|t| t.function_declarations.iter().flatten())
        .collect();
    let fcc = req
        .tool_config
        .as_ref()
        .and_then(|t| t.function_calling_config.as_ref());
    let mode = fcc.and_then(|f| f.mode.as_deref()).unwrap_or("AUTO");
    let allowed = fcc.and_then(|f| f.allowed_function_names.as_ref());
    let thinks = thinking(model, req);
    let include_thoughts = req
        .generation_config
        .as_ref()
        .and_then(|g| g.thinking_config.as_ref())
        .and_then(|t| t.get("includeThoughts"))
        .and_then(Value::as_bool)
        == Some(true);

    let mut parts = Vec::new();
    if include_thoughts {
        parts.push(wire::Part {
            text: Some(format!("Thinking about: {prompt}")),
            thought: Some(true),
            ..Default::default()
        });
    }

    let candidates: Vec<&wire::FunctionDeclaration> = declarations
        .iter()
        .copied()
        .filter(|d| mode != "ANY" || allowed.is_none_or(|a| a.contains(&d.name)))
        .collect();
    let chosen =
        best_match(&candidates, &prompt).filter(|_| mode != "NONE" && responses.is_empty());
    if let Some(chosen) = chosen {
        let arg = argument_text(&prompt);
        let items: Vec<&str> = arg
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let items = if items.is_empty() {
            vec![arg.as_str()]
        } else {
            items
        };
        for (i, item) in items.iter().enumerate() {
            parts.push(wire::Part {
                function_call: Some(wire::FunctionCall {
                    id: None,
                    name: chosen.name.clone(),
                    args: Some(arguments(chosen.parameters.as_deref(), item)),
                }),
                thought_signature: (thinks && i == 0)
                    .then(|| format!("bG9jYWwtc2ln{}", req.contents.len())),
                ..Default::default()
            });
        }
    } else {
        let text = if !responses.is_empty() {
            responses
                .iter()
                .map(|r| format!("Based on {}: {}", r.name, result_text(&r.response)))
                .collect::<Vec<_>>()
                .join("\n")
        } else if req
            .generation_config
            .as_ref()
            .and_then(|g| g.response_mime_type.as_deref())
            == Some("application/json")
        {
            let g = req.generation_config.as_ref();
            let schema = g.and_then(|g| {
                g.response_schema
                    .as_ref()
                    .or(g.response_json_schema.as_ref())
            });
            let value = match schema {
                Some(s) => example(s, &argument_text(&prompt), 0),
                None => json!({ "text": prompt }),
            };
            value.to_string()
        } else {
            format!("This is the local Gemini server ({model}) answering: {prompt}")
        };
        parts.push(wire::Part {
            text: Some(text),
            thought_signature: thinks.then(|| format!("bG9jYWwtc2ln{}", req.contents.len())),
            ..Default::default()
        });
    }

    let prompt_tokens: u64 = req
        .system_instruction
        .iter()
        .chain(req.contents.iter())
        .flat_map(|c| c.parts.iter())
        .map(|p| p.text.as_deref().map_or(1, count_words))
        .sum();
    let mut output = 0;
    let mut thoughts = 0;
    for p in &parts {
        let n = p.text.as_deref().map_or(1, count_words);
        if p.thought == Some(true) {
            thoughts += n;
        } else {
            output += n;
        }
    }
    Answer {
        parts,
        usage: wire::UsageMetadata {
            prompt_token_count: Some(prompt_tokens),
            candidates_token_count: Some(output),
            total_token_count: Some(prompt_tokens + output + thoughts),
            thoughts_token_count: (thoughts > 0).then_some(thoughts),
            cached_content_token_count: None,
        },
    }
}

/// The declaration whose name and description share the most words with the prompt;
/// the first declared wins ties. `None` when there is none.
pub fn best_match<'a>(
    decls: &[&'a wire::FunctionDeclaration],
    prompt: &str,
) -> Option<&'a wire::FunctionDeclaration> {
    let i = best_match_index(
        decls
            .iter()
            .map(|d| (d.name.as_str(), d.description.as_str())),
        prompt,
    )?;
    decls.get(i).copied()
}

/// The rule of [`best_match`] over any tools given as `(name, description)`: the index
/// of the one sharing the most words with the prompt, the first on ties; `None` when
/// there is none. The other look-alike servers of genkit-rs pick tools with it too.
pub fn best_match_index<'a>(
    tools: impl IntoIterator<Item = (&'a str, &'a str)>,
    prompt: &str,
) -> Option<usize> {
    let prompt_words = words(prompt);
    let mut best = None;
    let mut best_score = 0;
    for (i, (name, description)) in tools.into_iter().enumerate() {
        let names = words(&format!(
            "{} {description}",
            name.replace(['_', '-', '.'], " ")
        ));
        let score = prompt_words.iter().filter(|w| names.contains(w)).count();
        if best.is_none() || score > best_score {
            best = Some(i);
            best_score = score;
        }
    }
    best
}

/// Arguments for a call with `item` as its text: the first string parameter (required
/// ones first) gets the text; other required parameters get the first number in the
/// text (numbers), `false`, `[]`/`[text]` or `{}`; an enum takes the value named in the
/// text, else its first value.
pub fn arguments(params: Option<&Value>, item: &str) -> Value {
    let mut out = Map::new();
    let Some(props) = params
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object)
    else {
        return Value::Object(out);
    };
    let required: Vec<&str> = params
        .and_then(|p| p.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let ty = |s: &Value| {
        s.get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_uppercase()
    };
    let main = required
        .iter()
        .copied()
        .find(|n| props.get(*n).is_some_and(|s| ty(s) == "STRING"))
        .or_else(|| {
            props
                .iter()
                .find(|(_, s)| ty(s) == "STRING")
                .map(|(n, _)| n.as_str())
        });
    for (name, schema) in props {
        if Some(name.as_str()) != main && !required.contains(&name.as_str()) {
            continue;
        }
        let v = match ty(schema).as_str() {
            "STRING" => match schema.get("enum").and_then(Value::as_array) {
                Some(values) => values
                    .iter()
                    .find(|v| {
                        v.as_str()
                            .is_some_and(|s| item.to_lowercase().contains(&s.to_lowercase()))
                    })
                    .or_else(|| values.first())
                    .cloned()
                    .unwrap_or(Value::Null),
                None => Value::from(item),
            },
            "INTEGER" => first_number(item).map_or(json!(0), |n| json!(n.trunc() as i64)),
            "NUMBER" => first_number(item).map_or(json!(0), |n| json!(n)),
            "BOOLEAN" => Value::Bool(false),
            "ARRAY" => {
                if schema.get("items").map(ty).as_deref() == Some("STRING") {
                    json!([item])
                } else {
                    json!([])
                }
            }
            _ => json!({}),
        };
        out.insert(name.clone(), v);
    }
    Value::Object(out)
}

fn first_number(s: &str) -> Option<f64> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .find_map(|w| w.parse::<f64>().ok().filter(|n| n.is_finite()))
}

/// The text of a function result: `response.content` when the response has Genkit's
/// `{name, content}` shape, else the whole response; strings as they are, other JSON
/// compact.
pub fn result_text(response: &Value) -> String {
    let v = match response.get("content") {
        Some(c) if response.get("name").is_some() => c,
        _ => response,
    };
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value that fits a schema (Gemini's or JSON Schema): objects with every property,
/// strings = the text (or the first enum value), integers 42, numbers 4.2, booleans
/// true, arrays of one item.
pub fn example(schema: &Value, text: &str, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(Value::Array(v)) = schema.get("anyOf").or_else(|| schema.get("oneOf"))
        && let Some(first) = v
            .iter()
            .find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
    {
        return example(first, text, depth + 1);
    }
    if let Some(Value::Array(values)) = schema.get("enum")
        && let Some(v) = values.first()
    {
        return v.clone();
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.to_ascii_lowercase(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_ascii_lowercase(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => "string".into(),
    };
    match ty.as_str() {
        "object" => {
            let mut m = Map::new();
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (k, s) in props {
                    m.insert(k.clone(), example(s, text, depth + 1));
                }
            }
            Value::Object(m)
        }
        "array" => {
            let item = schema
                .get("items")
                .map_or(Value::from(text), |s| example(s, text, depth + 1));
            Value::Array(vec![item])
        }
        "integer" => json!(42),
        "number" => json!(4.2),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => Value::from(text),
    }
}

/// A deterministic embedding: hashed bag of words, L2-normalised.
pub fn embedding(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0f32; dims.max(1)];
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in w.to_lowercase().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let len = v.len() as u64;
        let i = usize::try_from(h % len).unwrap_or(0);
        v[i] += if h & (1 << 63) == 0 { 1.0 } else { -1.0 };
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(name: &str, desc: &str, params: Value) -> wire::FunctionDeclaration {
        wire::FunctionDeclaration {
            name: name.into(),
            description: desc.into(),
            parameters: Some(std::sync::Arc::new(params)),
        }
    }

    #[test]
    fn picks_the_best_named_function_and_fills_its_string() {
        let a = decl(
            "get_weather",
            "Weather for a city",
            json!({"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}),
        );
        let b = decl(
            "web_search",
            "Search the web",
            json!({"type": "OBJECT", "properties": {"query": {"type": "STRING"}}, "required": ["query"]}),
        );
        assert_eq!(
            best_match(&[&a, &b], "search for: rust").unwrap().name,
            "web_search"
        );
        assert_eq!(best_match(&[&a, &b], "hello").unwrap().name, "get_weather");
        assert_eq!(
            arguments(b.parameters.as_deref(), "rust"),
            json!({"query": "rust"})
        );
        assert_eq!(argument_text("Research: Rust 2024"), "Rust 2024");
        assert_eq!(argument_text("plain"), "plain");
    }

    #[test]
    fn examples_fit_their_schema() {
        let s = json!({"type": "OBJECT", "properties": {"name": {"type": "STRING"}, "age": {"type": "INTEGER"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}}}});
        assert_eq!(
            example(&s, "x", 0),
            json!({"name": "x", "age": 42, "tags": ["x"]})
        );
        let e = embedding("hello world", 8);
        assert_eq!(e.len(), 8);
        assert_eq!(e, embedding("Hello, world", 8));
    }
}
