//! JSON schemas derived from Rust types (schemars, draft-07 as Genkit writes them),
//! computed once per type and shared.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::error::{Error, Result};

fn cache() -> &'static RwLock<HashMap<TypeId, Arc<Value>>> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<Value>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The JSON schema of `T` (draft-07, as Genkit's zod-to-json-schema writes it),
/// derived on first use and cached for the life of the process.
pub fn schema_of<T: JsonSchema + ?Sized + 'static>() -> Arc<Value> {
    let id = TypeId::of::<T>();
    if let Some(s) = cache().read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return s.clone();
    }
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    let value = Arc::new(schema.to_value());
    cache()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_insert(value)
        .clone()
}

/// A compiled JSON-schema validator.
pub struct Validator {
    inner: jsonschema::Validator,
}

impl Validator {
    /// Compiles a schema; an invalid schema is INVALID_ARGUMENT.
    pub fn new(schema: &Value) -> Result<Self> {
        jsonschema::validator_for(schema)
            .map(|inner| Validator { inner })
            .map_err(|e| Error::invalid_argument(format!("invalid JSON schema: {e}")))
    }

    /// Validates `value`; the error is Genkit's INVALID_ARGUMENT
    /// `Schema validation failed. Parse Errors: ...` naming each failing path.
    pub fn validate(&self, value: &Value, schema: &Value) -> Result<()> {
        let errors: Vec<String> = self
            .inner
            .iter_errors(value)
            .map(|e| {
                let path = e.instance_path.to_string();
                let path = if path.is_empty() {
                    "(root)".to_string()
                } else {
                    path
                };
                format!("- {path}: {e}")
            })
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        Err(Error::invalid_argument(format!(
            "Schema validation failed. Parse Errors:\n\n{}\n\nProvided data:\n\n{}\n\nRequired JSON schema:\n\n{}",
            errors.join("\n"),
            serde_json::to_string_pretty(value).unwrap_or_default(),
            serde_json::to_string_pretty(schema).unwrap_or_default(),
        ))
        .with_details(serde_json::json!({ "errors": errors })))
    }
}

/// Validates `value` against `schema`, compiling it for this one use.
pub fn validate(value: &Value, schema: &Value) -> Result<()> {
    Validator::new(schema)?.validate(value, schema)
}

fn validator_cache() -> &'static RwLock<HashMap<TypeId, Arc<Validator>>> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<Validator>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The compiled validator for `T`'s schema, compiled once per process.
pub fn validator_of<T: JsonSchema + ?Sized + 'static>() -> Result<Arc<Validator>> {
    let id = TypeId::of::<T>();
    if let Some(v) = validator_cache()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
    {
        return Ok(v.clone());
    }
    let v = Arc::new(Validator::new(&schema_of::<T>())?);
    Ok(validator_cache()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_insert(v)
        .clone())
}

/// The definition `name` of Genkit's own data-model schema (`GenerateActionOptions`,
/// `ModelRequest`, …) as a standalone JSON schema holding only the definitions it
/// refers to. Parsed once per process; `None` for an unknown name.
pub fn genkit_def(name: &str) -> Option<Arc<Value>> {
    static DEFS: OnceLock<Option<serde_json::Map<String, Value>>> = OnceLock::new();
    static BUILT: OnceLock<RwLock<HashMap<String, Arc<Value>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    if let Some(v) = built.read().unwrap_or_else(|e| e.into_inner()).get(name) {
        return Some(v.clone());
    }
    let defs = DEFS
        .get_or_init(|| {
            let text = include_str!("../schema/genkit-schema.json");
            let mut doc: Value = serde_json::from_str(text).ok()?;
            match doc.get_mut("$defs")?.take() {
                Value::Object(m) => Some(m),
                _ => None,
            }
        })
        .as_ref()?;
    defs.get(name)?;
    // The definitions reachable from `name` through `#/$defs/...` references.
    let mut needed = vec![name.to_string()];
    let mut i = 0;
    while i < needed.len() {
        if let Some(def) = defs.get(&needed[i]) {
            collect_refs(def, &mut needed);
        }
        i += 1;
    }
    let mut sub = serde_json::Map::new();
    for n in &needed {
        if let Some(d) = defs.get(n) {
            sub.insert(n.clone(), d.clone());
        }
    }
    let schema = Arc::new(serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": format!("#/$defs/{name}"),
        "$defs": sub,
    }));
    built
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name.to_string(), schema.clone());
    Some(schema)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && let Some(rest) = r.strip_prefix("#/$defs/")
            {
                let def = rest.split('/').next().unwrap_or(rest).to_string();
                if !out.contains(&def) {
                    out.push(def);
                }
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}
