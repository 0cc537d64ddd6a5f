//! Tools: functions the model may ask `generate` to run.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::action::{Action, ActionDesc, ActionKind, RunOptions};
use crate::error::{Error, Result};
use crate::genkit::Genkit;
use crate::schema::schema_of;
use crate::trace::{ActionSpan, ErasedSerialize, SpanMeta};
use crate::types::{Metadata, ToolDefinition, from_value};

/// What a running tool can see and do besides its input.
#[derive(Clone, Default)]
pub struct ToolContext {
    pub(crate) ai: Option<Genkit>,
    pub(crate) metadata: Option<Metadata>,
    pub(crate) context: Option<Arc<Value>>,
}

impl ToolContext {
    /// Interrupts the generation instead of answering: `generate` ends with finish
    /// reason `interrupted` and this tool request pending, carrying `metadata` as its
    /// `metadata.interrupt`. Return it: `return Err(ctx.interrupt(json!({..})))`.
    pub fn interrupt(&self, metadata: impl Serialize) -> Error {
        let metadata = match serde_json::to_value(metadata) {
            Ok(Value::Null) | Err(_) => Value::Bool(true),
            Ok(v) => v,
        };
        Error::Interrupt { metadata }
    }

    /// `metadata.resumed` of the request when the tool is re-run by `resume.restart`
    /// (for example `{"toolApproved": true}`).
    pub fn resumed(&self) -> Option<&Value> {
        self.metadata.as_ref()?.get("resumed")
    }

    /// The tool-request part's metadata.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    /// The request context (auth) of the enclosing flow, if any.
    pub fn context(&self) -> Option<&Value> {
        self.context.as_deref()
    }

    /// The Genkit instance running the tool (absent when called directly).
    pub fn genkit(&self) -> Option<&Genkit> {
        self.ai.as_ref()
    }
}

type ToolFn = dyn Fn(Value, ToolContext) -> BoxFuture<'static, Result<Value>> + Send + Sync;

/// A tool action: its definition (name, description, schemas, derived once) and its
/// function on JSON.
pub struct ToolAction {
    desc: ActionDesc,
    def: Arc<ToolDefinition>,
    f: Box<ToolFn>,
}

/// A shared tool.
pub type ToolRef = Arc<ToolAction>;

impl ToolAction {
    /// A tool from a typed async function; schemas come from `JsonSchema`.
    pub fn new<I, O, E, F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        f: F,
    ) -> Self
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        E: Into<Error>,
        F: Fn(I, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let f = Arc::new(f);
        Self::from_json_fn(
            name,
            description,
            Some((*schema_of::<I>()).clone()),
            Some((*schema_of::<O>()).clone()),
            move |input, ctx| {
                let f = f.clone();
                async move {
                    let input: I = from_value(input)?;
                    let out = f(input, ctx).await.map_err(Into::into)?;
                    Ok(serde_json::to_value(out)?)
                }
            },
        )
    }

    /// A tool from a function on JSON, with explicit schemas.
    pub fn from_json_fn<F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Option<Value>,
        output_schema: Option<Value>,
        f: F,
    ) -> Self
    where
        F: Fn(Value, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value>> + Send + 'static,
    {
        let name = name.into();
        let description = description.into();
        let short = name.rsplit('/').next().unwrap_or(&name).to_string();
        let mut metadata = None;
        if short != name {
            let mut m = Map::new();
            m.insert("originalName".into(), Value::from(name.as_str()));
            metadata = Some(m);
        }
        let def = Arc::new(ToolDefinition {
            name: short,
            description: description.clone(),
            input_schema: input_schema.clone(),
            output_schema: output_schema.clone(),
            metadata,
        });
        let desc = ActionDesc::new(ActionKind::Tool, name)
            .with_description(description)
            .with_schemas(input_schema, output_schema);
        ToolAction {
            desc,
            def,
            f: Box::new(move |v, c| Box::pin(f(v, c))),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    /// The definition sent to models (shared, never copied per call).
    pub fn definition(&self) -> &Arc<ToolDefinition> {
        &self.def
    }

    /// Runs the tool on JSON input inside its traced span
    /// (`{name,t:action,s:tool}`). Input that fails the schema is INVALID_ARGUMENT.
    pub async fn call(&self, input: Value, ctx: ToolContext) -> Result<Value> {
        let meta = SpanMeta {
            name: &self.desc.name,
            kind: "action",
            subtype: Some("tool"),
            key: Some(&self.desc.key),
            session_id: None,
        };
        // The input is recorded (serialized only for a layer that reads it) before the
        // tool takes it.
        let traced = ActionSpan::open_tool(meta, &self.def.name, Some(&input));
        let fut = (self.f)(input, ctx);
        traced.run(fut).await.map_err(|e| match e {
            Error::Genkit {
                status: crate::Status::InvalidArgument,
                message,
                details,
                source,
            } if !message.starts_with("Schema validation failed") => Error::Genkit {
                status: crate::Status::InvalidArgument,
                message: format!(
                    "Schema validation failed for input of tool '{}': {message}",
                    self.desc.name
                ),
                details,
                source,
            },
            other => other,
        })
    }

    /// Runs a typed call in the tool's span: how a `#[genkit::tool]` fn called directly
    /// is traced.
    pub async fn call_typed<O, Fut>(
        &self,
        input: Option<&(dyn ErasedSerialize + Sync)>,
        fut: Fut,
    ) -> Result<O>
    where
        O: Serialize,
        Fut: Future<Output = Result<O>>,
    {
        let meta = SpanMeta {
            name: &self.desc.name,
            kind: "action",
            subtype: Some("tool"),
            key: Some(&self.desc.key),
            session_id: None,
        };
        ActionSpan::open_tool(meta, &self.def.name, input)
            .run(fut)
            .await
    }
}

impl Action for ToolAction {
    fn desc(&self) -> &ActionDesc {
        &self.desc
    }

    fn run_json(
        &self,
        ai: Genkit,
        input: Value,
        opts: RunOptions,
    ) -> BoxFuture<'static, Result<Value>> {
        let name = self.desc.name.clone();
        Box::pin(async move {
            let tool = ai.registry().tool(&name)?;
            let ctx = ToolContext {
                ai: Some(ai),
                metadata: None,
                context: opts.context,
            };
            tool.call(input, ctx).await
        })
    }
}

/// Something that names a tool for `generate`: a [`ToolRef`], a `#[genkit::tool]`
/// value, or a registered tool's name.
#[derive(Clone)]
pub enum ToolSpec {
    /// A tool action.
    Action(ToolRef),
    /// A registered tool, by name (resolved when `generate` runs).
    Name(String),
}

/// Converts into a [`ToolSpec`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Genkit tool",
    label = "not a tool: a plain function needs `#[genkit::tool]` above its `async fn`",
    note = "a tool is an `async fn(input: I) -> genkit::Result<O>` marked `#[genkit::tool]` (`I` derives `Deserialize` and `JsonSchema`), a `ToolRef`, or a registered tool's name"
)]
pub trait IntoTool {
    /// The conversion.
    fn into_tool(self) -> ToolSpec;
}

impl IntoTool for ToolSpec {
    fn into_tool(self) -> ToolSpec {
        self
    }
}

impl IntoTool for ToolRef {
    fn into_tool(self) -> ToolSpec {
        ToolSpec::Action(self)
    }
}

impl IntoTool for &ToolRef {
    fn into_tool(self) -> ToolSpec {
        ToolSpec::Action(self.clone())
    }
}

impl IntoTool for &str {
    fn into_tool(self) -> ToolSpec {
        ToolSpec::Name(self.to_string())
    }
}

impl IntoTool for &String {
    fn into_tool(self) -> ToolSpec {
        ToolSpec::Name(self.clone())
    }
}

impl IntoTool for String {
    fn into_tool(self) -> ToolSpec {
        ToolSpec::Name(self)
    }
}

/// One or many tools: a single tool, an array or `Vec` of one kind, or a tuple of
/// different `#[genkit::tool]` values: `.tools([web_search])`,
/// `.tools((web_search, read_file))`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of Genkit tools",
    label = "not tools: a plain function needs `#[genkit::tool]` above its `async fn`",
    note = "a tool is an `async fn(input: I) -> genkit::Result<O>` marked `#[genkit::tool]` (`I` derives `Deserialize` and `JsonSchema`), a `ToolRef`, or a registered tool's name",
    note = "`.tools(..)` takes one tool, an array or `Vec` of one tool type, or a tuple of different tools: `.tools((web_search, read_file))`"
)]
pub trait IntoTools {
    /// Appends the tools to `out`.
    fn push_into(self, out: &mut Vec<ToolSpec>);
}

impl<T: IntoTool> IntoTools for T {
    fn push_into(self, out: &mut Vec<ToolSpec>) {
        out.push(self.into_tool());
    }
}

impl<T: IntoTool, const N: usize> IntoTools for [T; N] {
    fn push_into(self, out: &mut Vec<ToolSpec>) {
        out.extend(self.into_iter().map(IntoTool::into_tool));
    }
}

impl<T: IntoTool> IntoTools for Vec<T> {
    fn push_into(self, out: &mut Vec<ToolSpec>) {
        out.extend(self.into_iter().map(IntoTool::into_tool));
    }
}

macro_rules! tuple_tools {
    ($($t:ident),+) => {
        impl<$($t: IntoTool),+> IntoTools for ($($t,)+) {
            #[allow(non_snake_case)]
            fn push_into(self, out: &mut Vec<ToolSpec>) {
                let ($($t,)+) = self;
                $(out.push($t.into_tool());)+
            }
        }
    };
}
tuple_tools!(A);
tuple_tools!(A, B);
tuple_tools!(A, B, C);
tuple_tools!(A, B, C, D);
tuple_tools!(A, B, C, D, E);
tuple_tools!(A, B, C, D, E, F);
tuple_tools!(A, B, C, D, E, F, G);
tuple_tools!(A, B, C, D, E, F, G, H);
tuple_tools!(A, B, C, D, E, F, G, H, I);
tuple_tools!(A, B, C, D, E, F, G, H, I, J);
tuple_tools!(A, B, C, D, E, F, G, H, I, J, K);
tuple_tools!(A, B, C, D, E, F, G, H, I, J, K, L);
