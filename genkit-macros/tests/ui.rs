//! Compile-time behaviour of `#[genkit::tool]` / `#[genkit::flow]`: what compiles, and
//! the error (and where it points) for each misuse. Snapshots are for the pinned stable
//! toolchain; regenerate with `TRYBUILD=overwrite cargo test --test ui` and read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/tool/pass/*.rs");
    t.pass("tests/ui/flow/pass/*.rs");
    t.pass("tests/ui/tools/pass/*.rs");
    t.compile_fail("tests/ui/tool/fail/*.rs");
    t.compile_fail("tests/ui/flow/fail/*.rs");
    t.compile_fail("tests/ui/tools/fail/*.rs");
    t.compile_fail("tests/ui/derive/fail/*.rs");
}
