//! An incremental parser of Server-Sent Events, as `streamGenerateContent?alt=sse`
//! sends them: bytes go in as they arrive (split anywhere, even inside a UTF-8
//! character or a CRLF), complete events come out.
//!
//! It follows the SSE rules: lines end with CRLF, LF or CR; `data:` lines of one event
//! are joined with `\n`; a blank line ends an event; `:` lines are comments; an event
//! with no data is not dispatched. Anything malformed is a typed [`SseError`], never a
//! panic.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, when given.
    pub event: Option<String>,
    /// The data lines, joined with `\n`.
    pub data: String,
}

/// What can go wrong while reading a stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line is not UTF-8.
    #[error("the event stream is not valid UTF-8")]
    InvalidUtf8,
    /// A line or event is larger than the limit.
    #[error("an event of the stream is larger than {0} bytes")]
    TooLarge(usize),
    /// The stream ended inside an event.
    #[error("the event stream ended in the middle of an event")]
    Incomplete,
}

/// The default limit on one event: 64 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 64 << 20;

/// The parser state. Feed it with [`push`](SseParser::push), end with
/// [`finish`](SseParser::finish).
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: Option<String>,
    after_cr: bool,
    started: bool,
    max: usize,
    failed: Option<SseError>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the default size limit.
    pub fn new() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that refuses events larger than `max` bytes.
    pub fn with_max_event_bytes(max: usize) -> Self {
        SseParser {
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event: None,
            after_cr: false,
            started: false,
            max,
            failed: None,
        }
    }

    /// Feeds bytes; returns the events they complete. When the bytes go bad after
    /// some complete events, those events are returned and the error is kept:
    /// [`error`](SseParser::error) shows it, and every later call returns it. Nothing
    /// that arrived whole before the bad bytes is lost.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut out = Vec::new();
        for &b in bytes {
            if let Err(e) = self.byte(b, &mut out) {
                self.failed = Some(e.clone());
                if out.is_empty() {
                    return Err(e);
                }
                break;
            }
        }
        Ok(out)
    }

    /// The error that stopped the parser, if any.
    pub fn error(&self) -> Option<&SseError> {
        self.failed.as_ref()
    }

    /// Ends the stream: an error if it stopped inside an event.
    pub fn finish(&mut self) -> Result<(), SseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.line.is_empty() || self.has_data {
            self.failed = Some(SseError::Incomplete);
            return Err(SseError::Incomplete);
        }
        Ok(())
    }

    fn byte(&mut self, b: u8, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        match b {
            b'\n' if self.after_cr => {
                self.after_cr = false;
                Ok(())
            }
            b'\n' | b'\r' => {
                self.after_cr = b == b'\r';
                self.end_line(out)
            }
            _ => {
                self.after_cr = false;
                if self.line.len() + self.data.len() >= self.max {
                    return Err(SseError::TooLarge(self.max));
                }
                self.line.push(b);
                Ok(())
            }
        }
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let raw = std::mem::take(&mut self.line);
        let mut line = std::str::from_utf8(&raw).map_err(|_| SseError::InvalidUtf8)?;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                out.push(SseEvent {
                    event: self.event.take(),
                    data,
                });
            }
            self.has_data = false;
            self.event = None;
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut p = SseParser::new();
        let mut v = p.push(input)?;
        p.finish()?;
        v.shrink_to_fit();
        Ok(v)
    }

    #[test]
    fn crlf_lf_and_cr_line_endings() {
        let v = all(b"data: a\r\n\r\ndata: b\n\ndata: c\r\r").unwrap();
        let data: Vec<_> = v.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["a", "b", "c"]);
    }

    #[test]
    fn multi_line_events_comments_and_names() {
        let v = all(b": keepalive\nevent: x\ndata: {\"a\":\ndata:1}\nid: 7\n\n").unwrap();
        assert_eq!(
            v,
            [SseEvent {
                event: Some("x".into()),
                data: "{\"a\":\n1}".into()
            }]
        );
    }

    #[test]
    fn split_inside_crlf_and_utf8() {
        let input = "data: é\r\n\r\n".as_bytes();
        let mut p = SseParser::new();
        let mut got = Vec::new();
        for b in input {
            got.extend(p.push(std::slice::from_ref(b)).unwrap());
        }
        p.finish().unwrap();
        assert_eq!(got[0].data, "é");
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn truncated_and_invalid_streams_are_errors() {
        assert_eq!(all(b"data: {\"a\"").unwrap_err(), SseError::Incomplete);
        assert_eq!(all(b"data: \xff\n\n").unwrap_err(), SseError::InvalidUtf8);
        let mut p = SseParser::with_max_event_bytes(8);
        assert_eq!(
            p.push(b"data: 0123456789").unwrap_err(),
            SseError::TooLarge(8)
        );
        assert!(p.push(b"\n\n").is_err());
    }

    #[test]
    fn events_before_invalid_bytes_are_kept() {
        let mut p = SseParser::new();
        let v = p.push(b"data: {\"a\":1}\n\ndata: \xff\n\n").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].data, "{\"a\":1}");
        assert_eq!(p.error(), Some(&SseError::InvalidUtf8));
        assert_eq!(p.push(b"data: x\n\n").unwrap_err(), SseError::InvalidUtf8);
        assert_eq!(p.finish().unwrap_err(), SseError::InvalidUtf8);
    }
}
