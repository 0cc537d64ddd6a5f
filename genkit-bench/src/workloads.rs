//! The workloads, each written four ways in Rust: genkit-rs with tracing off, genkit-rs
//! with tracing on, the same HTTP exchange hand-written with bare reqwest, and rig.
//!
//! * **overhead**: one `generate` with one tool round against [`crate::mock`] (prompt
//!   `Look up: rust`, one tool `lookup`): two HTTP exchanges.
//! * **loop**: against [`crate::mock`]: three tool turns with two parallel tool calls
//!   each, then the answer: four HTTP exchanges, six tool calls.
//! * **stream**: one streamed answer of about 500 one-word chunks from `LocalGemini`
//!   (`--words-per-chunk 1`).

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use genkit_core::{Error, Genkit, Result, ToolRef};
use genkit_googleai::GoogleAi;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The model every workload calls.
pub const MODEL: &str = "gemini-2.0-flash";

/// The prompt of the overhead workload.
pub const OVERHEAD_PROMPT: &str = "Look up: rust";
/// The prompt of the loop workload.
pub const LOOP_PROMPT: &str = "Research: rust";

/// The prompt of the streaming workload: 500 words, echoed back one word per chunk.
pub fn long_prompt() -> String {
    (0..500)
        .map(|i| format!("word{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which implementation runs a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Impl {
    /// genkit-rs, no subscriber.
    Genkit,
    /// genkit-rs under a subscriber whose no-op layer enables target `genkit`.
    GenkitTraced,
    /// genkit-rs with `genkit::telemetry::layer()` exporting to a telemetry server
    /// (the runner's local sink).
    GenkitExport,
    /// genkit-rs with the layer exporting over OTLP/HTTP (protobuf) to the local sink.
    GenkitOtlp,
    /// The same HTTP exchanges with bare reqwest and serde_json.
    Reqwest,
    /// rig-core 0.21's Gemini client and agent.
    Rig,
}

impl Impl {
    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Genkit => "genkit-rs",
            Impl::GenkitTraced => "genkit-rs-traced",
            Impl::GenkitExport => "genkit-rs-export",
            Impl::GenkitOtlp => "genkit-rs-otlp",
            Impl::Reqwest => "reqwest",
            Impl::Rig => "rig",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Impl> {
        [
            Impl::Genkit,
            Impl::GenkitTraced,
            Impl::GenkitExport,
            Impl::GenkitOtlp,
            Impl::Reqwest,
            Impl::Rig,
        ]
        .into_iter()
        .find(|i| i.name() == s)
    }
}

/// The input of every tool.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Query {
    /// What to look up.
    pub query: String,
}

pub(crate) fn lookup_result(q: &str) -> String {
    format!("Results for: {q}")
}
pub(crate) fn search_result(q: &str) -> String {
    format!("Found: {q}")
}

/// A genkit-rs instance on the Gemini plugin with the benchmark's two tools.
pub struct GenkitSide {
    /// The instance.
    pub ai: Genkit,
    /// `lookup`.
    pub lookup: ToolRef,
    /// `search`.
    pub search: ToolRef,
}

impl GenkitSide {
    /// Builds the instance against `base_url`.
    pub async fn new(base_url: &str) -> Result<GenkitSide> {
        let ai = Genkit::builder()
            .plugin(GoogleAi::new("local").with_base_url(base_url))
            .model(format!("googleai/{MODEL}"))
            .without_submitted_actions()
            .build()
            .await?;
        let lookup = ai.define_tool("lookup", "Look up a topic.", |q: Query, _cx| async move {
            Ok::<_, Error>(lookup_result(&q.query))
        })?;
        let search = ai.define_tool(
            "search",
            "Search the web for a topic.",
            |q: Query, _cx| async move { Ok::<_, Error>(search_result(&q.query)) },
        )?;
        Ok(GenkitSide { ai, lookup, search })
    }

    /// One overhead generate; returns the answer text.
    pub async fn overhead(&self) -> Result<String> {
        let r = self
            .ai
            .generate()
            .prompt(OVERHEAD_PROMPT)
            .tools([&self.lookup])
            .await?;
        Ok(r.text())
    }

    /// One loop generate; returns the answer text.
    pub async fn tool_loop(&self) -> Result<String> {
        let r = self
            .ai
            .generate()
            .prompt(LOOP_PROMPT)
            .tools([&self.search, &self.lookup])
            .max_turns(5)
            .await?;
        Ok(r.text())
    }

    /// One streamed generate: (time to first text chunk in ms, chunks).
    pub async fn stream(&self, prompt: &str) -> Result<(f64, usize)> {
        let t0 = Instant::now();
        let mut s = self.ai.generate().prompt(prompt.to_string()).stream();
        let mut first = None;
        let mut chunks = 0;
        while let Some(c) = s.next().await {
            let c = c?;
            if first.is_none() && !c.text().is_empty() {
                first = Some(t0.elapsed().as_secs_f64() * 1000.0);
            }
            chunks += 1;
        }
        s.response().await?;
        Ok((first.unwrap_or(0.0), chunks))
    }
}

/// The same exchanges written by hand with reqwest and `serde_json::Value`.
pub struct ReqwestSide {
    client: reqwest::Client,
    generate_url: String,
    stream_url: String,
    lookup_only: Value,
    both: Value,
}

fn declaration(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "description": description,
        "parameters": {
            "type": "OBJECT",
            "properties": {"query": {"type": "STRING"}},
            "required": ["query"]
        }
    })
}

fn http_err(e: reqwest::Error) -> Error {
    Error::unavailable(e.to_string())
}

impl ReqwestSide {
    /// A client for `base_url`.
    pub fn new(base_url: &str) -> Result<ReqwestSide> {
        let client = reqwest::Client::builder().build().map_err(http_err)?;
        let lookup = declaration("lookup", "Look up a topic.");
        let search = declaration("search", "Search the web for a topic.");
        Ok(ReqwestSide {
            client,
            generate_url: format!("{base_url}/v1beta/models/{MODEL}:generateContent"),
            stream_url: format!("{base_url}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"),
            lookup_only: json!([{"functionDeclarations": [lookup.clone()]}]),
            both: json!([{"functionDeclarations": [search, lookup]}]),
        })
    }

    async fn post(&self, body: &Value) -> Result<Value> {
        let resp = self
            .client
            .post(&self.generate_url)
            .header("x-goog-api-key", "local")
            .json(body)
            .send()
            .await
            .map_err(http_err)?;
        if !resp.status().is_success() {
            return Err(Error::internal(format!("HTTP {}", resp.status())));
        }
        resp.json().await.map_err(http_err)
    }

    /// The tool loop: call, run the requested functions, send the results, until text.
    async fn run(&self, prompt: &str, tools: &Value) -> Result<String> {
        let mut contents = vec![json!({"role": "user", "parts": [{"text": prompt}]})];
        for _ in 0..5 {
            let body = json!({"contents": contents, "tools": tools});
            let mut resp = self.post(&body).await?;
            let parts = resp["candidates"][0]["content"]["parts"].take();
            let Some(list) = parts.as_array() else {
                return Err(Error::internal("no parts"));
            };
            let mut results = Vec::new();
            for p in list {
                if let Some(call) = p.get("functionCall") {
                    let name = call["name"].as_str().unwrap_or_default();
                    let q = call["args"]["query"].as_str().unwrap_or_default();
                    let out = match name {
                        "lookup" => lookup_result(q),
                        "search" => search_result(q),
                        other => return Err(Error::not_found(format!("tool {other}"))),
                    };
                    results.push(json!({"functionResponse": {
                        "name": name, "response": {"name": name, "content": out}
                    }}));
                }
            }
            if results.is_empty() {
                let text: String = list.iter().filter_map(|p| p["text"].as_str()).collect();
                return Ok(text);
            }
            contents.push(json!({"role": "model", "parts": parts}));
            contents.push(json!({"role": "user", "parts": results}));
        }
        Err(Error::internal("too many turns"))
    }

    /// One overhead exchange.
    pub async fn overhead(&self) -> Result<String> {
        self.run(OVERHEAD_PROMPT, &self.lookup_only).await
    }

    /// One loop exchange.
    pub async fn tool_loop(&self) -> Result<String> {
        self.run(LOOP_PROMPT, &self.both).await
    }

    /// One streamed answer read off the SSE wire: (time to first text in ms, chunks).
    pub async fn stream(&self, prompt: &str) -> Result<(f64, usize)> {
        let t0 = Instant::now();
        let body = json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]});
        let resp = self
            .client
            .post(&self.stream_url)
            .header("x-goog-api-key", "local")
            .json(&body)
            .send()
            .await
            .map_err(http_err)?;
        let mut bytes = resp.bytes_stream();
        let mut buf: Vec<u8> = Vec::new();
        let mut first = None;
        let mut chunks = 0;
        while let Some(b) = bytes.next().await {
            buf.extend_from_slice(&b.map_err(http_err)?);
            while let Some(end) = find_event_end(&buf) {
                let event: Vec<u8> = buf.drain(..end.1).collect();
                let line = &event[..end.0];
                let Some(data) = line.strip_prefix(b"data: ") else {
                    continue;
                };
                let v: Value = serde_json::from_slice(data)?;
                let has_text = v["candidates"][0]["content"]["parts"]
                    .as_array()
                    .is_some_and(|ps| {
                        ps.iter()
                            .any(|p| p["text"].as_str().is_some_and(|t| !t.is_empty()))
                    });
                if has_text && first.is_none() {
                    first = Some(t0.elapsed().as_secs_f64() * 1000.0);
                }
                chunks += 1;
            }
        }
        Ok((first.unwrap_or(0.0), chunks))
    }
}

/// (end of the event's data, end including the blank line).
fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    let lf = buf
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// One of the Rust sides, behind one interface for the client process.
#[derive(Clone)]
pub enum Side {
    /// genkit-rs.
    Genkit(Arc<GenkitSide>),
    /// reqwest.
    Reqwest(Arc<ReqwestSide>),
    /// rig.
    Rig(Arc<crate::rig_peers::GeminiRig>),
}

impl Side {
    /// Builds the side for `imp` against `base_url`.
    pub async fn new(imp: Impl, base_url: &str) -> Result<Side> {
        Ok(match imp {
            Impl::Genkit | Impl::GenkitTraced | Impl::GenkitExport | Impl::GenkitOtlp => {
                Side::Genkit(Arc::new(GenkitSide::new(base_url).await?))
            }
            Impl::Reqwest => Side::Reqwest(Arc::new(ReqwestSide::new(base_url)?)),
            Impl::Rig => Side::Rig(Arc::new(crate::rig_peers::GeminiRig::new(base_url)?)),
        })
    }

    /// One overhead call; checks the answer.
    pub async fn overhead(&self) -> Result<()> {
        let text = match self {
            Side::Genkit(s) => s.overhead().await?,
            Side::Reqwest(s) => s.overhead().await?,
            Side::Rig(s) => s.overhead().await?,
        };
        if !text.contains("Results for: rust") {
            return Err(Error::internal(format!("unexpected answer: {text}")));
        }
        Ok(())
    }

    /// One loop call; checks the answer.
    pub async fn tool_loop(&self) -> Result<()> {
        let text = match self {
            Side::Genkit(s) => s.tool_loop().await?,
            Side::Reqwest(s) => s.tool_loop().await?,
            Side::Rig(s) => s.tool_loop().await?,
        };
        if !text.starts_with("done after 3 tool turns") {
            return Err(Error::internal(format!("unexpected answer: {text}")));
        }
        Ok(())
    }

    /// One streamed call: (time to first chunk ms, chunks).
    pub async fn stream(&self, prompt: &str) -> Result<(f64, usize)> {
        match self {
            Side::Genkit(s) => s.stream(prompt).await,
            Side::Reqwest(s) => s.stream(prompt).await,
            Side::Rig(_) => Err(Error::failed_precondition(
                "the rig side does not stream here",
            )),
        }
    }
}
