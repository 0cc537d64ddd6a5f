//! The rig-core 0.21 peers of the benchmarks (its Gemini, OpenAI and Anthropic
//! providers), compiled only with the `rig` feature
//! (`cargo run --release -p genkit-bench --features rig`): without it, the runners
//! leave the rig rows out, and `cargo test --workspace` does not build rig.

/// Whether this build has the rig peers.
pub const AVAILABLE: bool = cfg!(feature = "rig");

#[cfg(feature = "rig")]
pub use with_rig::{AnthropicRig, GeminiRig, OpenAiRig};
#[cfg(not(feature = "rig"))]
pub use without_rig::{AnthropicRig, GeminiRig, OpenAiRig};

#[cfg(feature = "rig")]
mod with_rig {
    use genkit_core::{Error, Result};
    use serde_json::json;

    use crate::workloads::{
        LOOP_PROMPT, MODEL, OVERHEAD_PROMPT, Query, lookup_result, search_result,
    };

    /// rig-core 0.21: its Gemini client pointed at the local server, an agent with the
    /// same tools. rig runs the tool calls of one turn one after another.
    pub struct GeminiRig {
        overhead: rig::agent::Agent<rig::providers::gemini::completion::CompletionModel>,
        looping: rig::agent::Agent<rig::providers::gemini::completion::CompletionModel>,
    }

    macro_rules! rig_tool {
        ($ty:ident, $name:literal, $desc:literal, $f:ident) => {
            /// A rig tool.
            pub struct $ty;
            impl rig::tool::Tool for $ty {
                const NAME: &'static str = $name;
                type Error = std::io::Error;
                type Args = Query;
                type Output = String;
                async fn definition(&self, _prompt: String) -> rig::completion::ToolDefinition {
                    rig::completion::ToolDefinition {
                        name: $name.to_string(),
                        description: $desc.to_string(),
                        parameters: json!({
                            "type": "object",
                            "properties": {"query": {"type": "string"}},
                            "required": ["query"]
                        }),
                    }
                }
                async fn call(&self, args: Query) -> std::result::Result<String, std::io::Error> {
                    Ok($f(&args.query))
                }
            }
        };
    }
    rig_tool!(RigLookup, "lookup", "Look up a topic.", lookup_result);
    rig_tool!(
        RigSearch,
        "search",
        "Search the web for a topic.",
        search_result
    );

    impl GeminiRig {
        /// Agents against `base_url`.
        pub fn new(base_url: &str) -> Result<GeminiRig> {
            use rig::client::CompletionClient;
            let client = rig::providers::gemini::Client::builder("local")
                .base_url(base_url)
                .build()
                .map_err(|e| Error::internal(e.to_string()))?;
            Ok(GeminiRig {
                // rig 0.21's Gemini request needs `generationConfig` in the additional params.
                overhead: client
                    .agent(MODEL)
                    .additional_params(json!({"generationConfig": {}}))
                    .tool(RigLookup)
                    .build(),
                looping: client
                    .agent(MODEL)
                    .additional_params(json!({"generationConfig": {}}))
                    .tool(RigSearch)
                    .tool(RigLookup)
                    .build(),
            })
        }

        /// One overhead prompt.
        pub async fn overhead(&self) -> Result<String> {
            use rig::completion::Prompt;
            self.overhead
                .prompt(OVERHEAD_PROMPT)
                .multi_turn(5)
                .await
                .map_err(|e| Error::internal(e.to_string()))
        }

        /// One loop prompt.
        pub async fn tool_loop(&self) -> Result<String> {
            use rig::completion::Prompt;
            self.looping
                .prompt(LOOP_PROMPT)
                .multi_turn(5)
                .await
                .map_err(|e| Error::internal(e.to_string()))
        }
    }

    /// rig 0.21's Anthropic client and an agent with the same tool.
    pub struct AnthropicRig {
        agent: rig::agent::Agent<rig::providers::anthropic::completion::CompletionModel>,
    }

    impl AnthropicRig {
        /// An agent against `base_url`.
        pub fn new(base_url: &str, model: &str) -> Result<AnthropicRig> {
            use rig::client::CompletionClient;
            let client = rig::providers::anthropic::ClientBuilder::new("local")
                .base_url(base_url)
                .build()
                .map_err(|e| Error::internal(e.to_string()))?;
            Ok(AnthropicRig {
                agent: client.agent(model).max_tokens(1024).tool(RigLookup).build(),
            })
        }

        /// One overhead prompt.
        pub async fn call(&self) -> Result<String> {
            use rig::completion::Prompt;
            self.agent
                .prompt(OVERHEAD_PROMPT)
                .multi_turn(5)
                .await
                .map_err(|e| Error::internal(e.to_string()))
        }
    }

    /// rig 0.21's OpenAI provider (Chat Completions), one agent with no tools.
    pub struct OpenAiRig {
        agent: rig::agent::Agent<rig::providers::openai::completion::CompletionModel>,
    }

    impl OpenAiRig {
        /// An agent against `base_url`.
        pub fn new(base_url: &str, key: &str, model: &str) -> Result<OpenAiRig> {
            use rig::client::CompletionClient;
            let client = rig::providers::openai::Client::builder(key)
                .base_url(base_url)
                .build()
                .map_err(|e| Error::internal(e.to_string()))?;
            let model = client.completion_model(model).completions_api();
            Ok(OpenAiRig {
                agent: rig::agent::AgentBuilder::new(model).build(),
            })
        }

        /// One prompt.
        pub async fn prompt(&self, prompt: &str) -> Result<String> {
            use rig::completion::Prompt;
            self.agent
                .prompt(prompt)
                .await
                .map_err(|e| Error::internal(e.to_string()))
        }
    }
}

#[cfg(not(feature = "rig"))]
mod without_rig {
    use genkit_core::{Error, Result};

    fn missing() -> Error {
        Error::failed_precondition(
            "genkit-bench was built without its `rig` feature: cargo run --release -p genkit-bench --features rig",
        )
    }

    /// Stands in for rig's Gemini agent: never built.
    pub struct GeminiRig;
    /// Stands in for rig's OpenAI agent: never built.
    pub struct OpenAiRig;
    /// Stands in for rig's Anthropic agent: never built.
    pub struct AnthropicRig;

    impl GeminiRig {
        /// Fails: no rig in this build.
        pub fn new(_base_url: &str) -> Result<GeminiRig> {
            Err(missing())
        }
        /// Unreachable (never built).
        pub async fn overhead(&self) -> Result<String> {
            Err(missing())
        }
        /// Unreachable (never built).
        pub async fn tool_loop(&self) -> Result<String> {
            Err(missing())
        }
    }

    impl OpenAiRig {
        /// Fails: no rig in this build.
        pub fn new(_base_url: &str, _key: &str, _model: &str) -> Result<OpenAiRig> {
            Err(missing())
        }
        /// Unreachable (never built).
        pub async fn prompt(&self, _prompt: &str) -> Result<String> {
            Err(missing())
        }
    }

    impl AnthropicRig {
        /// Fails: no rig in this build.
        pub fn new(_base_url: &str, _model: &str) -> Result<AnthropicRig> {
            Err(missing())
        }
        /// Unreachable (never built).
        pub async fn call(&self) -> Result<String> {
            Err(missing())
        }
    }
}
