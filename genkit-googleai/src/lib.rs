//! Gemini for genkit-rs (being written).
