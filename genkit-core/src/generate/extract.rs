//! Reading JSON out of model text, as Genkit's `extract.ts` does: the first JSON
//! object or array in the text, and, when the model stopped before closing it, as
//! much of it as was written.
//!
//! ```
//! use genkit_core::generate::extract::{extract_json, parse_partial_json};
//! use serde_json::json;
//!
//! // Prose and fences around the value are skipped.
//! assert_eq!(extract_json("Sure:\n```json\n{\"a\": 1}\n```"), Some(json!({"a": 1})));
//! // A truncated answer keeps what was written: the unfinished string, not the
//! // key without a value.
//! assert_eq!(extract_json(r#"{"answer": "4"#), Some(json!({"answer": "4"})));
//! assert_eq!(parse_partial_json(r#"[1, 2, {"b": tr"#), Some(json!([1, 2, {"b": true}])));
//! ```

use serde_json::{Map, Value};

/// Finds the first JSON object or array in `text` and parses it.
///
/// The scan follows Genkit JS: it starts at the first `{` or `[` outside a
/// double-quoted string (quotes and backslash escapes are tracked from the start of the
/// text) and ends where that bracket is balanced, counting only brackets of the same
/// kind. An unbalanced value (the model stopped early) is read with
/// [`parse_partial_json`]. `None` when there is no object or array, or it cannot be
/// read.
///
/// A balanced value that is not strict JSON (a trailing comma) is read leniently too;
/// Genkit JS reads it as JSON5.
pub fn extract_json(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut open: Option<(u8, u8)> = None;
    let mut start = 0;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'"' => in_string = !in_string,
            _ if in_string => {}
            b'{' | b'[' if open.is_none() => {
                open = Some((b, if b == b'{' { b'}' } else { b']' }));
                start = i;
                depth = 1;
            }
            _ => match open {
                Some((o, _)) if b == o => depth += 1,
                Some((_, c)) if b == c => {
                    depth -= 1;
                    if depth == 0 {
                        let span = &text[start..=i];
                        return serde_json::from_str(span)
                            .ok()
                            .or_else(|| parse_partial_json(span));
                    }
                }
                _ => {}
            },
        }
    }
    open.and_then(|_| parse_partial_json(&text[start..]))
}

/// Parses JSON that may be cut short, as the `partial-json` package (all kinds
/// allowed) that Genkit JS uses: an unfinished string keeps its text, an unfinished
/// `true`/`false`/`null` is completed, open objects and arrays are closed, and a key
/// whose value was not started is dropped. Inside an object or array, a value that
/// cannot be read ends it (what came before is kept). `NaN` and `Infinity` become
/// `null`, as they do in JSON. `None` when nothing can be read.
pub fn parse_partial_json(text: &str) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Partial {
        s: text,
        b: text.as_bytes(),
        i: 0,
    }
    .any()
}

/// A cursor over the text being read.
struct Partial<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Partial<'_> {
    fn at(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn rest(&self) -> &str {
        self.s.get(self.i..).unwrap_or_default()
    }

    fn skip_blank(&mut self) {
        while matches!(self.at(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn any(&mut self) -> Option<Value> {
        self.skip_blank();
        match self.at()? {
            b'"' => return self.string().map(Value::String),
            b'{' => return Some(self.object()),
            b'[' => return Some(self.array()),
            _ => {}
        }
        // Complete or cut-short literals.
        for (word, value) in [
            ("null", Value::Null),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("Infinity", Value::Null),
            ("-Infinity", Value::Null),
            ("NaN", Value::Null),
        ] {
            let rest = self.rest();
            let partial = rest.len() < word.len()
                && word.starts_with(rest)
                && (word != "-Infinity" || rest.len() > 1);
            if rest.starts_with(word) || partial {
                self.i = (self.i + word.len()).min(self.b.len());
                return Some(value);
            }
        }
        self.number()
    }

    /// A string starting at the opening quote; an unfinished one keeps its text.
    fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.i += 1;
        let mut escape = false;
        while let Some(c) = self.at() {
            if c == b'"' && !escape {
                break;
            }
            escape = c == b'\\' && !escape;
            self.i += 1;
        }
        if self.at() == Some(b'"') {
            self.i += 1;
            return serde_json::from_str(&self.s[start..self.i]).ok();
        }
        // Cut short: drop a dangling backslash, or an unfinished escape.
        let body = &self.s[start..self.i - usize::from(escape)];
        serde_json::from_str(&format!("{body}\"")).ok().or_else(|| {
            let cut = body.rfind('\\')?;
            serde_json::from_str(&format!("{}\"", &body[..cut])).ok()
        })
    }

    fn object(&mut self) -> Value {
        self.i += 1;
        self.skip_blank();
        let mut obj = Map::new();
        while self.at() != Some(b'}') {
            self.skip_blank();
            if self.at() != Some(b'"') {
                return Value::Object(obj);
            }
            let Some(key) = self.string() else {
                return Value::Object(obj);
            };
            self.skip_blank();
            self.i += 1; // the colon
            let Some(value) = self.any() else {
                return Value::Object(obj);
            };
            obj.insert(key, value);
            self.skip_blank();
            if self.at() == Some(b',') {
                self.i += 1;
            }
        }
        self.i += 1;
        Value::Object(obj)
    }

    fn array(&mut self) -> Value {
        self.i += 1;
        let mut arr = Vec::new();
        while self.at() != Some(b']') {
            let Some(value) = self.any() else {
                return Value::Array(arr);
            };
            arr.push(value);
            self.skip_blank();
            if self.at() == Some(b',') {
                self.i += 1;
            }
        }
        self.i += 1;
        Value::Array(arr)
    }

    /// A number up to the next `,`, `]` or `}` (or the end); an unfinished exponent
    /// is dropped.
    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        if self.at() == Some(b'-') {
            self.i += 1;
        }
        while self.at().is_some_and(|c| !matches!(c, b',' | b']' | b'}')) {
            self.i += 1;
        }
        let raw = &self.s[start..self.i];
        let parsed: Option<Value> = serde_json::from_str(raw).ok();
        parsed
            .or_else(|| {
                let e = raw.rfind(['e', 'E'])?;
                serde_json::from_str(&raw[..e]).ok()
            })
            .filter(Value::is_number)
    }
}

#[cfg(test)]
mod tests {
    use super::{extract_json, parse_partial_json};
    use serde_json::json;

    #[test]
    fn balanced_values_in_prose_and_fences() {
        assert_eq!(
            extract_json("```json\n{\"a\": 1}\n```"),
            Some(json!({"a": 1}))
        );
        assert_eq!(
            extract_json("here: [1, {\"b\": \"}\"}] done"),
            Some(json!([1, {"b": "}"}]))
        );
        assert_eq!(extract_json("no json"), None);
        // A trailing comma (JSON5) is read.
        assert_eq!(
            extract_json("{\"a\": [1, 2,],}"),
            Some(json!({"a": [1, 2]}))
        );
        // Quotes before the value are tracked: the brace inside them is skipped.
        assert_eq!(
            extract_json("say \"{x}\" then {\"k\": 2}"),
            Some(json!({"k": 2}))
        );
    }

    #[test]
    fn truncated_values_keep_what_was_written() {
        assert_eq!(extract_json("{\"a\": "), Some(json!({})));
        assert_eq!(
            extract_json("{\"answer\": \"42\""),
            Some(json!({"answer": "42"}))
        );
        assert_eq!(
            extract_json("Sure: {\"a\": {\"b\": [1, 2"),
            Some(json!({"a": {"b": [1, 2]}}))
        );
        assert_eq!(extract_json("{\"a\": \"x\\"), Some(json!({"a": "x"})));
        assert_eq!(extract_json("{\"a\": \"x\\u00"), Some(json!({"a": "x"})));
        assert_eq!(extract_json("{\"a\": 12"), Some(json!({"a": 12})));
        assert_eq!(extract_json("{\"a\": 1.5e"), Some(json!({"a": 1.5})));
        assert_eq!(extract_json("{\"a\": nu"), Some(json!({"a": null})));
        assert_eq!(extract_json("{\"a\": fal"), Some(json!({"a": false})));
        assert_eq!(extract_json("{\"ke"), Some(json!({})));
        assert_eq!(
            extract_json("[{\"a\": 1}, {\"b\""),
            Some(json!([{"a": 1}, {}]))
        );
    }

    #[test]
    fn partial_parser_edges() {
        assert_eq!(parse_partial_json("  "), None);
        assert_eq!(parse_partial_json("-"), None);
        assert_eq!(
            parse_partial_json("[NaN, Infinity, -Inf"),
            Some(json!([null, null, null]))
        );
        // A cut-short literal is completed only at the very end.
        assert_eq!(parse_partial_json("[NaN, -Inf]"), Some(json!([null])));
        // A value that cannot be read ends its container.
        assert_eq!(
            parse_partial_json("{\"a\": 1, \"b\": xyz}"),
            Some(json!({"a": 1}))
        );
        assert_eq!(parse_partial_json("[1, oops, 3]"), Some(json!([1])));
        assert_eq!(
            parse_partial_json("\"unfinished"),
            Some(json!("unfinished"))
        );
        assert_eq!(parse_partial_json("{\"é\": \"ü"), Some(json!({"é": "ü"})));
    }
}
