//! A recorded genkit span and its conversion to Genkit's `SpanData` JSON.

use std::time::SystemTime;

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};

/// What the layer keeps for one genkit span (in the span's extensions).
#[derive(Clone)]
pub(crate) struct SpanRecord {
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    pub(crate) parent_span_id: Option<String>,
    pub(crate) start: SystemTime,
    /// Fields in the order first recorded; a later record replaces the value.
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    /// Realtime mode: the start has been exported.
    pub(crate) start_exported: bool,
}

/// A recorded field value.
#[derive(Clone, Debug)]
pub(crate) enum FieldValue {
    Str(String),
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
}

impl FieldValue {
    fn to_json(&self) -> Value {
        match self {
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::I64(i) => json!(i),
            FieldValue::U64(u) => json!(u),
            FieldValue::F64(f) => json!(f),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl SpanRecord {
    pub(crate) fn field(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn set(&mut self, name: &'static str, value: FieldValue) {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Approximate size of the span's data in bytes (its fields plus a fixed part).
    pub(crate) fn approx_bytes(&self) -> usize {
        self.fields
            .iter()
            .map(|(name, v)| {
                name.len()
                    + match v {
                        FieldValue::Str(s) => s.len(),
                        _ => 8,
                    }
            })
            .sum::<usize>()
            + 512
    }

    /// The span's name: `genkit:name`, else `otel.name`, else the tracing name.
    pub(crate) fn display_name<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.field("genkit:name")
            .or_else(|| self.field("otel.name"))
            .and_then(FieldValue::as_str)
            .unwrap_or(fallback)
    }

    /// The error message, when the span failed.
    pub(crate) fn error_message(&self) -> Option<&str> {
        let failed = self.field("genkit:state").and_then(FieldValue::as_str) == Some("error");
        let message = self.field("exception.message").and_then(FieldValue::as_str);
        match (failed, message) {
            (_, Some(m)) => Some(m),
            (true, None) => Some(""),
            (false, None) => None,
        }
    }

    /// Genkit's `SpanData`. `end` is `None` for a span that has only started (realtime
    /// export: `endTime` 0).
    pub(crate) fn to_span_data(&self, fallback_name: &str, end: Option<SystemTime>) -> Value {
        let mut attributes = Map::new();
        for (name, value) in &self.fields {
            if matches!(*name, "otel.name" | "exception.message") {
                continue;
            }
            attributes.insert((*name).to_string(), value.to_json());
        }
        let start = millis(self.start);
        let end_ms = end.map(millis).unwrap_or(0.0);
        let mut status = Map::new();
        let mut events = Vec::new();
        match (end, self.error_message()) {
            (Some(_), Some(message)) => {
                status.insert("code".into(), json!(2));
                status.insert("message".into(), json!(message));
                events.push(json!({
                    "time": end_ms,
                    "annotation": {
                        "description": "exception",
                        "attributes": {
                            "exception.type": "Error",
                            "exception.message": message,
                        },
                    },
                }));
            }
            _ => {
                status.insert("code".into(), json!(0));
            }
        }
        let mut span = Map::new();
        span.insert("spanId".into(), json!(self.span_id));
        span.insert("traceId".into(), json!(self.trace_id));
        if let Some(p) = &self.parent_span_id {
            span.insert("parentSpanId".into(), json!(p));
        }
        span.insert("startTime".into(), json!(start));
        span.insert("endTime".into(), json!(end_ms));
        span.insert("attributes".into(), Value::Object(attributes));
        span.insert(
            "displayName".into(),
            json!(self.display_name(fallback_name)),
        );
        span.insert("links".into(), json!([]));
        span.insert(
            "instrumentationLibrary".into(),
            json!({"name": "genkit-tracer", "version": "v1"}),
        );
        span.insert("spanKind".into(), json!("INTERNAL"));
        span.insert("sameProcessAsParentSpan".into(), json!({"value": true}));
        span.insert("status".into(), Value::Object(status));
        span.insert("timeEvents".into(), json!({ "timeEvent": events }));
        Value::Object(span)
    }
}

/// Milliseconds since the Unix epoch, with the sub-millisecond part as a fraction.
pub(crate) fn millis(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as f64 / 1_000_000.0)
        .unwrap_or(0.0)
}

/// Records `tracing` fields into a [`SpanRecord`].
pub(crate) struct Recorder<'a>(pub(crate) &'a mut SpanRecord);

impl Visit for Recorder<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.set(field.name(), FieldValue::Str(value.to_string()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set(field.name(), FieldValue::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set(field.name(), FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.set(field.name(), FieldValue::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set(field.name(), FieldValue::F64(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.set(field.name(), FieldValue::Str(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .set(field.name(), FieldValue::Str(format!("{value:?}")));
    }
}
