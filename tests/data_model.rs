//! Genkit's data model on the wire: every type's JSON validates against Genkit's own JSON
//! Schema (the repository's copy, genkit-core/schema/genkit-schema.json), documents shaped like the ones Genkit
//! writes round-trip unchanged, malformed ones are rejected naming the field, and the
//! error statuses carry Genkit's numbers, names and HTTP mapping.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};

use genkit::{
    DocumentData, Error, FinishReason, GenerateActionOptions, GenerateActionOutputConfig,
    GenerateRequest, GenerateResponse, GenerateResponseChunk, GenerationUsage, Message, Metadata,
    OutputConfig, Part, Resource, Resume, Role, Status, ToolChoice, ToolDefinition,
};
// `genkit::MiddlewareRef` is the runtime middleware handle; this is the JSON one.
use genkit::types::MiddlewareRef;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Schema helpers
// ---------------------------------------------------------------------------------------

const SCHEMA_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/genkit-core/schema/genkit-schema.json"
);

fn genkit_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(SCHEMA_PATH)
            .unwrap_or_else(|e| panic!("reading {SCHEMA_PATH}: {e}"));
        serde_json::from_str(&text).expect("genkit-schema.json is JSON")
    })
}

/// A validator for one `$defs` entry of Genkit's schema (draft-07), built once.
fn validator(def: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(def) {
        return v.clone();
    }
    let defs = &genkit_schema()["$defs"];
    assert!(
        defs.get(def).is_some(),
        "genkit-schema.json has no $defs/{def}"
    );
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "allOf": [{ "$ref": format!("#/$defs/{def}") }],
        "$defs": defs,
    });
    let v = Arc::new(
        jsonschema::draft7::new(&schema).unwrap_or_else(|e| panic!("compiling $defs/{def}: {e}")),
    );
    cache.lock().unwrap().insert(def.to_string(), v.clone());
    v
}

fn schema_errors(def: &str, value: &Value) -> Vec<String> {
    let v = validator(def);
    v.iter_errors(value)
        .map(|e| format!("at `{}`: {e}", e.instance_path))
        .collect()
}

#[track_caller]
fn assert_valid(def: &str, value: &Value) {
    let errors = schema_errors(def, value);
    assert!(
        errors.is_empty(),
        "JSON does not validate against $defs/{def}:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(value).unwrap()
    );
}

#[track_caller]
fn assert_invalid(def: &str, value: &Value) {
    assert!(
        !schema_errors(def, value).is_empty(),
        "expected $defs/{def} to reject {value}"
    );
}

/// Serializes a Rust value, checks the JSON against `$defs/<def>`, and checks that it
/// deserializes back into an equal value that serializes to the same JSON.
#[track_caller]
fn check<T>(def: &str, value: &T) -> Value
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_value(value).expect("serializes");
    assert_valid(def, &json);
    let back: T = genkit::from_value(json.clone())
        .unwrap_or_else(|e| panic!("{def} does not deserialize its own JSON: {e}\n{json}"));
    assert_eq!(&back, value, "{def} changed in a round trip");
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    json
}

/// Checks that a Genkit-shaped document is valid for `$defs/<def>`, deserializes into `T`
/// and serializes back to exactly the same JSON value.
#[track_caller]
fn round_trip<T>(def: &str, doc: Value) -> T
where
    T: Serialize + DeserializeOwned,
{
    assert_valid(def, &doc);
    let typed: T = genkit::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("{def} rejects a Genkit document: {e}\n{doc}"));
    let again = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        again,
        doc,
        "{def} does not round-trip:\nwant {}\ngot  {}",
        serde_json::to_string_pretty(&doc).unwrap(),
        serde_json::to_string_pretty(&again).unwrap()
    );
    typed
}

fn obj(v: Value) -> Metadata {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Deeply nested JSON of every kind, for the places where Genkit allows any content.
fn nested_any() -> Value {
    json!({
        "string": "héllo \"wörld\" \u{1F600}\n",
        "int": -42,
        "big": 18446744073709551615u64,
        "float": 3.25,
        "exp": 1.5e-7,
        "bool": false,
        "null": null,
        "empty_obj": {},
        "empty_arr": [],
        "arr": [1, "two", [3, [4, {"five": 5}]], null, true],
        "deep": {"a": {"b": {"c": {"d": [{"e": {"f": null}}]}}}},
        "camelCase": {"snake_case": {"kebab-case": {"UPPER": 1}}}
    })
}

fn enum_values(def: &str) -> Vec<String> {
    genkit_schema()["$defs"][def]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("$defs/{def} is not an enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Values built in Rust
// ---------------------------------------------------------------------------------------

fn every_part() -> Vec<(&'static str, Part)> {
    let mut custom = Part::default();
    custom.custom = Some(Box::new(obj(
        json!({"executableCode": {"language": "PYTHON", "code": "print(1)"}}),
    )));
    let mut custom_with_data = Part::default();
    custom_with_data.custom = Some(Box::new(obj(json!({"kind": "x"}))));
    custom_with_data.data = Some(Box::new(json!([1, 2])));
    let mut resource = Part::default();
    resource.resource = Some(Box::new(Resource {
        uri: "file:///docs/readme.md".into(),
    }));
    let mut text_with_custom = Part::text("hi");
    text_with_custom.custom = Some(Box::new(obj(json!({"thoughtSignature": "abc=="}))));
    let mut partial_request = Part::tool_request("search", Some("c1".into()), json!({"q": "r"}));
    partial_request.tool_request.as_mut().unwrap().partial = Some(true);
    let mut request_without_input = Part::tool_request("now", None, json!(null));
    request_without_input.tool_request.as_mut().unwrap().input = None;
    let mut multipart_response = Part::tool_response("render", Some("r1".into()), json!("ok"));
    multipart_response.tool_response.as_mut().unwrap().content = Some(vec![
        json!({"media": {"url": "https://x/y.png", "contentType": "image/png"}}),
    ]);

    vec![
        ("TextPart", Part::text("Hello, world")),
        ("TextPart", Part::text("")),
        (
            "TextPart",
            Part::text("with metadata").with_metadata("source", json!({"page": 3})),
        ),
        ("TextPart", text_with_custom),
        (
            "MediaPart",
            Part::media("https://example.com/cat.png", Some("image/png".into())),
        ),
        (
            "MediaPart",
            Part::media("data:image/png;base64,iVBORw0KGgo=", None),
        ),
        (
            "MediaPart",
            Part::media("gs://bucket/video.mp4", Some("video/mp4".into()))
                .with_metadata("videoMetadata", json!({"startOffset": "1s"})),
        ),
        (
            "ToolRequestPart",
            Part::tool_request(
                "get_weather",
                Some("call-1".into()),
                json!({"city": "Paris"}),
            ),
        ),
        (
            "ToolRequestPart",
            Part::tool_request("ping", None, json!(null)),
        ),
        ("ToolRequestPart", partial_request),
        ("ToolRequestPart", request_without_input),
        (
            "ToolRequestPart",
            Part::tool_request("ask_user", Some("i1".into()), json!({"question": "ok?"}))
                .with_metadata("interrupt", json!({"reason": "confirm"})),
        ),
        (
            "ToolResponsePart",
            Part::tool_response("get_weather", Some("call-1".into()), json!({"tempC": 21.5})),
        ),
        (
            "ToolResponsePart",
            Part::tool_response("ping", None, json!(null)),
        ),
        ("ToolResponsePart", multipart_response),
        (
            "DataPart",
            Part::data(json!({"answer": 42, "items": ["a", "b"]})),
        ),
        ("DataPart", Part::data(json!(null))),
        ("DataPart", Part::data(json!([1, 2, 3]))),
        (
            "DataPart",
            Part::data(json!("just a string")).with_metadata("k", json!(1)),
        ),
        (
            "ReasoningPart",
            Part::reasoning("Let me think step by step."),
        ),
        (
            "ReasoningPart",
            Part::reasoning("").with_metadata("thoughtSignature", json!("c2ln")),
        ),
        ("CustomPart", custom),
        ("CustomPart", custom_with_data),
        ("ResourcePart", resource),
    ]
}

fn tool_definitions() -> Vec<ToolDefinition> {
    vec![
        ToolDefinition {
            name: "web_search".into(),
            description: "Search the web for a query.".into(),
            input_schema: Some(json!({
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
                "additionalProperties": false
            })),
            output_schema: Some(json!({"type": "string"})),
            metadata: None,
        },
        ToolDefinition {
            name: "lookup".into(),
            description: String::new(),
            input_schema: None,
            output_schema: None,
            metadata: Some(obj(json!({"originalName": "myplugin/lookup"}))),
        },
    ]
}

fn full_usage() -> GenerationUsage {
    let mut u = GenerationUsage::default();
    u.input_tokens = Some(120);
    u.output_tokens = Some(48);
    u.total_tokens = Some(200);
    u.input_characters = Some(512);
    u.output_characters = Some(190);
    u.input_images = Some(1);
    u.output_images = Some(0);
    u.input_videos = Some(2);
    u.output_videos = Some(0);
    u.input_audio_files = Some(3);
    u.output_audio_files = Some(1);
    u.thoughts_tokens = Some(32);
    u.cached_content_tokens = Some(64);
    u.custom = Some(obj(json!({"toolUsePromptTokens": 7, "ratio": 0.5})));
    u
}

fn docs() -> Vec<DocumentData> {
    vec![
        DocumentData {
            content: vec![Part::text("Paris is the capital of France.")],
            metadata: Some(obj(json!({"source": "wiki", "score": 0.93}))),
        },
        DocumentData {
            content: vec![
                Part::media("https://example.com/map.png", Some("image/png".into())),
                Part::text("caption"),
            ],
            metadata: None,
        },
    ]
}

fn full_request() -> GenerateRequest {
    let mut with_meta = Message::user("and this one?");
    with_meta.metadata = Some(obj(json!({"preamble": true})));
    GenerateRequest {
        messages: vec![
            Message::system("You are terse."),
            Message::user("What is the weather in Paris?"),
            Message::new(
                Role::Model,
                vec![
                    Part::reasoning("I should call the tool."),
                    Part::tool_request("get_weather", Some("0".into()), json!({"city": "Paris"})),
                ],
            ),
            Message::new(
                Role::Tool,
                vec![Part::tool_response(
                    "get_weather",
                    Some("0".into()),
                    json!({"tempC": 21}),
                )],
            ),
            Message::model("It is 21°C."),
            with_meta,
        ]
        .into_iter()
        .map(Arc::new)
        .collect(),
        config: Some(json!({
            "temperature": 0.2,
            "maxOutputTokens": 256,
            "topK": 40,
            "stopSequences": ["END"],
            "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]
        })),
        tools: Some(tool_definitions().into_iter().map(Arc::new).collect()),
        tool_choice: Some(ToolChoice::Auto),
        output: Some(OutputConfig {
            format: Some("json".into()),
            schema: Some(json!({"type": "object", "properties": {"tempC": {"type": "number"}}})),
            constrained: Some(true),
            content_type: Some("application/json".into()),
        }),
        docs: Some(docs()),
        candidates: Some(1),
    }
}

// ---------------------------------------------------------------------------------------
// 1. The schema is what we expect, and the validator is not vacuous
// ---------------------------------------------------------------------------------------

#[test]
fn schema_has_the_83_genkit_definitions() {
    let defs = genkit_schema()["$defs"].as_object().unwrap();
    assert_eq!(defs.len(), 83);
    for def in [
        "Part",
        "Message",
        "Role",
        "ToolDefinition",
        "OutputConfig",
        "GenerateRequest",
        "GenerateResponse",
        "GenerateResponseChunk",
        "FinishReason",
        "GenerationUsage",
        "GenerateActionOptions",
        "DocumentData",
    ] {
        assert!(defs.contains_key(def), "missing $defs/{def}");
    }
}

#[test]
fn validator_rejects_invalid_documents() {
    assert_invalid("Part", &json!({"text": 1}));
    assert_invalid("Part", &json!({"text": "a", "media": {"url": "u"}}));
    assert_invalid("Part", &json!({"bogus": true}));
    assert_invalid("Message", &json!({"role": "assistant", "content": []}));
    assert_invalid("Message", &json!({"role": "user"}));
    assert_invalid("ToolDefinition", &json!({"name": "x"}));
    assert_invalid("GenerateResponse", &json!({"finishReason": "done"}));
    assert_invalid("GenerationUsage", &json!({"inputTokens": "3"}));
    assert_invalid("GenerateResponseChunk", &json!({"index": 0}));
    assert_invalid("GenerateActionOptions", &json!({"model": "m"}));
    assert_invalid("Role", &json!("assistant"));
    assert_invalid("FinishReason", &json!("max_tokens"));
}

// ---------------------------------------------------------------------------------------
// 2. Rust-built values validate against Genkit's schema
// ---------------------------------------------------------------------------------------

#[test]
fn every_part_variant_validates() {
    let parts = every_part();
    for (variant, part) in &parts {
        let json = check("Part", part);
        // Also against the specific variant, so a part is not valid only by accident
        // (DataPart accepts `{}`).
        assert_valid(variant, &json);
    }
    // Every variant of the schema's `Part` union is covered.
    let union: Vec<String> = genkit_schema()["$defs"]["Part"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/$defs/")
                .to_string()
        })
        .collect();
    for v in &union {
        assert!(
            parts.iter().any(|(name, _)| name == v),
            "no test part for {v}"
        );
    }
    assert_eq!(union.len(), 8);
}

#[test]
fn part_json_uses_genkit_field_names() {
    let p = Part::tool_request("f", Some("r".into()), json!({"a": 1})).with_metadata("m", json!(1));
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"toolRequest": {"name": "f", "ref": "r", "input": {"a": 1}}, "metadata": {"m": 1}})
    );
    let p = Part::tool_response("f", Some("r".into()), json!(null));
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"toolResponse": {"name": "f", "ref": "r", "output": null}})
    );
    let p = Part::media("u", Some("image/jpeg".into()));
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"media": {"url": "u", "contentType": "image/jpeg"}})
    );
    assert_eq!(
        serde_json::to_value(Part::data(json!(null))).unwrap(),
        json!({"data": null})
    );
    assert_eq!(
        serde_json::to_value(Part::reasoning("r")).unwrap(),
        json!({"reasoning": "r"})
    );
    assert_eq!(
        serde_json::to_value(Part::text("t")).unwrap(),
        json!({"text": "t"})
    );
}

#[test]
fn messages_of_every_role_validate() {
    let mut with_meta = Message::model("done");
    with_meta.metadata = Some(obj(json!({"generatedBy": "test", "nested": {"a": [1]}})));
    let messages = vec![
        Message::system("Be brief."),
        Message::user("Hi"),
        Message::model("Hello!"),
        Message::new(
            Role::Tool,
            vec![Part::tool_response(
                "t",
                Some("1".into()),
                json!({"ok": true}),
            )],
        ),
        Message::new(Role::User, vec![]),
        Message::new(
            Role::User,
            every_part().into_iter().map(|(_, p)| p).collect(),
        ),
        with_meta,
    ];
    for m in &messages {
        check("Message", m);
    }
    let roles: Vec<Value> = [Role::System, Role::User, Role::Model, Role::Tool]
        .iter()
        .map(|r| check("Role", r))
        .collect();
    assert_eq!(
        roles,
        vec![
            json!("system"),
            json!("user"),
            json!("model"),
            json!("tool")
        ]
    );
}

#[test]
fn enums_match_the_schema_exactly() {
    // Every enum value in Genkit's schema deserializes and serializes back unchanged.
    for name in enum_values("Role") {
        let r: Role = genkit::from_value(json!(name)).unwrap();
        assert_eq!(serde_json::to_value(r).unwrap(), json!(name));
    }
    for name in enum_values("FinishReason") {
        let r: FinishReason = genkit::from_value(json!(name)).unwrap();
        assert_eq!(serde_json::to_value(r).unwrap(), json!(name));
    }
    let tool_choices =
        genkit_schema()["$defs"]["GenerateRequest"]["properties"]["toolChoice"]["enum"]
            .as_array()
            .unwrap()
            .clone();
    for v in &tool_choices {
        let c: ToolChoice = genkit::from_value(v.clone()).unwrap();
        assert_eq!(&serde_json::to_value(c).unwrap(), v);
    }
    // And every Rust variant is in the schema.
    let finish = [
        FinishReason::Stop,
        FinishReason::Length,
        FinishReason::Blocked,
        FinishReason::Interrupted,
        FinishReason::Other,
        FinishReason::Unknown,
    ];
    assert_eq!(finish.len(), enum_values("FinishReason").len());
    for f in finish {
        check("FinishReason", &f);
    }
    assert_eq!(tool_choices.len(), 3);
    for c in [ToolChoice::Auto, ToolChoice::Required, ToolChoice::None] {
        assert!(tool_choices.contains(&serde_json::to_value(c).unwrap()));
    }
}

#[test]
fn tool_definitions_validate() {
    for t in tool_definitions() {
        let json = check("ToolDefinition", &t);
        // `description` is required by Genkit, even when empty.
        assert!(json.get("description").is_some());
    }
    let json = serde_json::to_value(&tool_definitions()[0]).unwrap();
    assert!(json.get("inputSchema").is_some() && json.get("outputSchema").is_some());
    // Genkit allows a null schema.
    let t: ToolDefinition = genkit::from_value(
        json!({"name": "n", "description": "", "inputSchema": null, "outputSchema": null}),
    )
    .unwrap();
    assert_valid("ToolDefinition", &serde_json::to_value(&t).unwrap());
}

#[test]
fn output_config_and_documents_validate() {
    check("OutputConfig", &OutputConfig::default());
    check(
        "OutputConfig",
        &OutputConfig {
            format: Some("array".into()),
            schema: Some(json!({"type": "array", "items": {"type": "string"}})),
            constrained: Some(false),
            content_type: Some("application/jsonl".into()),
        },
    );
    for d in docs() {
        check("DocumentData", &d);
    }
}

#[test]
fn generate_requests_validate() {
    let full = full_request();
    let json = check("GenerateRequest", &full);
    assert_eq!(json["toolChoice"], json!("auto"));
    assert_eq!(json["output"]["contentType"], json!("application/json"));
    assert_valid("ModelRequest", &{
        let mut j = json.clone();
        j.as_object_mut().unwrap().remove("candidates");
        j
    });

    for choice in [ToolChoice::Auto, ToolChoice::Required, ToolChoice::None] {
        let mut r = full_request();
        r.tool_choice = Some(choice);
        check("GenerateRequest", &r);
    }
    // Minimal request, empty tools and empty output as JS writes them.
    check(
        "GenerateRequest",
        &GenerateRequest {
            messages: vec![Message::user("hi").into()],
            ..Default::default()
        },
    );
    check(
        "GenerateRequest",
        &GenerateRequest {
            messages: vec![Message::user("hi").into()],
            tools: Some(vec![]),
            output: Some(OutputConfig::default()),
            config: Some(json!({})),
            ..Default::default()
        },
    );
}

#[test]
fn usage_validates_with_every_counter() {
    let json = check("GenerationUsage", &full_usage());
    for key in [
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "inputCharacters",
        "outputCharacters",
        "inputImages",
        "outputImages",
        "inputVideos",
        "outputVideos",
        "inputAudioFiles",
        "outputAudioFiles",
        "thoughtsTokens",
        "cachedContentTokens",
        "custom",
    ] {
        assert!(json.get(key).is_some(), "usage JSON lacks {key}");
    }
    let schema_keys: Vec<&String> = genkit_schema()["$defs"]["GenerationUsage"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(schema_keys.len(), json.as_object().unwrap().len());
    check("GenerationUsage", &GenerationUsage::default());
}

#[test]
fn responses_validate_with_every_finish_reason() {
    for reason in [
        FinishReason::Stop,
        FinishReason::Length,
        FinishReason::Blocked,
        FinishReason::Interrupted,
        FinishReason::Other,
        FinishReason::Unknown,
    ] {
        let r = GenerateResponse {
            message: Some(Message::new(
                Role::Model,
                vec![
                    Part::reasoning("thinking"),
                    Part::text("Paris."),
                    Part::data(json!({"city": "Paris"})),
                ],
            )),
            finish_reason: Some(reason),
            finish_message: Some(format!("finished: {reason:?}")),
            latency_ms: Some(812.25),
            usage: Some(full_usage()),
            custom: Some(json!({"candidates": [{"safetyRatings": []}], "modelVersion": "x"})),
            raw: Some(json!({"responseId": "abc"})),
            request: Some(Arc::new(full_request())),
            operation: None,
            candidates: None,
        };
        let json = check("GenerateResponse", &r);
        assert_valid("ModelResponse", &json);
        assert_eq!(json["request"]["messages"][0]["role"], json!("system"));
    }
    // Empty response, and a background-model operation.
    check("GenerateResponse", &GenerateResponse::default());
    let op = GenerateResponse {
        operation: Some(json!({"action": "/background-model/veo", "id": "op-1", "done": false})),
        finish_reason: Some(FinishReason::Unknown),
        ..Default::default()
    };
    check("GenerateResponse", &op);
    check("GenerateResponse", &GenerateResponse::from_text("hello"));
}

#[test]
fn chunks_validate() {
    let mut chunk = GenerateResponseChunk::from_text("Hel");
    chunk.role = Some(Role::Model);
    chunk.index = Some(0);
    check("GenerateResponseChunk", &chunk);

    let mut tool_chunk = GenerateResponseChunk::new(vec![Part::tool_request(
        "web_search",
        Some("0".into()),
        json!({"query": "rust"}),
    )]);
    tool_chunk.role = Some(Role::Model);
    tool_chunk.index = Some(2);
    tool_chunk.custom = Some(json!({"usageMetadata": {"promptTokenCount": 3}}));
    tool_chunk.aggregated = Some(false);
    let json = check("GenerateResponseChunk", &tool_chunk);
    assert_valid("ModelResponseChunk", &json);

    let mut tool_msg = GenerateResponseChunk::new(vec![Part::tool_response(
        "web_search",
        Some("0".into()),
        json!("Results for: rust"),
    )]);
    tool_msg.role = Some(Role::Tool);
    tool_msg.index = Some(1);
    check("GenerateResponseChunk", &tool_msg);
    check("GenerateResponseChunk", &GenerateResponseChunk::new(vec![]));
}

#[test]
fn generate_action_options_validate() {
    let mut o = GenerateActionOptions::default();
    o.model = Some("googleai/gemini-2.5-flash".into());
    o.docs = Some(docs());
    o.messages = vec![
        Message::system("sys"),
        Message::user("Research: rust"),
        Message::new(
            Role::Model,
            vec![
                Part::tool_request("ask", Some("i1".into()), json!({"q": "?"}))
                    .with_metadata("interrupt", json!(true)),
            ],
        ),
    ];
    o.tools = Some(vec!["web_search".into(), "myplugin/lookup".into()]);
    o.resources = Some(vec!["file://docs".into()]);
    o.tool_choice = Some(ToolChoice::Required);
    o.config = Some(json!({"temperature": 0.7, "thinkingConfig": {"thinkingBudget": 0}}));
    o.output = Some(GenerateActionOutputConfig {
        format: Some("json".into()),
        content_type: Some("application/json".into()),
        instructions: Some(json!(true)),
        json_schema: Some(json!({
            "type": "object",
            "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["title"]
        })),
        constrained: Some(true),
    });
    o.resume = Some(Resume {
        respond: Some(vec![
            Part::tool_response("ask", Some("i1".into()), json!("yes"))
                .with_metadata("interruptResponse", json!(true)),
        ]),
        restart: Some(vec![
            Part::tool_request("web_search", Some("w1".into()), json!({"query": "q"}))
                .with_metadata("resumed", json!({"approved": true})),
        ]),
        metadata: Some(obj(json!({"by": "user"}))),
    });
    o.return_tool_requests = Some(false);
    o.max_turns = Some(5);
    o.step_name = Some("research".into());
    o.r#use = Some(vec![
        MiddlewareRef {
            name: "retry".into(),
            config: Some(json!({"maxRetries": 3})),
        },
        MiddlewareRef {
            name: "logging".into(),
            config: None,
        },
    ]);
    let json = check("GenerateActionOptions", &o);
    assert_eq!(json["use"][0]["name"], json!("retry"));
    assert_eq!(json["output"]["jsonSchema"]["required"], json!(["title"]));
    assert_eq!(json["returnToolRequests"], json!(false));
    assert_eq!(json["maxTurns"], json!(5));
    assert_eq!(json["stepName"], json!("research"));

    // Instructions may also be the text itself.
    o.output.as_mut().unwrap().instructions = Some(json!("Reply in JSON."));
    check("GenerateActionOptions", &o);

    let mut minimal = GenerateActionOptions::default();
    minimal.messages = vec![Message::user("hi")];
    assert_eq!(
        check("GenerateActionOptions", &minimal),
        json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
    );
}

// ---------------------------------------------------------------------------------------
// 3. Documents shaped like Genkit's round-trip unchanged
// ---------------------------------------------------------------------------------------

/// The output of `/util/generate` as Genkit JS writes it (GenerateResponse.toJSON()):
/// message, finishReason, usage, custom always present, request of the last turn.
fn js_util_generate_response() -> Value {
    json!({
        "message": {
            "role": "model",
            "content": [
                {"reasoning": "The user wants a summary.", "metadata": {"thoughtSignature": "CiQB0e2Kb"}},
                {"text": "Rust is a systems programming language."}
            ]
        },
        "finishReason": "stop",
        "usage": {
            "inputTokens": 57,
            "outputTokens": 9,
            "totalTokens": 98,
            "inputCharacters": 210,
            "outputCharacters": 40,
            "inputImages": 0,
            "outputImages": 0,
            "thoughtsTokens": 32,
            "cachedContentTokens": 0,
            "custom": {"promptTokensDetailsText": 57}
        },
        "custom": {
            "candidates": [{
                "content": {"parts": [{"text": "Rust is a systems programming language."}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
                "safetyRatings": null
            }],
            "usageMetadata": {"promptTokenCount": 57, "candidatesTokenCount": 9, "totalTokenCount": 98},
            "modelVersion": "gemini-2.5-flash"
        },
        "request": {
            "messages": [
                {"role": "system", "content": [{"text": "You are a research assistant."}]},
                {"role": "user", "content": [{"text": "Research: rust"}]},
                {
                    "role": "model",
                    "content": [{"toolRequest": {"name": "web_search", "ref": "0", "input": {"query": "rust"}}}]
                },
                {
                    "role": "tool",
                    "content": [{"toolResponse": {"name": "web_search", "ref": "0", "output": "Results for: rust"}}]
                }
            ],
            "config": {"temperature": 0.3},
            "tools": [{
                "name": "web_search",
                "description": "Search the web for a query.",
                "outputSchema": {"type": "string", "$schema": "http://json-schema.org/draft-07/schema#"},
                "inputSchema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                    "additionalProperties": true,
                    "$schema": "http://json-schema.org/draft-07/schema#"
                }
            }],
            "output": {},
            "docs": []
        }
    })
}

#[test]
fn js_generate_response_round_trips() {
    let r: GenerateResponse = round_trip("GenerateResponse", js_util_generate_response());
    assert_eq!(r.text(), "Rust is a systems programming language.");
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.usage().thoughts_tokens, Some(32));
    assert_eq!(r.messages().len(), 5);
}

#[test]
fn js_model_response_and_request_round_trip() {
    // What a model action returns (ModelResponse), with latency and usage.
    round_trip::<GenerateResponse>(
        "ModelResponse",
        json!({
            "message": {
                "role": "model",
                "content": [
                    {"toolRequest": {"name": "get_weather", "ref": "call_0", "input": {"city": "Paris"}}},
                    {"toolRequest": {"name": "get_time", "ref": "call_1", "input": {}}}
                ]
            },
            "finishReason": "stop",
            "finishMessage": "",
            "latencyMs": 812.5634,
            "usage": {"inputTokens": 12, "outputTokens": 20, "totalTokens": 32},
            "custom": {}
        }),
    );
    // A ModelRequest as JS builds it for the model (toToolDefinition, output, docs).
    round_trip::<GenerateRequest>(
        "ModelRequest",
        json!({
            "messages": [
                {"role": "user", "content": [
                    {"text": "Describe this image"},
                    {"media": {"url": "data:image/png;base64,iVBORw0KGgo=", "contentType": "image/png"}}
                ]}
            ],
            "config": {"temperature": 0, "version": "gemini-2.5-flash-001", "apiKey": "k", "responseModalities": ["TEXT"]},
            "tools": [{
                "name": "lookup",
                "description": "",
                "outputSchema": {"$schema": "http://json-schema.org/draft-07/schema#"},
                "inputSchema": {"$schema": "http://json-schema.org/draft-07/schema#"},
                "metadata": {"originalName": "myplugin/lookup"}
            }],
            "toolChoice": "required",
            "output": {"format": "json", "schema": {"type": "object"}, "constrained": true, "contentType": "application/json"},
            "docs": [{"content": [{"text": "doc"}], "metadata": {"id": 1}}]
        }),
    );
}

#[test]
fn js_interrupted_response_round_trips() {
    let r: GenerateResponse = round_trip(
        "GenerateResponse",
        json!({
            "message": {
                "role": "model",
                "content": [
                    {"text": "I need to ask first."},
                    {
                        "toolRequest": {"name": "confirm", "ref": "1", "input": {"action": "delete"}},
                        "metadata": {"interrupt": {"reason": "needs approval"}}
                    },
                    {
                        "toolRequest": {"name": "search", "ref": "2", "input": {"q": "x"}},
                        "metadata": {"pendingOutput": "cached"}
                    }
                ]
            },
            "finishReason": "interrupted",
            "finishMessage": "One or more tool calls resulted in interrupts.",
            "usage": {},
            "custom": {}
        }),
    );
    assert_eq!(r.interrupts().len(), 1);
}

#[test]
fn js_stream_chunks_round_trip() {
    for chunk in [
        json!({"role": "model", "index": 0, "content": [{"text": "Hel"}]}),
        json!({"role": "model", "index": 0, "content": [{"reasoning": "hmm"}], "custom": {"raw": [1]}}),
        json!({"index": 0, "role": "model", "content": [{"toolRequest": {"name": "f", "ref": "0", "input": {}}}]}),
        json!({"role": "tool", "index": 1, "content": [{"toolResponse": {"name": "f", "ref": "0", "output": 3}}]}),
        json!({"content": [{"text": "x"}], "aggregated": true}),
        json!({"content": [{"toolRequest": {"name": "f", "input": {"par": "tial"}, "partial": true}}]}),
        json!({"content": [], "custom": null}),
    ] {
        round_trip::<GenerateResponseChunk>("GenerateResponseChunk", chunk);
    }
}

#[test]
fn dev_ui_generate_action_options_round_trip() {
    round_trip::<GenerateActionOptions>(
        "GenerateActionOptions",
        json!({
            "model": "googleai/gemini-2.5-flash",
            "messages": [
                {"role": "user", "content": [{"text": "Tell me a joke"}], "metadata": {"source": "devui"}}
            ],
            "config": {"temperature": 1, "topP": 0.95, "stopSequences": []},
            "tools": ["/tool/web_search"],
            "toolChoice": "none",
            "output": {"format": "json", "jsonSchema": {"type": "object", "properties": {"joke": {"type": "string"}}}, "instructions": false},
            "returnToolRequests": true,
            "maxTurns": 3,
            "use": [{"name": "retry", "config": {"maxRetries": 2, "statuses": ["UNAVAILABLE"]}}, {"name": "noop"}]
        }),
    );
    round_trip::<GenerateActionOptions>(
        "GenerateActionOptions",
        json!({
            "messages": [
                {"role": "user", "content": [{"text": "delete it"}]},
                {"role": "model", "content": [
                    {"toolRequest": {"name": "confirm", "ref": "1", "input": {}}, "metadata": {"interrupt": true}}
                ]}
            ],
            "resume": {
                "respond": [{"toolResponse": {"name": "confirm", "ref": "1", "output": {"approved": true}}, "metadata": {"interruptResponse": true}}],
                "restart": [{"toolRequest": {"name": "confirm", "ref": "1", "input": {}}, "metadata": {"resumed": true}}],
                "metadata": {"note": "approved by admin"}
            },
            "stepName": "resume-step",
            "docs": [{"content": [{"media": {"url": "https://x/doc.pdf", "contentType": "application/pdf"}}]}],
            "resources": ["my://resource"]
        }),
    );
}

#[test]
fn every_part_shape_round_trips() {
    for part in [
        json!({"text": "a"}),
        json!({"text": "a", "metadata": {"k": [1, {"x": null}]}, "custom": {"c": 1}}),
        json!({"media": {"url": "https://a/b.jpg"}}),
        json!({"media": {"url": "https://a/b.jpg", "contentType": "image/jpeg"}, "metadata": {"m": 1}}),
        json!({"toolRequest": {"name": "t"}}),
        json!({"toolRequest": {"name": "t", "ref": "r", "input": null}}),
        json!({"toolRequest": {"name": "t", "ref": "r", "input": [1, 2], "partial": false}}),
        json!({"toolResponse": {"name": "t"}}),
        json!({"toolResponse": {"name": "t", "ref": "r", "output": null}}),
        json!({"toolResponse": {"name": "t", "output": {"a": 1}, "content": [{"text": "x"}, {"media": {"url": "u"}}]}}),
        json!({"data": null}),
        json!({"data": {"a": [1, 2, {"b": false}]}}),
        json!({"data": 0}),
        json!({"data": ""}),
        json!({"data": [], "metadata": {}}),
        json!({"custom": {}}),
        json!({"custom": {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}}, "data": {"d": 1}}),
        json!({"reasoning": ""}),
        json!({"reasoning": "why", "metadata": {"thoughtSignature": "sig"}}),
        json!({"resource": {"uri": "file:///a.txt"}}),
        json!({"resource": {"uri": "my://r"}, "metadata": {"resource": {"template": "my://{id}"}}}),
        json!({}),
    ] {
        round_trip::<Part>("Part", part);
    }
}

#[test]
fn tool_definition_and_usage_documents_round_trip() {
    round_trip::<ToolDefinition>(
        "ToolDefinition",
        json!({"name": "t", "description": "d", "inputSchema": {"type": "object"}, "outputSchema": {}, "metadata": {"x": {"y": 1}}}),
    );
    round_trip::<ToolDefinition>("ToolDefinition", json!({"name": "t", "description": ""}));
    round_trip::<GenerationUsage>(
        "GenerationUsage",
        json!({
            "inputTokens": 1, "outputTokens": 2, "totalTokens": 3,
            "inputCharacters": 4, "outputCharacters": 5,
            "inputImages": 6, "outputImages": 7, "inputVideos": 8, "outputVideos": 9,
            "inputAudioFiles": 10, "outputAudioFiles": 11,
            "thoughtsTokens": 12, "cachedContentTokens": 13,
            "custom": {"a": 1, "b": 2.5}
        }),
    );
    round_trip::<DocumentData>(
        "DocumentData",
        json!({"content": [{"text": "t", "metadata": {"page": 1}}, {"media": {"url": "u", "contentType": "text/plain"}}], "metadata": {"k": "v"}}),
    );
    round_trip::<OutputConfig>("OutputConfig", json!({"format": "text"}));
    round_trip::<OutputConfig>("OutputConfig", json!({}));
}

// ---------------------------------------------------------------------------------------
// Unknown content survives where Genkit allows it
// ---------------------------------------------------------------------------------------

#[test]
fn arbitrary_json_survives_where_genkit_allows_it() {
    let any = nested_any();
    let any_obj = obj(any.clone());

    // Part: data (any), custom (map), metadata (map), tool input/output (any).
    let mut p = Part::data(any.clone()).with_metadata("deep", any.clone());
    p.custom = Some(Box::new(any_obj.clone()));
    let back = round_trip::<Part>("Part", serde_json::to_value(&p).unwrap());
    assert_eq!(back, p);
    for p in [
        Part::tool_request("t", Some("r".into()), any.clone()),
        Part::tool_response("t", Some("r".into()), any.clone()),
        Part::text("x").with_metadata("m", any.clone()),
    ] {
        assert_eq!(
            round_trip::<Part>("Part", serde_json::to_value(&p).unwrap()),
            p
        );
    }
    for value in any_obj.values() {
        round_trip::<Part>("DataPart", json!({ "data": value }));
        round_trip::<Part>(
            "ToolRequestPart",
            json!({"toolRequest": {"name": "t", "input": value}}),
        );
        round_trip::<Part>(
            "ToolResponsePart",
            json!({"toolResponse": {"name": "t", "output": value}}),
        );
    }

    // Message metadata, request config (any JSON, not only objects), response custom/raw,
    // chunk custom, usage custom, document metadata, tool metadata and schemas.
    round_trip::<Message>(
        "Message",
        json!({"role": "user", "content": [{"text": "x"}], "metadata": any.clone()}),
    );
    for config in [
        any.clone(),
        json!(null),
        json!([1, "a"]),
        json!("str"),
        json!(7),
    ] {
        round_trip::<GenerateRequest>(
            "GenerateRequest",
            json!({"messages": [], "config": config.clone()}),
        );
        round_trip::<GenerateActionOptions>(
            "GenerateActionOptions",
            json!({"messages": [], "config": config}),
        );
    }
    for custom in [any.clone(), json!(null), json!([any.clone()]), json!(false)] {
        round_trip::<GenerateResponse>(
            "GenerateResponse",
            json!({"custom": custom.clone(), "raw": custom.clone()}),
        );
        round_trip::<GenerateResponseChunk>(
            "GenerateResponseChunk",
            json!({"content": [], "custom": custom}),
        );
    }
    round_trip::<GenerationUsage>(
        "GenerationUsage",
        json!({"custom": {"a": 1, "b": -2, "c": 0.125, "d": 1e300, "e": 18446744073709551615u64}}),
    );
    round_trip::<DocumentData>(
        "DocumentData",
        json!({"content": [], "metadata": any.clone()}),
    );
    round_trip::<ToolDefinition>(
        "ToolDefinition",
        json!({"name": "t", "description": "", "inputSchema": any.clone(), "outputSchema": any.clone(), "metadata": any.clone()}),
    );
    round_trip::<GenerateActionOptions>(
        "GenerateActionOptions",
        json!({
            "messages": [],
            "output": {"jsonSchema": any.clone()},
            "resume": {"metadata": any.clone()},
            "use": [{"name": "m", "config": any.clone()}]
        }),
    );
    round_trip::<GenerateResponse>(
        "GenerateResponse",
        json!({"operation": {"id": "op", "output": any.clone(), "metadata": any.clone(), "error": {"message": "m", "extra": any}}}),
    );
}

// ---------------------------------------------------------------------------------------
// 4. Malformed documents are rejected, naming the field
// ---------------------------------------------------------------------------------------

#[track_caller]
fn rejects<T: DeserializeOwned + Debug>(doc: Value, path: &str, mentions: &str) -> Error {
    let err = genkit::from_value::<T>(doc.clone())
        .expect_err(&format!("{} accepted {doc}", std::any::type_name::<T>()));
    assert_eq!(err.status(), Status::InvalidArgument, "{err}");
    let msg = err.message();
    if path.is_empty() {
        // A top-level error carries no path prefix.
        assert!(
            msg.starts_with(mentions),
            "error for {doc} should start with `{mentions}`, got `{msg}`"
        );
    } else {
        assert!(
            msg.starts_with(&format!("{path}: ")),
            "error for {doc} should start with `{path}: `, got `{msg}`"
        );
    }
    assert!(
        msg.contains(mentions),
        "error `{msg}` should mention `{mentions}`"
    );
    assert_eq!(err.to_string(), format!("INVALID_ARGUMENT: {msg}"));
    err
}

#[test]
fn malformed_documents_are_rejected_with_the_field_path() {
    // Bad role.
    rejects::<GenerateRequest>(
        json!({"messages": [{"role": "assistant", "content": []}]}),
        "messages[0].role",
        "assistant",
    );
    rejects::<Message>(
        json!({"role": "bot", "content": []}),
        "role",
        "unknown variant",
    );
    // Text that is not a string.
    rejects::<Message>(
        json!({"role": "user", "content": [{"text": "ok"}, {"text": 42}]}),
        "content[1].text",
        "expected a string",
    );
    rejects::<GenerateResponse>(
        json!({"message": {"role": "model", "content": [{"text": ["a"]}]}}),
        "message.content[0].text",
        "string",
    );
    // Missing `content`.
    rejects::<GenerateRequest>(
        json!({"messages": [{"role": "user", "content": []}, {"role": "user"}]}),
        "messages[1]",
        "missing field `content`",
    );
    // Missing toolRequest.name.
    rejects::<Message>(
        json!({"role": "model", "content": [{"toolRequest": {"ref": "1", "input": {}}}]}),
        "content[0].toolRequest",
        "missing field `name`",
    );
    rejects::<GenerateActionOptions>(
        json!({"messages": [], "resume": {"restart": [{"toolRequest": {"input": {}}}]}}),
        "resume.restart[0].toolRequest",
        "missing field `name`",
    );
    // Unknown finishReason.
    rejects::<GenerateResponse>(
        json!({"finishReason": "max_tokens"}),
        "finishReason",
        "unknown variant `max_tokens`",
    );
    // Usage with a string.
    rejects::<GenerateResponse>(
        json!({"usage": {"inputTokens": 1, "outputTokens": "12"}}),
        "usage.outputTokens",
        "12",
    );
    rejects::<GenerationUsage>(json!({"totalTokens": "many"}), "totalTokens", "many");
    // Unknown fields where Genkit's schema forbids them.
    rejects::<Message>(
        json!({"role": "user", "content": [], "extra": 1}),
        "extra",
        "unknown field `extra`",
    );
    rejects::<Message>(
        json!({"role": "user", "content": [{"text": "a", "txt": "b"}]}),
        "content[0].txt",
        "unknown field `txt`",
    );
    rejects::<GenerateRequest>(
        json!({"messages": [], "tools": [{"name": "t", "description": "", "inputschema": {}}]}),
        "tools[0].inputschema",
        "unknown field `inputschema`",
    );
    rejects::<GenerateResponseChunk>(
        json!({"index": 0, "content": [{}], "role": "system", "delta": "x"}),
        "delta",
        "unknown field",
    );
    // Wrong types elsewhere.
    rejects::<GenerateResponseChunk>(json!({"index": "0", "content": []}), "index", "\"0\"");
    rejects::<ToolDefinition>(json!({"name": "t"}), "", "missing field `description`");
    rejects::<Part>(
        json!({"media": {"contentType": "image/png"}}),
        "media",
        "missing field `url`",
    );
    rejects::<GenerateRequest>(
        json!({"messages": [], "toolChoice": "any"}),
        "toolChoice",
        "any",
    );
    rejects::<GenerateActionOptions>(json!({"messages": [], "maxTurns": -1}), "maxTurns", "-1");
}

#[test]
fn every_malformed_document_is_also_invalid_for_genkit() {
    // The documents Rust rejects are exactly ones Genkit's schema rejects too.
    for (def, doc) in [
        (
            "GenerateRequest",
            json!({"messages": [{"role": "assistant", "content": []}]}),
        ),
        (
            "Message",
            json!({"role": "user", "content": [{"text": 42}]}),
        ),
        ("GenerateRequest", json!({"messages": [{"role": "user"}]})),
        (
            "Message",
            json!({"role": "model", "content": [{"toolRequest": {"ref": "1"}}]}),
        ),
        ("GenerateResponse", json!({"finishReason": "max_tokens"})),
        ("GenerateResponse", json!({"usage": {"outputTokens": "12"}})),
        (
            "Message",
            json!({"role": "user", "content": [], "extra": 1}),
        ),
    ] {
        assert_invalid(def, &doc);
    }
}

// ---------------------------------------------------------------------------------------
// 5. Error and Status
// ---------------------------------------------------------------------------------------

/// (status, google.rpc code, name, HTTP status) as in js/core/src/statusTypes.ts.
fn status_table() -> Vec<(Status, u16, &'static str, u16)> {
    vec![
        (Status::Ok, 0, "OK", 200),
        (Status::Cancelled, 1, "CANCELLED", 499),
        (Status::Unknown, 2, "UNKNOWN", 500),
        (Status::InvalidArgument, 3, "INVALID_ARGUMENT", 400),
        (Status::DeadlineExceeded, 4, "DEADLINE_EXCEEDED", 504),
        (Status::NotFound, 5, "NOT_FOUND", 404),
        (Status::AlreadyExists, 6, "ALREADY_EXISTS", 409),
        (Status::PermissionDenied, 7, "PERMISSION_DENIED", 403),
        (Status::ResourceExhausted, 8, "RESOURCE_EXHAUSTED", 429),
        (Status::FailedPrecondition, 9, "FAILED_PRECONDITION", 400),
        (Status::Aborted, 10, "ABORTED", 409),
        (Status::OutOfRange, 11, "OUT_OF_RANGE", 400),
        (Status::Unimplemented, 12, "UNIMPLEMENTED", 501),
        (Status::Internal, 13, "INTERNAL", 500),
        (Status::Unavailable, 14, "UNAVAILABLE", 503),
        (Status::DataLoss, 15, "DATA_LOSS", 500),
        (Status::Unauthenticated, 16, "UNAUTHENTICATED", 401),
    ]
}

#[test]
fn statuses_have_genkit_numbers_names_and_http_codes() {
    let table = status_table();
    assert_eq!(table.len(), Status::ALL.len());
    for (status, code, name, http) in table {
        assert_eq!(status.code(), code, "{name}");
        assert_eq!(status.name(), name);
        assert_eq!(status.to_string(), name);
        assert_eq!(status.http_status(), http, "{name}");
        assert_eq!(Status::from_code(code), Some(status));
        assert_eq!(Status::from_name(name), Some(status));
        assert_eq!(
            Status::from_name(status.name()).map(Status::code),
            Some(code)
        );
        assert_eq!(
            Status::from_code(status.code()).map(Status::name),
            Some(name)
        );
        // Serde uses the same names.
        assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
        assert_eq!(
            serde_json::from_value::<Status>(json!(name)).unwrap(),
            status
        );
        assert!(Status::ALL.contains(&status));
    }
    for (i, s) in Status::ALL.iter().enumerate() {
        assert_eq!(usize::from(s.code()), i, "ALL is in numeric order");
    }
    assert_eq!(Status::from_code(17), None);
    assert_eq!(Status::from_code(u16::MAX), None);
    assert_eq!(Status::from_name("not_found"), None);
    assert_eq!(Status::from_name("INVALID ARGUMENT"), None);
    assert_eq!(Status::from_name(""), None);
}

#[test]
fn errors_display_and_callable_json() {
    let e = Error::not_found("action /flow/x not found");
    assert_eq!(e.to_string(), "NOT_FOUND: action /flow/x not found");
    assert_eq!(e.status(), Status::NotFound);
    assert_eq!(e.message(), "action /flow/x not found");
    assert_eq!(e.details(), None);
    let json = e.to_callable_json();
    assert_eq!(
        json,
        json!({"status": "NOT_FOUND", "message": "action /flow/x not found"})
    );
    assert_eq!(
        json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["status", "message"]
    );

    let details = json!({"field": "query", "reasons": ["too short", {"min": 3}]});
    let e = Error::new(Status::PermissionDenied, "no").with_details(details.clone());
    assert_eq!(e.to_string(), "PERMISSION_DENIED: no");
    assert_eq!(e.details(), Some(&details));
    assert_eq!(
        e.to_callable_json(),
        json!({"status": "PERMISSION_DENIED", "message": "no", "details": details})
    );
    assert_eq!(e.status().http_status(), 403);

    for (status, _, name, _) in status_table() {
        let e = Error::new(status, "m");
        assert_eq!(e.to_string(), format!("{name}: m"));
        let j = e.to_callable_json();
        assert_eq!(j["status"], json!(name));
        assert_eq!(j["message"], json!("m"));
        assert!(j.get("details").is_none());
        assert_eq!(
            Status::from_name(j["status"].as_str().unwrap()),
            Some(status)
        );
    }

    // Constructors carry the right status.
    assert_eq!(
        Error::invalid_argument("x").status(),
        Status::InvalidArgument
    );
    assert_eq!(
        Error::failed_precondition("x").status(),
        Status::FailedPrecondition
    );
    assert_eq!(Error::internal("x").status(), Status::Internal);
    assert_eq!(Error::unavailable("x").status(), Status::Unavailable);
    // A plain message is INTERNAL, as a plain JS Error is.
    assert_eq!(Error::from("boom").to_string(), "INTERNAL: boom");
    assert_eq!(
        Error::from(String::from("boom")).to_callable_json(),
        json!({"status": "INTERNAL", "message": "boom"})
    );

    // Source is kept.
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "missing file");
    let e = Error::from(io);
    assert_eq!(e.status(), Status::NotFound);
    assert!(std::error::Error::source(&e).is_some());

    // Deserialization errors are INVALID_ARGUMENT and keep the serde error as source.
    let e = genkit::from_value::<Message>(json!({"role": 1})).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(std::error::Error::source(&e).is_some());
    assert_eq!(e.to_callable_json()["status"], json!("INVALID_ARGUMENT"));
    let e =
        genkit::from_str::<Message>(r#"{"role": "user", "content": [{"text": 1}]}"#).unwrap_err();
    assert!(e.message().starts_with("content[0].text: "), "{e}");
}

// ---------------------------------------------------------------------------------------
// Numbers as other Genkit runtimes write them
// ---------------------------------------------------------------------------------------

#[test]
fn integral_latency_round_trips_as_written() {
    // JS writes `performance.now()` differences; a whole number prints without a fraction.
    for latency in [json!(812), json!(0), json!(812.5), json!(1e-3)] {
        round_trip::<GenerateResponse>(
            "GenerateResponse",
            json!({"finishReason": "stop", "latencyMs": latency}),
        );
    }
}

#[test]
fn counts_written_as_floats_are_accepted() {
    // Genkit Python's generated types declare every count as `float`, so it writes
    // `12.0`; the schema types them as `number`.
    let doc = json!({
        "inputTokens": 12.0, "outputTokens": 3.0, "totalTokens": 15.0,
        "thoughtsTokens": 0.0, "cachedContentTokens": 4.0
    });
    assert_valid("GenerationUsage", &doc);
    let u: GenerationUsage = genkit::from_value(doc).unwrap();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.total_tokens),
        (Some(12), Some(3), Some(15))
    );
    assert_eq!(
        (u.thoughts_tokens, u.cached_content_tokens),
        (Some(0), Some(4))
    );

    let c: GenerateResponseChunk =
        genkit::from_value(json!({"index": 1.0, "role": "model", "content": []})).unwrap();
    assert_eq!(c.index, Some(1));
    let o: GenerateActionOptions =
        genkit::from_value(json!({"messages": [], "maxTurns": 5.0})).unwrap();
    assert_eq!(o.max_turns, Some(5));
    let r: GenerateRequest =
        genkit::from_value(json!({"messages": [], "candidates": 1.0})).unwrap();
    assert_eq!(r.candidates, Some(1));

    // A fraction, a negative or a string is still an error naming the field.
    rejects::<GenerationUsage>(json!({"inputTokens": 1.5}), "inputTokens", "1.5");
    rejects::<GenerationUsage>(json!({"outputTokens": -1}), "outputTokens", "-1");
    rejects::<GenerateResponseChunk>(json!({"index": 0.5, "content": []}), "index", "0.5");
}

#[test]
fn nulls_genkit_allows_are_accepted() {
    // `null` where the schema allows it (schemas of tools, any-typed fields).
    for (def, doc) in [
        (
            "ToolDefinition",
            json!({"name": "t", "description": "", "inputSchema": null, "outputSchema": null}),
        ),
        (
            "GenerateActionOptions",
            json!({"messages": [], "output": {"jsonSchema": null}, "use": [{"name": "m", "config": null}]}),
        ),
        ("GenerateResponse", json!({"custom": null, "raw": null})),
        ("Part", json!({"toolRequest": {"name": "t", "input": null}})),
    ] {
        assert_valid(def, &doc);
        let ok = match def {
            "ToolDefinition" => {
                genkit::from_value::<ToolDefinition>(doc).map(|v| serde_json::to_value(v).unwrap())
            }
            "GenerateActionOptions" => genkit::from_value::<GenerateActionOptions>(doc)
                .map(|v| serde_json::to_value(v).unwrap()),
            "GenerateResponse" => genkit::from_value::<GenerateResponse>(doc)
                .map(|v| serde_json::to_value(v).unwrap()),
            _ => genkit::from_value::<Part>(doc).map(|v| serde_json::to_value(v).unwrap()),
        }
        .unwrap_or_else(|e| panic!("{def}: {e}"));
        assert_valid(def, &ok);
    }
}
