//! A recorded genkit span and its conversion to Genkit's `SpanData` JSON.

use std::time::SystemTime;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::json;
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

    /// Genkit's `SpanData`, to serialize. `end` is `None` for a span that has only
    /// started (realtime export: `endTime` 0).
    pub(crate) fn span_data<'a>(
        &'a self,
        fallback_name: &'a str,
        end: Option<SystemTime>,
    ) -> SpanDataOut<'a> {
        SpanDataOut {
            record: self,
            fallback_name,
            end,
        }
    }
}

/// Genkit's `SpanData` of a record, written straight from it (see
/// [`SpanRecord::span_data`]).
pub(crate) struct SpanDataOut<'a> {
    record: &'a SpanRecord,
    fallback_name: &'a str,
    end: Option<SystemTime>,
}

impl Serialize for SpanDataOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.record;
        let end_ms = self.end.map(millis).unwrap_or(0.0);
        // An error is reported once the span has ended.
        let error = self.end.and(r.error_message());
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("spanId", &r.span_id)?;
        map.serialize_entry("traceId", &r.trace_id)?;
        if let Some(p) = &r.parent_span_id {
            map.serialize_entry("parentSpanId", p)?;
        }
        map.serialize_entry("startTime", &millis(r.start))?;
        map.serialize_entry("endTime", &end_ms)?;
        map.serialize_entry("attributes", &Attributes(&r.fields))?;
        map.serialize_entry("displayName", r.display_name(self.fallback_name))?;
        map.serialize_entry("links", &[(); 0])?;
        map.serialize_entry("instrumentationLibrary", &LIBRARY)?;
        map.serialize_entry("spanKind", "INTERNAL")?;
        map.serialize_entry("sameProcessAsParentSpan", &SameProcess { value: true })?;
        match error {
            Some(message) => {
                map.serialize_entry("status", &json!({"code": 2, "message": message}))?;
                let event = json!({
                    "time": end_ms,
                    "annotation": {
                        "description": "exception",
                        "attributes": {
                            "exception.type": "Error",
                            "exception.message": message,
                        },
                    },
                });
                map.serialize_entry("timeEvents", &json!({ "timeEvent": [event] }))?;
            }
            None => {
                map.serialize_entry("status", &StatusOk { code: 0 })?;
                map.serialize_entry("timeEvents", &NoEvents { time_event: [] })?;
            }
        }
        map.end()
    }
}

// The constant parts of every span, written without building a JSON value per span.

#[derive(serde::Serialize)]
struct Library {
    name: &'static str,
    version: &'static str,
}

const LIBRARY: Library = Library {
    name: "genkit-tracer",
    version: "v1",
};

#[derive(serde::Serialize)]
struct SameProcess {
    value: bool,
}

#[derive(serde::Serialize)]
struct StatusOk {
    code: u8,
}

#[derive(serde::Serialize)]
struct NoEvents {
    #[serde(rename = "timeEvent")]
    time_event: [(); 0],
}

/// A span's fields as `SpanData.attributes` (without `otel.name` and
/// `exception.message`, which become the name and the status).
struct Attributes<'a>(&'a [(&'static str, FieldValue)]);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.0 {
            if !matches!(*name, "otel.name" | "exception.message") {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Str(s) => serializer.serialize_str(s),
            FieldValue::Bool(b) => serializer.serialize_bool(*b),
            FieldValue::I64(i) => serializer.serialize_i64(*i),
            FieldValue::U64(u) => serializer.serialize_u64(*u),
            FieldValue::F64(f) => serializer.serialize_f64(*f),
        }
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
