//! Genkit's span attributes on `tracing` spans.
//!
//! Every action run is a span (target `genkit`, level INFO) with the attributes the JS
//! runtime sets: `genkit:name`, `genkit:type`, `genkit:metadata:subtype`, `genkit:key`,
//! `genkit:path`, `genkit:input`, `genkit:output`, `genkit:state`, `genkit:isRoot`,
//! `genkit:isFailureSource`; model and tool spans also carry OpenTelemetry GenAI
//! attributes (`gen_ai.*`; the README lists them). When no subscriber is interested in
//! the span, nothing is serialized and no path is built: the span costs one `enabled`
//! check. Input and output are serialized only for a layer that reads them: an
//! action's span is opened, with its input recorded by reference, before the action
//! takes that input, so whether anyone listens is decided by the span itself (not by a
//! separate `enabled!` check, which a layer filtering on span metadata, like dev mode's,
//! would answer differently).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;
use tracing::field::Empty;

use crate::error::{Error, Result};

pub(crate) mod gen_ai;

/// The name, type and subtype of a span.
#[derive(Debug, Clone, Copy)]
pub struct SpanMeta<'a> {
    /// `genkit:name`.
    pub name: &'a str,
    /// `genkit:type`: `action`, `util`, `flowStep`, …
    pub kind: &'a str,
    /// `genkit:metadata:subtype`: the action kind (`flow`, `model`, `tool`, …).
    pub subtype: Option<&'a str>,
    /// `genkit:key`.
    pub key: Option<&'a str>,
    /// `genkit:sessionId`, on an agent's turn.
    pub session_id: Option<&'a str>,
}

/// What the current task inherits from the action it runs inside.
#[derive(Clone, Default)]
pub(crate) struct Scope {
    /// `genkit:path` of the enclosing span (absent when tracing is off).
    path: Option<Arc<str>>,
    /// Set once a span of this trace has been marked as the failure source.
    failure_marked: Option<Arc<AtomicBool>>,
    /// Request context (auth), inherited by nested actions.
    pub(crate) context: Option<Arc<Value>>,
    /// `context` as recorded (`genkit:metadata:context`): redacted once, shared by the
    /// spans under it (absent when tracing is off).
    recorded_context: Option<Arc<str>>,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// The request context of the action running on this task, if any.
pub(crate) fn current_context() -> Option<Arc<Value>> {
    SCOPE.try_with(|s| s.context.clone()).ok().flatten()
}

/// A `genkit` span with the attributes every action span has; extra fields may follow
/// the meta (a span has at most 32 fields).
macro_rules! genkit_span {
    ($meta:expr $(, $($extra:tt)+)?) => {
        tracing::info_span!(
            target: "genkit",
            "genkit",
            otel.name = $meta.name,
            "genkit:name" = $meta.name,
            "genkit:type" = $meta.kind,
            "genkit:metadata:subtype" = $meta.subtype,
            "genkit:key" = $meta.key,
            "genkit:path" = Empty,
            "genkit:isRoot" = Empty,
            "genkit:input" = Empty,
            "genkit:output" = Empty,
            "genkit:state" = Empty,
            "genkit:isFailureSource" = Empty,
            "genkit:metadata:context" = Empty,
            "exception.message" = Empty,
            "genkit:status" = Empty,
            $($($extra)+)?
        )
    };
}

/// Runs `fut` as a traced action span.
///
/// `input` is serialized only when a layer reads it; `output` likewise.
pub(crate) async fn in_span<T, F>(
    meta: SpanMeta<'_>,
    input: Option<&(dyn ErasedSerialize + Sync)>,
    context: Option<Arc<Value>>,
    fut: F,
) -> Result<T>
where
    T: Serialize,
    F: Future<Output = Result<T>>,
{
    ActionSpan::open(meta, input, context).run(fut).await
}

/// An action's span, opened (with its input recorded) before the action's future is
/// built: the input is recorded by reference, so an action that takes its input by
/// value needs no copy of it for the trace. When no layer enables the span, opening it
/// costs one `enabled` check and nothing is serialized.
pub(crate) struct ActionSpan {
    span: tracing::Span,
    scope: Scope,
    /// Shared by the spans of one trace (`None` when the span is disabled).
    failure_marked: Option<Arc<AtomicBool>>,
}

impl ActionSpan {
    /// Opens the span of an action run.
    pub(crate) fn open(
        meta: SpanMeta<'_>,
        input: Option<&(dyn ErasedSerialize + Sync)>,
        context: Option<Arc<Value>>,
    ) -> Self {
        let span = genkit_span!(meta, "genkit:sessionId" = meta.session_id);
        Self::with_span(span, meta, input, context)
    }

    /// Opens the span of a model call: Genkit's attributes plus the OpenTelemetry GenAI
    /// ones (`gen_ai.*` and `error.type`, recorded by [`gen_ai`]).
    pub(crate) fn open_model(
        meta: SpanMeta<'_>,
        input: Option<&(dyn ErasedSerialize + Sync)>,
    ) -> Self {
        let span = genkit_span!(
            meta,
            "gen_ai.operation.name" = Empty,
            "gen_ai.provider.name" = Empty,
            "gen_ai.request.model" = Empty,
            "gen_ai.request.temperature" = Empty,
            "gen_ai.request.max_tokens" = Empty,
            "gen_ai.request.top_p" = Empty,
            "gen_ai.request.top_k" = Empty,
            "gen_ai.request.stop_sequences" = Empty,
            "gen_ai.request.seed" = Empty,
            "gen_ai.response.finish_reasons" = Empty,
            "gen_ai.response.model" = Empty,
            "gen_ai.response.id" = Empty,
            "gen_ai.usage.input_tokens" = Empty,
            "gen_ai.usage.output_tokens" = Empty,
            "gen_ai.usage.cache_read.input_tokens" = Empty,
            "error.type" = Empty,
        );
        Self::with_span(span, meta, input, None)
    }

    /// Opens the span of a tool call: Genkit's attributes plus the OpenTelemetry GenAI
    /// ones of a tool execution (`tool_name`: the name the model calls it by).
    pub(crate) fn open_tool(
        meta: SpanMeta<'_>,
        tool_name: &str,
        input: Option<&(dyn ErasedSerialize + Sync)>,
    ) -> Self {
        let span = genkit_span!(
            meta,
            "gen_ai.operation.name" = gen_ai::EXECUTE_TOOL,
            "gen_ai.tool.name" = tool_name,
            "gen_ai.tool.type" = gen_ai::TOOL_TYPE,
        );
        Self::with_span(span, meta, input, None)
    }

    fn with_span(
        span: tracing::Span,
        meta: SpanMeta<'_>,
        input: Option<&(dyn ErasedSerialize + Sync)>,
        context: Option<Arc<Value>>,
    ) -> Self {
        let parent = SCOPE.try_with(Scope::clone).ok();
        let context = context.or_else(|| parent.as_ref().and_then(|p| p.context.clone()));
        if span.is_disabled() {
            let scope = Scope {
                path: None,
                failure_marked: None,
                context,
                recorded_context: None,
            };
            return ActionSpan {
                span,
                scope,
                failure_marked: None,
            };
        }

        let parent_path = parent.as_ref().and_then(|p| p.path.clone());
        let is_root = parent_path.is_none();
        let t = if meta.subtype == Some("flow") {
            "flow"
        } else {
            meta.kind
        };
        let mut path = String::with_capacity(64);
        if let Some(p) = &parent_path {
            path.push_str(p);
        }
        path.push_str("/{");
        path.push_str(meta.name);
        path.push_str(",t:");
        path.push_str(t);
        if let (false, Some(s)) = (is_root, meta.subtype) {
            path.push_str(",s:");
            path.push_str(s);
        }
        path.push('}');
        span.record("genkit:path", path.as_str());
        if is_root {
            span.record("genkit:isRoot", true);
        }
        if let Some(i) = input {
            span.record("genkit:input", tracing::field::display(Json(i)));
        }
        // The caller's credentials are never recorded (see `crate::secrets`).
        let recorded_context = context.as_ref().map(|c| match &parent {
            Some(Scope {
                context: Some(pc),
                recorded_context: Some(text),
                ..
            }) if Arc::ptr_eq(pc, c) => Arc::clone(text),
            _ => Arc::from(crate::secrets::redacted_context_json(c)),
        });
        if let Some(c) = &recorded_context {
            span.record("genkit:metadata:context", &**c);
        }
        let failure_marked = parent
            .and_then(|p| p.failure_marked)
            .unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
        let scope = Scope {
            path: Some(Arc::from(path)),
            failure_marked: Some(failure_marked.clone()),
            context,
            recorded_context,
        };
        ActionSpan {
            span,
            scope,
            failure_marked: Some(failure_marked),
        }
    }

    /// The span (disabled when no layer listens): for attributes beyond Genkit's.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Runs `fut` inside the span, then records its output (serialized only when a
    /// layer reads it) and its state.
    ///
    /// Not an `async fn`: one of those would hold `fut` twice (its argument and the
    /// future it awaits), and an agent's turn, a generate and a model call each run
    /// inside such a span, so every level doubled the space a call in flight keeps.
    /// The combinators hold it once.
    pub(crate) fn run<T, F>(self, fut: F) -> impl Future<Output = Result<T>>
    where
        T: Serialize,
        F: Future<Output = Result<T>>,
    {
        use futures::future::{Either, FutureExt};
        let ActionSpan {
            span,
            scope,
            failure_marked,
        } = self;
        let Some(failure_marked) = failure_marked else {
            return Either::Left(SCOPE.scope(scope, fut));
        };
        let traced = SCOPE.scope(scope, fut.instrument(span.clone()));
        Either::Right(traced.map(move |result| {
            match &result {
                Ok(out) => {
                    span.record("genkit:output", tracing::field::display(Json(out)));
                    span.record("genkit:state", "success");
                }
                Err(Error::Interrupt { metadata }) => {
                    // An interrupt is a result of the tool, not a failure of the trace.
                    span.record("genkit:output", tracing::field::display(Json(metadata)));
                    span.record("genkit:state", "success");
                }
                Err(e) => {
                    span.record("genkit:state", "error");
                    span.record("exception.message", e.to_string().as_str());
                    span.record("genkit:status", e.status().name());
                    if !failure_marked.swap(true, Ordering::Relaxed) {
                        span.record("genkit:isFailureSource", true);
                    }
                }
            }
            result
        }))
    }
}

/// A span field's value as JSON text (`genkit:input`, `genkit:output`), written only
/// when a layer reads the field (through `Visit::record_debug`): a subscriber that
/// enables the span but ignores its input and output never pays for serializing them.
struct Json<'a, T: ?Sized>(&'a T);

impl<T: ErasedSerialize + ?Sized> std::fmt::Display for Json<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.write_json(f)
    }
}

thread_local! {
    /// The buffer span inputs and outputs are serialized into before they are written
    /// to the layer (reused: no allocation per span once warm).
    static JSON_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A reused buffer larger than this is given back after use.
const JSON_BUF_KEEP: usize = 256 * 1024;

/// Serializes to a JSON string, as Genkit stores `genkit:input` / `genkit:output`.
fn json_string<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("\"<unserializable: {e}>\""))
}

/// A value that can be serialized to a JSON string on demand (object-safe `Serialize`).
pub trait ErasedSerialize {
    /// The value as a JSON string.
    fn to_json_string(&self) -> String;

    /// Writes the value as JSON into `f` (what [`ErasedSerialize::to_json_string`]
    /// returns, without building the string first).
    fn write_json(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

impl<T: Serialize> ErasedSerialize for T {
    fn to_json_string(&self) -> String {
        json_string(self)
    }

    fn write_json(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let buffered = JSON_BUF.try_with(|cell| {
            let Ok(mut buf) = cell.try_borrow_mut() else {
                // Re-entered (a `Serialize` impl that records a span): no buffer.
                return f.write_str(&json_string(self));
            };
            buf.clear();
            let written = match serde_json::to_writer(&mut *buf, self) {
                // serde_json writes UTF-8 only.
                Ok(()) => match std::str::from_utf8(&buf) {
                    Ok(text) => f.write_str(text),
                    Err(_) => f.write_str(&json_string(self)),
                },
                Err(e) => write!(f, "\"<unserializable: {e}>\""),
            };
            if buf.capacity() > JSON_BUF_KEEP {
                *buf = Vec::new();
            }
            written
        });
        match buffered {
            Ok(written) => written,
            Err(_) => f.write_str(&json_string(self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A span holds its action's future once, not twice (an `async fn` wrapper would
    /// keep the argument and the awaited future), whether or not a layer listens.
    #[test]
    fn a_span_holds_its_future_once() {
        let work = || async {
            let buf = [1u8; 4096];
            tokio::task::yield_now().await;
            Ok::<_, Error>(buf.iter().map(|b| usize::from(*b)).sum::<usize>())
        };
        let inner = std::mem::size_of_val(&work());
        assert!(inner >= 4096);
        let meta = SpanMeta {
            name: "t",
            kind: "action",
            subtype: None,
            key: None,
            session_id: None,
        };
        let traced = ActionSpan::open(meta, None, None).run(work());
        let size = std::mem::size_of_val(&traced);
        assert!(
            size < inner + 1024,
            "{size} bytes around a {inner}-byte future"
        );
        let out = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(traced)
            .expect("the work's result");
        assert_eq!(out, 4096);
    }
}
