//! Benchmarks for genkit-rs: framework overhead against the same HTTP exchange written
//! by hand with reqwest, a multi-turn tool loop under concurrency, streaming, start-up,
//! and the same workloads in Genkit JS, Genkit Python and rig, side by side.
//!
//! Run everything (prints the tables and writes `BENCHMARKS.md` at the workspace root):
//!
//! ```text
//! cargo run --release -p genkit-bench --features rig  # full (without `rig`: no rig rows)
//! cargo run --release -p genkit-bench            # full: a few minutes, installs the JS/Python peers
//! cargo run --release -p genkit-bench -- --quick # under a minute; peers only if installed
//! cargo run --release -p genkit-bench -- --smoke # a handful of calls, Rust rows only
//! cargo run --release -p genkit-bench -- --anthropic # only the Anthropic provider's rows
//! cargo run --release -p genkit-bench -- --providers # only the provider rows (OpenAI)
//! cargo run --release -p genkit-bench -- --providers --in-flight # only OpenAI's rows at 256 in flight
//! cargo run --release -p genkit-bench -- --anthropic --in-flight # only Anthropic's rows at 256 in flight
//! ```
//!
//! Each row runs in its own child process (the runner re-executes itself as `client`),
//! against a server in another child process (`serve`), so CPU time and peak RSS are the
//! row's alone. Micro-benchmarks (criterion) are in `genkit-bench/micro` (`cargo bench -p genkit-microbench`).
//!
//! The pieces are usable on their own, e.g. the tool-loop mock's answer:
//!
//! ```
//! use serde_json::json;
//! let req = json!({
//!     "contents": [{"role": "user", "parts": [{"text": "Research: rust"}]}],
//!     "tools": [{"functionDeclarations": [{"name": "search"}, {"name": "lookup"}]}]
//! });
//! let reply = genkit_bench::mock::reply_to(&req);
//! assert_eq!(reply["candidates"][0]["content"]["parts"][1]["functionCall"]["name"], "lookup");
//! ```

pub mod agents;
pub mod anthropic;
pub mod client;
pub mod inflight;
pub mod mock;
pub mod providers;
pub mod report;
pub mod rig_peers;
pub mod runner;
pub mod serve;
pub mod stats;
pub mod workloads;
