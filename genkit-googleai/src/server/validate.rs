//! Request validation, with Google's messages: unknown fields, bad roles, empty
//! contents or parts, invalid function names, JSON mode with function calling.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::wire;

/// A 400 with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// Parses a body into `T`, reporting JSON syntax errors and unknown names as Google does.
pub fn parse<T: DeserializeOwned>(body: &[u8], root: &str) -> Result<T, Invalid> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Invalid(format!("Invalid JSON payload received. {e}")))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let at = if path == "." { String::new() } else { snake_path(&path) };
        if let Some(rest) = inner.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            let at = at.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap_or_default();
            let location = if at.is_empty() { String::new() } else { format!(" at '{at}'") };
            Invalid(format!("Invalid JSON payload received. Unknown name \"{name}\"{location}: Cannot find field."))
        } else {
            Invalid(format!("Invalid value at '{}' ({root}): {inner}", if at.is_empty() { root } else { &at }))
        }
    })
}

/// `generationConfig.topP` → `generation_config.top_p`, as Google names fields in errors.
fn snake_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
}

fn has_data(p: &wire::Part) -> bool {
    p.text.is_some()
        || p.inline_data.is_some()
        || p.file_data.is_some()
        || p.function_call.is_some()
        || p.function_response.is_some()
        || p.executable_code.is_some()
        || p.code_execution_result.is_some()
        || p.thought_signature.is_some()
        || p.thought == Some(true)
}

/// Checks a generate request; all problems at once, as Google lists them.
pub fn generate(req: &wire::GenerateContentRequest) -> Result<(), Invalid> {
    let mut problems = Vec::new();
    if req.contents.is_empty() {
        problems.push("* GenerateContentRequest.contents: contents is not specified".to_string());
    }
    for (i, c) in req.contents.iter().enumerate() {
        match c.role.as_deref() {
            None | Some("user") | Some("model") | Some("function") => {}
            Some(_) => return Err(Invalid("Please use a valid role: user, model.".into())),
        }
        if c.parts.is_empty() {
            problems.push(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            ));
        }
        for (j, p) in c.parts.iter().enumerate() {
            if !has_data(p) {
                problems.push(format!(
                    "* GenerateContentRequest.contents[{i}].parts[{j}].data: required oneof field 'data' must have one initialized field"
                ));
            }
        }
    }
    if let Some(si) = &req.system_instruction
        && si.parts.is_empty()
    {
        problems.push(
            "* GenerateContentRequest.system_instruction.parts: contents.parts must not be empty."
                .into(),
        );
    }
    let mut declares_functions = false;
    for (i, t) in req.tools.iter().flatten().enumerate() {
        for (j, d) in t.function_declarations.iter().flatten().enumerate() {
            declares_functions = true;
            if !valid_function_name(&d.name) {
                problems.push(format!(
                    "* GenerateContentRequest.tools[{i}].function_declarations[{j}].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64."
                ));
            }
            if let Some(p) = &d.parameters {
                let object = p
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("object"));
                let empty = p
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_none_or(|m| m.is_empty());
                if object && empty {
                    problems.push(format!(
                        "* GenerateContentRequest.tools[{i}].function_declarations[{j}].parameters.properties: should be non-empty for OBJECT type"
                    ));
                }
            }
        }
    }
    if let Some(g) = &req.generation_config {
        if let Some(name) = g.other.keys().next() {
            return Err(Invalid(format!(
                "Invalid JSON payload received. Unknown name \"{name}\" at 'generation_config': Cannot find field."
            )));
        }
        if declares_functions && g.response_mime_type.as_deref() == Some("application/json") {
            problems.push(
                "Function calling with a response mime type: 'application/json' is unsupported"
                    .into(),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems.iter().map(|p| format!("{p}\n")).collect()))
    }
}

/// Checks one embed request.
pub fn embed(req: &wire::EmbedContentRequest, model: &str, at: &str) -> Result<(), Invalid> {
    if let Some(m) = &req.model
        && m.strip_prefix("models/").unwrap_or(m) != model
    {
        return Err(Invalid(format!(
            "* BatchEmbedContentsRequest.{at}model: Model in request ({m}) does not match the model in the URL (models/{model})\n"
        )));
    }
    if req.content.parts.is_empty() {
        return Err(Invalid(format!(
            "* {at}content.parts: contents.parts must not be empty.\n"
        )));
    }
    if let Some(d) = req.output_dimensionality
        && !(1..=3072).contains(&d)
    {
        return Err(Invalid(format!(
            "* {at}output_dimensionality: must be between 1 and 3072\n"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_bad_values_read_like_google() {
        let e = parse::<wire::GenerateContentRequest>(
            br#"{"contents":[{"role":"user","parts":[],"foo":1}]}"#,
            "x",
        )
        .unwrap_err();
        assert!(e.0.contains("Unknown name \"foo\""), "{}", e.0);
        let e = parse::<wire::GenerateContentRequest>(b"{", "x").unwrap_err();
        assert!(e.0.starts_with("Invalid JSON payload received."));
        let e = parse::<wire::GenerateContentRequest>(
            br#"{"generationConfig":{"temperature":"hot"}}"#,
            "x",
        )
        .unwrap_err();
        assert!(e.0.contains("generation_config.temperature"), "{}", e.0);
    }

    #[test]
    fn roles_and_parts() {
        let r: wire::GenerateContentRequest =
            serde_json::from_str(r#"{"contents":[{"role":"bot","parts":[{"text":"x"}]}]}"#)
                .unwrap();
        assert_eq!(
            generate(&r).unwrap_err().0,
            "Please use a valid role: user, model."
        );
        let r: wire::GenerateContentRequest =
            serde_json::from_str(r#"{"contents":[{"role":"user","parts":[]}]}"#).unwrap();
        assert!(generate(&r).unwrap_err().0.contains("must not be empty"));
        let r: wire::GenerateContentRequest = serde_json::from_str(r#"{"contents":[]}"#).unwrap();
        assert!(
            generate(&r)
                .unwrap_err()
                .0
                .contains("contents is not specified")
        );
    }
}
