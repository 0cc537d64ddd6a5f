//! JSON Schema (as schemars and Genkit write it) → the OpenAPI subset Gemini accepts
//! in `parameters` and `responseSchema`.
//!
//! `$schema`, `$id`, `title`, `additionalProperties`, `default`, `examples` are
//! dropped; `$ref`s into `$defs`/`definitions` are inlined (a cycle deeper than
//! recursive `$ref` becomes a plain `OBJECT`); `["T", "null"]`, `anyOf [T, null]` and
//! `nullable` become `nullable: true`; `const` becomes a one-value `enum`; types are
//! written upper-case; formats Gemini does not know (`uint32`, …) are dropped; a
//! schema that accepts anything is left out.

use serde_json::{Map, Value};

/// How deep `$ref`s are followed.
pub const MAX_DEPTH: usize = 24;

const FORMATS: [&str; 6] = ["int32", "int64", "float", "double", "enum", "date-time"];

/// Converts a JSON schema; `None` when it constrains nothing (a `true` schema, `{}`).
pub fn to_gemini_schema(schema: &Value) -> Option<Value> {
    let defs = defs_of(schema);
    let mut path = Vec::new();
    convert(schema, &defs, &mut path, 0)
}

fn defs_of(schema: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(d)) = schema.get(key) {
            for (k, v) in d {
                out.insert(format!("#/{key}/{k}"), v.clone());
            }
        }
    }
    out
}

fn gemini_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        _ => return None,
    })
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        || v.get("const").is_some_and(Value::is_null)
        || v.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() == 1 && a[0].is_null())
}

fn convert(
    node: &Value,
    defs: &Map<String, Value>,
    path: &mut Vec<String>,
    depth: usize,
) -> Option<Value> {
    let obj = node.as_object()?;
    if depth > MAX_DEPTH {
        return Some(Value::Object(Map::from_iter([(
            "type".to_string(),
            Value::from("OBJECT"),
        )])));
    }
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = defs.get(r)?;
        if path.iter().any(|p| p == r) {
            return Some(Value::Object(Map::from_iter([(
                "type".to_string(),
                Value::from("OBJECT"),
            )])));
        }
        path.push(r.to_string());
        let out = convert(target, defs, path, depth + 1);
        path.pop();
        let mut out = out?;
        if let (Some(d), Some(o)) = (obj.get("description"), out.as_object_mut()) {
            o.insert("description".into(), d.clone());
        }
        return Some(out);
    }
    let mut nullable = obj
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = obj.get(key) {
            let non_null: Vec<&Value> = variants.iter().filter(|v| !is_null_schema(v)).collect();
            nullable |= non_null.len() < variants.len();
            let mut out = if non_null.len() == 1 {
                convert(non_null[0], defs, path, depth + 1)?
            } else {
                let converted: Vec<Value> = non_null
                    .iter()
                    .filter_map(|v| convert(v, defs, path, depth + 1))
                    .collect();
                if converted.is_empty() {
                    return None;
                }
                Value::Object(Map::from_iter([(
                    "anyOf".to_string(),
                    Value::Array(converted),
                )]))
            };
            if let Some(o) = out.as_object_mut() {
                if let Some(d) = obj.get("description") {
                    o.insert("description".into(), d.clone());
                }
                if nullable {
                    o.insert("nullable".into(), Value::Bool(true));
                }
            }
            return Some(out);
        }
    }
    if let Some(Value::Array(all)) = obj.get("allOf")
        && all.len() == 1
    {
        return convert(&all[0], defs, path, depth + 1);
    }

    let mut out = Map::new();
    let mut ty: Option<&'static str> = None;
    match obj.get("type") {
        Some(Value::String(t)) => ty = gemini_type(t),
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            nullable |= names.contains(&"null");
            let non_null: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
            if non_null.len() > 1 {
                let mut single = obj.clone();
                let variants = non_null
                    .iter()
                    .filter_map(|t| {
                        single.insert("type".into(), Value::from(*t));
                        convert(&Value::Object(single.clone()), defs, path, depth + 1)
                    })
                    .collect();
                out.insert("anyOf".into(), Value::Array(variants));
                if nullable {
                    out.insert("nullable".into(), Value::Bool(true));
                }
                return Some(Value::Object(out));
            }
            ty = non_null.first().and_then(|t| gemini_type(t));
        }
        _ => {}
    }
    let mut enum_values: Option<Vec<Value>> = None;
    if let Some(c) = obj.get("const") {
        enum_values = Some(vec![Value::from(scalar_string(c))]);
        ty = Some("STRING");
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        let strings: Vec<Value> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| Value::from(scalar_string(v)))
            .collect();
        nullable |= strings.len() < values.len();
        enum_values = Some(strings);
        ty = Some("STRING");
    }
    if ty.is_none() {
        if obj.contains_key("properties") {
            ty = Some("OBJECT");
        } else if obj.contains_key("items") {
            ty = Some("ARRAY");
        }
    }
    let ty = ty?;
    out.insert("type".into(), Value::from(ty));
    if let Some(f) = obj.get("format").and_then(Value::as_str)
        && FORMATS.contains(&f)
    {
        out.insert("format".into(), Value::from(f));
    }
    if let Some(values) = enum_values {
        out.insert("format".into(), Value::from("enum"));
        out.insert("enum".into(), Value::Array(values));
    }
    if let Some(d) = obj.get("description").and_then(Value::as_str) {
        out.insert("description".into(), Value::from(d));
    }
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    match ty {
        "OBJECT" => {
            let mut props = Map::new();
            if let Some(Value::Object(p)) = obj.get("properties") {
                for (name, sub) in p {
                    if let Some(c) = convert(sub, defs, path, depth + 1) {
                        props.insert(name.clone(), c);
                    }
                }
            }
            let required: Vec<Value> = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter(|n| n.as_str().is_some_and(|n| props.contains_key(n)))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if !props.is_empty() {
                out.insert("properties".into(), Value::Object(props));
            }
            if !required.is_empty() {
                out.insert("required".into(), Value::Array(required));
            }
        }
        "ARRAY" => {
            let items = obj
                .get("items")
                .and_then(|i| convert(i, defs, path, depth + 1))
                .unwrap_or_else(|| {
                    Value::Object(Map::from_iter([(
                        "type".to_string(),
                        Value::from("STRING"),
                    )]))
                });
            out.insert("items".into(), items);
            for k in ["minItems", "maxItems"] {
                if let Some(v) = obj.get(k).filter(|v| v.is_u64()) {
                    out.insert(k.into(), v.clone());
                }
            }
        }
        "NUMBER" | "INTEGER" => {
            for k in ["minimum", "maximum"] {
                if let Some(v) = obj.get(k).filter(|v| v.is_number()) {
                    out.insert(k.into(), v.clone());
                }
            }
        }
        _ => {}
    }
    Some(Value::Object(out))
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_nullable_and_noise() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "In",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "query": {"type": "string", "description": "what"},
                "limit": {"type": ["integer", "null"], "format": "uint32", "minimum": 0},
                "kind": {"$ref": "#/$defs/Kind"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "any": true
            },
            "required": ["query", "any"],
            "$defs": {"Kind": {"type": "string", "enum": ["a", "b"]}}
        });
        assert_eq!(
            to_gemini_schema(&s).unwrap(),
            json!({
                "type": "OBJECT",
                "properties": {
                    "query": {"type": "STRING", "description": "what"},
                    "limit": {"type": "INTEGER", "nullable": true, "minimum": 0},
                    "kind": {"type": "STRING", "enum": ["a", "b"], "format": "enum"},
                    "tags": {"type": "ARRAY", "items": {"type": "STRING"}}
                },
                "required": ["query"]
            })
        );
    }

    #[test]
    fn any_of_with_null_and_cycles() {
        let s = json!({"anyOf": [{"$ref": "#/definitions/N"}, {"type": "null"}],
            "definitions": {"N": {"type": "object", "properties": {"next": {"$ref": "#/definitions/N"}}}}});
        let out = to_gemini_schema(&s).unwrap();
        assert_eq!(out["nullable"], json!(true));
        assert_eq!(out["type"], json!("OBJECT"));
        assert!(to_gemini_schema(&json!(true)).is_none());
        assert!(to_gemini_schema(&json!({})).is_none());
    }
}
