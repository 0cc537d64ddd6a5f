//! Golden fixtures: Genkit request → the exact Gemini body, and Gemini response (or
//! stream) → the Genkit response. Inputs and expectations live in `tests/fixtures/`;
//! run with `GENKIT_BLESS=1` to rewrite the expectations after a deliberate change
//! (then review the diff).

use std::path::{Path, PathBuf};

use genkit_core::GenerateRequest;
use genkit_googleai::sse::SseParser;
use genkit_googleai::translate::{Aggregator, from_gemini, to_gemini};
use genkit_googleai::wire::GenerateContentResponse;
use serde_json::{Map, Value, json};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn load(path: &Path) -> Map<String, Value> {
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Object(m) => m,
        _ => panic!("{} is not an object", path.display()),
    }
}

/// Compares `actual` with `fixture[key]` (exactly, key order included), or writes it
/// when blessing.
fn check(path: &Path, fixture: &mut Map<String, Value>, key: &str, actual: Value) {
    if std::env::var_os("GENKIT_BLESS").is_some() {
        fixture.insert(key.into(), actual);
        let text = serde_json::to_string_pretty(&Value::Object(fixture.clone())).unwrap();
        std::fs::write(path, text + "\n").unwrap();
        return;
    }
    let expected = fixture
        .get(key)
        .unwrap_or_else(|| panic!("{}: no \"{key}\" (run with GENKIT_BLESS=1)", path.display()));
    assert_eq!(
        serde_json::to_string(&actual).unwrap(),
        serde_json::to_string(expected).unwrap(),
        "{}: \"{key}\" differs",
        path.display()
    );
}

#[test]
fn genkit_requests_become_these_gemini_bodies() {
    for path in fixtures("requests") {
        let mut f = load(&path);
        let req: GenerateRequest = genkit_core::from_value(f["genkit"].clone()).unwrap();
        let t = to_gemini(&req).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(
            &path,
            &mut f,
            "gemini",
            serde_json::to_value(&t.body).unwrap(),
        );
        check(&path, &mut f, "version", json!(t.version));
    }
}

#[test]
fn gemini_responses_become_these_genkit_responses() {
    for path in fixtures("responses") {
        let mut f = load(&path);
        let resp: GenerateContentResponse = serde_json::from_value(f["gemini"].clone()).unwrap();
        let actual = match from_gemini(&resp) {
            Ok(r) => json!({ "response": r }),
            Err(e) => json!({ "error": e.to_callable_json() }),
        };
        check(&path, &mut f, "genkit", actual);
    }
}

#[test]
fn gemini_streams_become_these_chunks_and_response() {
    for path in fixtures("streams") {
        let mut f = load(&path);
        let sse = f["sse"].as_str().unwrap().to_string();
        let mut parser = SseParser::new();
        let events = parser.push(sse.as_bytes()).unwrap();
        parser.finish().unwrap();
        let mut agg = Aggregator::new();
        let mut chunks = Vec::new();
        for e in events {
            let resp: GenerateContentResponse = serde_json::from_str(&e.data).unwrap();
            chunks.push(serde_json::to_value(agg.push(&resp).unwrap()).unwrap());
        }
        assert!(agg.finished());
        check(&path, &mut f, "chunks", Value::Array(chunks));
        check(
            &path,
            &mut f,
            "genkit",
            serde_json::to_value(agg.finish().unwrap()).unwrap(),
        );
    }
}
