//! Property tests of the SSE parser and the response translator: any split of a
//! valid stream gives the same events and chunks; any bytes give typed errors, never
//! a panic.

use genkit_googleai::sse::{SseEvent, SseParser};
use genkit_googleai::translate::{Aggregator, from_gemini};
use genkit_googleai::wire::GenerateContentResponse;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Feeds `bytes` cut at `cuts` (positions, any order); returns the events or the error.
fn parse_split(bytes: &[u8], cuts: &[usize]) -> Result<Vec<SseEvent>, String> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut p = SseParser::new();
    let mut out = Vec::new();
    let mut last = 0;
    for at in points.into_iter().chain([bytes.len()]) {
        out.extend(p.push(&bytes[last..at]).map_err(|e| e.to_string())?);
        last = at;
    }
    p.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

/// Event data: lines without CR/LF (may be empty, may hold any other character).
fn data_lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[^\r\n]{0,12}", 1..4)
}

fn part() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zé ]{0,8}".prop_map(|t| json!({"text": t})),
        "[a-z ]{0,8}".prop_map(|t| json!({"text": t, "thought": true})),
        ("[a-z_]{1,8}", "[a-z]{0,5}")
            .prop_map(|(n, q)| json!({"functionCall": {"name": n, "args": {"q": q}}})),
        ("[a-z_]{1,8}", "[a-z0-9]{1,4}").prop_map(
            |(n, id)| json!({"functionCall": {"name": n, "id": id}, "thoughtSignature": "c2ln"})
        ),
        "[A-Za-z0-9+/]{0,8}"
            .prop_map(|d| json!({"inlineData": {"mimeType": "image/png", "data": d}})),
        Just(json!({})),
        Just(json!({"thoughtSignature": "c2ln"})),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(part(), 0..4),
        prop::option::of(prop_oneof![
            Just("STOP"),
            Just("MAX_TOKENS"),
            Just("SAFETY"),
            Just("OTHER")
        ]),
        prop::option::of(0u64..100),
    )
        .prop_map(|(parts, finish, tokens)| {
            let mut c = json!({"content": {"role": "model", "parts": parts}, "index": 0});
            if let Some(f) = finish {
                c["finishReason"] = json!(f);
            }
            let mut e = json!({"candidates": [c]});
            if let Some(t) = tokens {
                e["usageMetadata"] = json!({"promptTokenCount": t, "totalTokenCount": t + 1});
            }
            e
        })
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("candidates".to_string()),
                    Just("content".to_string()),
                    Just("parts".to_string()),
                    Just("text".to_string()),
                    Just("functionCall".to_string()),
                    Just("name".to_string()),
                    Just("thought".to_string()),
                    Just("inlineData".to_string()),
                    Just("promptFeedback".to_string()),
                    Just("finishReason".to_string()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn chunks_of(events: &[SseEvent]) -> Vec<String> {
    let mut agg = Aggregator::new();
    let mut out = Vec::new();
    for e in events {
        let resp: GenerateContentResponse =
            serde_json::from_str(&e.data).expect("valid event JSON");
        let parts = agg.push(&resp).expect("valid parts");
        out.push(serde_json::to_string(&parts).expect("serializable"));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_gives_the_same_events(
        events in prop::collection::vec((data_lines(), line_end()), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut text = String::new();
        let mut expected = Vec::new();
        for (lines, end) in &events {
            for l in lines {
                text.push_str("data: ");
                text.push_str(l);
                text.push_str(end);
            }
            text.push_str(end);
            expected.push(SseEvent { event: None, data: lines.join("\n") });
        }
        let whole = parse_split(text.as_bytes(), &[]);
        prop_assert_eq!(whole.as_ref(), Ok(&expected));
        prop_assert_eq!(parse_split(text.as_bytes(), &cuts), whole);
    }

    #[test]
    fn any_split_of_a_gemini_stream_gives_the_same_chunks(
        events in prop::collection::vec(event(), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n\r\n" } else { "\n\n" };
        let text: String = events.iter().map(|e| format!("data: {e}{end}")).collect();
        let whole = parse_split(text.as_bytes(), &[]).expect("valid stream");
        prop_assert_eq!(whole.len(), events.len());
        let split = parse_split(text.as_bytes(), &cuts).expect("valid stream");
        prop_assert_eq!(chunks_of(&split), chunks_of(&whole));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        if let Ok(events) = parse_split(&bytes, &cuts) {
            let mut agg = Aggregator::new();
            for e in events {
                if let Ok(resp) = serde_json::from_str::<GenerateContentResponse>(&e.data) {
                    let _ = agg.push(&resp);
                }
            }
            let _ = agg.finish();
        }
    }

    #[test]
    fn arbitrary_json_never_panics_the_translator(v in arbitrary_json(), events in prop::collection::vec(arbitrary_json(), 0..4)) {
        if let Ok(resp) = serde_json::from_value::<GenerateContentResponse>(v) {
            match from_gemini(&resp) {
                Ok(r) => prop_assert!(r.message.is_some()),
                Err(e) => prop_assert!(!e.message().is_empty()),
            }
        }
        let mut agg = Aggregator::new();
        for e in events {
            if let Ok(resp) = serde_json::from_value::<GenerateContentResponse>(e) {
                let _ = agg.push(&resp);
            }
        }
        let _ = agg.finish();
    }

    #[test]
    fn arbitrary_gemini_events_translate(e in event()) {
        let resp: GenerateContentResponse = serde_json::from_value(e.clone()).expect("generated events parse");
        let r = from_gemini(&resp).expect("generated events translate");
        let kept = e["candidates"][0]["content"]["parts"].as_array().map_or(0, |p| p.iter().filter(|p| p.as_object().is_some_and(|o| !o.is_empty())).count());
        prop_assert_eq!(r.message.map(|m| m.content.len()), Some(kept));
    }
}
