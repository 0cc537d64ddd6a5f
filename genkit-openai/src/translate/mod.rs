//! Translation between Genkit's data model and the Chat Completions JSON.
//!
//! Pure functions, no I/O.

pub mod request;
pub mod response;

pub use request::{Dialect, to_openai};
pub use response::{Aggregator, from_openai};
