//! Translation between Genkit's data model and Gemini's wire JSON.
//!
//! Pure functions, no I/O: the golden fixture tests check them byte for byte.

pub mod request;
pub mod response;
pub mod schema;

pub use request::{Translated, to_gemini};
pub use response::{Aggregator, from_gemini};
pub use schema::to_gemini_schema;
