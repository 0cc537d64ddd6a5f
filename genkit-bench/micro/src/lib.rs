//! Criterion micro-benchmarks for genkit-rs: `cargo bench -p genkit-microbench --bench micro`.
