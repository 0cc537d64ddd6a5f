//! What of a request context may be recorded: the caller's credentials never are.
//!
//! A flow's request context (`{"auth": …}` from a context provider, the CLI's
//! `context`, [`GenerateBuilder::context`](crate::GenerateBuilder::context)) is recorded
//! on every span as `genkit:metadata:context`, and so reaches the Genkit telemetry
//! server, OTLP backends and any `tracing` subscriber that prints span fields. Before
//! that, [`redact_context`] replaces with `"<redacted>"`:
//!
//! - the whole top-level `auth` value (what context providers put there: an API key,
//!   a bearer token, the claims of a verified ID token);
//! - at any depth, the value of a key that names a credential ([`SECRET_KEYS`], compared
//!   without regard to case, `-` or `_`: `apiKey`, `x-api-key`, `Authorization`,
//!   `password`, `access_token`, `cookie`, …);
//! - at any depth, the value of every key marked with [`mark_secret`].
//!
//! Flows and tools still see the whole context ([`FlowContext::context`](crate::FlowContext::context),
//! [`ToolContext::context`](crate::ToolContext::context)): only what is recorded is redacted.
//! Genkit JS records the context as it is; genkit-rs differs on purpose.
//!
//! ```
//! use genkit_core::secrets::{mark_secret, redact_context};
//! use serde_json::json;
//!
//! mark_secret("tenantKey");
//! let ctx = json!({"auth": {"apiKey": "Bearer k"}, "tenant": {"id": 7, "tenantKey": "t"}});
//! assert_eq!(
//!     redact_context(&ctx),
//!     json!({"auth": "<redacted>", "tenant": {"id": 7, "tenantKey": "<redacted>"}})
//! );
//! ```

use std::sync::RwLock;

use serde_json::{Map, Value};

/// What a redacted value is recorded as (Genkit's marker for redacted span data).
pub const REDACTED: &str = "<redacted>";

/// Key names redacted at any depth (compared in lower case, without `-` and `_`).
pub const SECRET_KEYS: &[&str] = &[
    "auth",
    "authorization",
    "proxyauthorization",
    "apikey",
    "xapikey",
    "xgoogapikey",
    "password",
    "passwd",
    "secret",
    "clientsecret",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "bearer",
    "cookie",
    "setcookie",
    "privatekey",
    "credentials",
];

/// Keys marked by the program (normalized as [`SECRET_KEYS`]).
static MARKED: RwLock<Vec<String>> = RwLock::new(Vec::new());

fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Marks a context key as secret for the whole process: its value is recorded as
/// `"<redacted>"` wherever it appears in a request context (at any depth). Spans are
/// process-wide, so the mark is too; marking a key twice is harmless.
pub fn mark_secret(key: &str) {
    let key = normalize(key);
    let mut marked = MARKED.write().unwrap_or_else(|e| e.into_inner());
    if !marked.contains(&key) {
        marked.push(key);
    }
}

fn is_secret(key: &str, marked: &[String]) -> bool {
    let key = normalize(key);
    SECRET_KEYS.contains(&key.as_str()) || marked.contains(&key)
}

/// The request context as it may be recorded: `auth`, credential-named keys and keys
/// marked with [`mark_secret`] replaced with `"<redacted>"` (see the module docs).
pub fn redact_context(context: &Value) -> Value {
    let marked = MARKED.read().unwrap_or_else(|e| e.into_inner());
    redact(context, &marked)
}

/// [`redact_context`] as JSON text, as `genkit:metadata:context` holds it.
pub fn redacted_context_json(context: &Value) -> String {
    redact_context(context).to_string()
}

fn redact(value: &Value, marked: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret(k, marked) {
                        Value::String(REDACTED.to_owned())
                    } else {
                        redact(v, marked)
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, marked)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auth_and_credential_names_are_redacted_at_any_depth() {
        let ctx = json!({
            "auth": {"apiKey": "Bearer k", "uid": "u"},
            "user": {"name": "ann", "X-Api-Key": "k2", "list": [{"access_token": "t"}]},
            "n": 3
        });
        assert_eq!(
            redact_context(&ctx),
            json!({
                "auth": "<redacted>",
                "user": {"name": "ann", "X-Api-Key": "<redacted>", "list": [{"access_token": "<redacted>"}]},
                "n": 3
            })
        );
    }

    #[test]
    fn marked_keys_are_redacted() {
        let ctx = json!({"tenant": {"shard-Token2": "x", "id": 1}});
        assert_eq!(redact_context(&ctx), ctx);
        mark_secret("shard_token2");
        assert_eq!(
            redact_context(&ctx),
            json!({"tenant": {"shard-Token2": "<redacted>", "id": 1}})
        );
    }
}
