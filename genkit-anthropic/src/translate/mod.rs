//! Genkit ⇄ Messages API translation: [`request`] (Genkit request → body) and
//! [`response`] (answer or stream → Genkit response and chunks).

pub mod request;
pub mod response;

pub use request::{DEFAULT_MAX_TOKENS, Target, Translated, strict_schema, to_anthropic};
pub use response::{Aggregator, from_anthropic};
