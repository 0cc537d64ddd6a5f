//! Embedders (being written).
