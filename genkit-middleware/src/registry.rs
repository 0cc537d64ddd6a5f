//! Registration: each middleware as a named value with a JSON config, so a request
//! naming `{name: "retry", config: {…}}` (the Dev UI, `/util/generate`) finds it.

use std::sync::Arc;

use genkit_core::{MiddlewareFactory, MiddlewareRef, Plugin, Registry, Result};
use serde_json::Value;

use crate::{
    Artifacts, ArtifactsConfig, Fallback, FallbackConfig, Filesystem, FilesystemConfig, Retry,
    RetryConfig, Skills, SkillsConfig, ToolApproval, ToolApprovalConfig, config,
};

fn factory(
    name: &str,
    description: &str,
    schema: Value,
    build: impl Fn(Option<Value>) -> Result<MiddlewareRef> + Send + Sync + 'static,
) -> MiddlewareFactory {
    MiddlewareFactory {
        name: name.to_string(),
        description: Some(description.to_string()),
        config_schema: Some(schema),
        build: Box::new(build),
    }
}

/// The factories of every middleware of this crate: `retry`, `fallback`,
/// `tool_approval`, `filesystem`, `skills` (Genkit's names; configs use Genkit's
/// camelCase field names, and Genkit Python's snake_case ones are accepted too).
pub fn factories() -> Vec<MiddlewareFactory> {
    vec![
        factory(
            "retry",
            "Retries a request a specified number of times when a specific set of errors occurs",
            config::schema::<RetryConfig>(),
            |c| Ok(Arc::new(Retry::from_config(c)?) as MiddlewareRef),
        ),
        factory(
            "fallback",
            "Fallback to a different model on specific error statuses.",
            config::schema::<FallbackConfig>(),
            |c| Ok(Arc::new(Fallback::from_config(c)?) as MiddlewareRef),
        ),
        factory(
            "tool_approval",
            "Interrupts tool execution unless the tool is in the approved list or approved via metadata.",
            config::schema::<ToolApprovalConfig>(),
            |c| Ok(Arc::new(ToolApproval::from_config(c)?) as MiddlewareRef),
        ),
        factory(
            "filesystem",
            "Injects tools for listing, reading, writing and editing files in a directory.",
            config::schema::<FilesystemConfig>(),
            |c| Ok(Arc::new(Filesystem::from_config(c)?) as MiddlewareRef),
        ),
        factory(
            "skills",
            "Expose a local library of skills as loadable system instructions.",
            config::schema::<SkillsConfig>(),
            |c| Ok(Arc::new(Skills::from_config(c)?) as MiddlewareRef),
        ),
        factory(
            "artifacts",
            "Tools to read and write the artifacts of the agent session, listed to the model.",
            config::schema::<ArtifactsConfig>(),
            |c| Ok(Arc::new(Artifacts::from_config(c)?) as MiddlewareRef),
        ),
    ]
}

/// Registers every middleware of this crate in `registry`; a name already taken is
/// ALREADY_EXISTS.
pub fn register_all(registry: &Registry) -> Result<()> {
    for f in factories() {
        registry.register_middleware(f)?;
    }
    Ok(())
}

/// The plugin that registers every middleware of this crate:
/// `Genkit::builder().plugin(Middlewares)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Middlewares;

impl Plugin for Middlewares {
    fn name(&self) -> &str {
        "genkit-middleware"
    }

    fn init(&self, registry: &Registry) -> Result<()> {
        register_all(registry)
    }
}
