//! Which of the program's actions are MCP tools, under which names and schemas.

use std::collections::HashMap;

use genkit_core::{ActionKind, Genkit};
use rmcp::model::Tool;
use serde_json::{Map, Value, json};

/// One exposed action.
pub(crate) struct Exposed {
    /// The action's key (`/tool/web_search`, `/flow/research_flow`).
    pub(crate) key: String,
    /// Its MCP tool.
    pub(crate) tool: Tool,
    /// The input is not an object: MCP arguments carry it as `{"input": …}`.
    pub(crate) wrapped: bool,
}

/// The tools an [`McpServer`](crate::McpServer) lists, resolved once.
pub(crate) struct Listing {
    pub(crate) tools: Vec<Tool>,
    by_name: HashMap<String, Exposed>,
}

impl Listing {
    /// Every registered tool (under the name models see: after its last `/`, as
    /// Genkit JS lists them) and, when `flows`, every flow, sorted by key. Of two
    /// actions with one name the first is kept and the other reported.
    pub(crate) fn of(ai: &Genkit, flows: bool, only: Option<&[String]>) -> Listing {
        let mut tools = Vec::new();
        let mut by_name: HashMap<String, Exposed> = HashMap::new();
        for action in ai.registry().list() {
            let desc = action.desc();
            let included = match desc.kind {
                ActionKind::Tool => true,
                ActionKind::Flow => flows,
                _ => false,
            };
            if !included {
                continue;
            }
            let name = desc
                .name
                .rsplit('/')
                .next()
                .unwrap_or(&desc.name)
                .to_string();
            if let Some(only) = only
                && !only.contains(&desc.name)
            {
                continue;
            }
            if by_name.contains_key(&name) {
                tracing::warn!(target: "genkit::mcp", key = %desc.key, "not served over MCP: another action has the name '{name}'");
                continue;
            }
            let (input_schema, wrapped) = input_schema(desc.input_schema.as_ref());
            let mut tool = json!({ "name": name, "inputSchema": input_schema });
            if let Some(d) = &desc.description {
                tool["description"] = Value::from(d.as_str());
            }
            let Ok(tool) = serde_json::from_value::<Tool>(tool) else {
                continue;
            };
            tools.push(tool.clone());
            by_name.insert(
                name,
                Exposed {
                    key: desc.key.clone(),
                    tool,
                    wrapped,
                },
            );
        }
        for missing in only.into_iter().flatten().filter(|n| {
            !by_name
                .values()
                .any(|e| e.key.splitn(3, '/').nth(2) == Some(n.as_str()))
        }) {
            tracing::warn!(target: "genkit::mcp", "not served over MCP: no tool or flow named '{missing}'");
        }
        Listing { tools, by_name }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Exposed> {
        self.by_name.get(name)
    }
}

/// The MCP input schema of an action (MCP tools take JSON objects): an object schema
/// as it is; none as any object; anything else as `{"input": <schema>}` (with its
/// `$defs` kept at the root, where its references point).
fn input_schema(schema: Option<&Value>) -> (Value, bool) {
    let Some(schema) = schema else {
        return (json!({ "type": "object" }), false);
    };
    if schema.get("type").and_then(Value::as_str) == Some("object") {
        return (schema.clone(), false);
    }
    let mut inner = schema.clone();
    let mut root = Map::new();
    root.insert("type".into(), Value::from("object"));
    if let Some(obj) = inner.as_object_mut() {
        obj.remove("$schema");
        for defs in ["$defs", "definitions"] {
            if let Some(d) = obj.remove(defs) {
                root.insert(defs.into(), d);
            }
        }
    }
    root.insert("properties".into(), json!({ "input": inner }));
    root.insert("required".into(), json!(["input"]));
    (Value::Object(root), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_schemas_are_kept_and_others_wrapped() {
        let obj = json!({"type": "object", "properties": {"q": {"type": "string"}}});
        assert_eq!(input_schema(Some(&obj)), (obj.clone(), false));
        let s = json!({"$schema": "x", "type": "string", "$defs": {"A": {}}});
        let (w, wrapped) = input_schema(Some(&s));
        assert!(wrapped);
        assert_eq!(
            w,
            json!({"type": "object", "$defs": {"A": {}}, "properties": {"input": {"type": "string"}}, "required": ["input"]})
        );
        assert_eq!(input_schema(None), (json!({"type": "object"}), false));
    }
}
