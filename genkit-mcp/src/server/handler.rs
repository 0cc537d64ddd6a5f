//! The MCP server handler: lists the exposed actions and runs them.

use std::future::Future;
use std::sync::Arc;

use genkit_core::{Error, RunOptions, Status};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use super::Inner;
use crate::error::to_error_data;

/// One connection's handler (HTTP makes one per session); the state is shared.
pub(crate) struct Handler {
    inner: Arc<Inner>,
}

impl Handler {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Handler { inner }
    }

    async fn call(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let Some(exposed) = self.inner.listing().get(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {}", request.name),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let input = if exposed.wrapped {
            arguments.get("input").cloned().unwrap_or(Value::Null)
        } else {
            Value::Object(arguments)
        };
        let mut opts = RunOptions::default();
        // Over HTTP: the context a genkit-axum ContextLayer put on the request.
        if let Some(ctx) = cx
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<genkit_axum::RequestContext>())
        {
            opts.context = Some(ctx.0.clone());
        }
        let run = self.inner.ai.run_action(&exposed.key, input, opts);
        let result = tokio::select! {
            r = run => r,
            () = cx.ct.cancelled() => Err(Error::new(Status::Cancelled, "the client cancelled the call")),
        };
        match result {
            Ok(output) => Ok(success(output)),
            // Not the tool's own failure: the action is gone.
            Err(e) if e.status() == Status::NotFound && e.message().contains(&exposed.key) => {
                Err(to_error_data(&e))
            }
            Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(
                e.to_string(),
            )])),
        }
    }
}

/// A result: one text block (a string as it is, anything else as JSON), and the
/// value as `structuredContent` when it is an object.
fn success(output: Value) -> CallToolResult {
    let text = match &output {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    if output.is_object() {
        result.structured_content = Some(output);
    }
    result
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                self.inner.name.clone(),
                self.inner.version.clone(),
            ));
        if let Some(i) = &self.inner.instructions {
            info = info.with_instructions(i.clone());
        }
        info
    }

    fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, ErrorData>> + Send + '_ {
        let tools = self.inner.listing().tools.clone();
        std::future::ready(Ok(ListToolsResult::with_all_items(tools)))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.listing().get(name).map(|e| e.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.call(request, cx).await.map(Into::into)
    }
}
