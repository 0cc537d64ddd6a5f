//! The wire checked with OpenAI's official Python SDK (`openai` from PyPI, provisioned
//! on first use): the requests the plugin sends validate against the SDK's request
//! types, and the SDK as a client gets well-formed answers from the local server.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use genkit_core::{Error, Genkit, Message, Part, Role, ToolAction, ToolRef};
use genkit_openai::OpenAi;
use genkit_openai::server::{LocalOpenAi, ServerOptions};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const SDK: &str = "openai==3.57.0";
const KEY: &str = "sk-sdk-test-000111";

fn python(script: &str, arg: &str) -> Value {
    let py = genkit_testkit::python_env(&[SDK]);
    let out = Command::new(py)
        .args(["-c", script, arg])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[derive(Deserialize, JsonSchema)]
struct SearchInput {
    /// What to search for.
    query: String,
}

fn web_search() -> ToolRef {
    Arc::new(ToolAction::new(
        "web_search",
        "Search the web",
        |input: SearchInput, _ctx| async move {
            Ok::<_, Error>(json!({"hits": [format!("Results for: {}", input.query)]}))
        },
    ))
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code, reason = "only its schema is used")]
struct Person {
    name: String,
    age: u32,
    tags: Vec<String>,
}

/// Validates every request body with `TypeAdapter` over the SDK's param TypedDicts, and
/// refuses keys no TypedDict declares, at every level (pydantic ignores them).
const VALIDATE: &str = r#"
import collections.abc, json, sys, types, typing
import typing_extensions as te
from pydantic import TypeAdapter
from openai.types.chat import completion_create_params as ccp
from openai.types import embedding_create_params as ecp

def fits(v, t):
    try:
        TypeAdapter(t).validate_python(v)
        return True
    except Exception:
        return False

def extras(v, t, path):
    """Keys of `v` that no TypedDict of `t` declares (pydantic ignores them)."""
    o = typing.get_origin(t)
    if te.is_typeddict(t) and isinstance(v, dict):
        hints = typing.get_type_hints(t)
        bad = [f"{path}.{k}" for k in v if k not in hints]
        for k in v:
            if k in hints:
                bad += extras(v[k], hints[k], f"{path}.{k}")
        return bad
    if o in (typing.Union, types.UnionType):
        found = [extras(v, a, path) for a in typing.get_args(t) if fits(v, a)]
        return min(found, key=len) if found else []
    if o in (list, collections.abc.Iterable, collections.abc.Sequence) and isinstance(v, list):
        (item,) = typing.get_args(t)
        return [b for i, x in enumerate(v) for b in extras(x, item, f"{path}[{i}]")]
    if o is dict and isinstance(v, dict):
        return [b for k, x in v.items() for b in extras(x, typing.get_args(t)[1], f"{path}.{k}")]
    return []

bodies = json.load(open(sys.argv[1]))
out = []
for path, body in bodies:
    if path.endswith("/embeddings"):
        t = ecp.EmbeddingCreateParams
    else:
        t = ccp.CompletionCreateParamsStreaming if body.get("stream") else ccp.CompletionCreateParamsNonStreaming
    try:
        TypeAdapter(t).validate_python(body)
        unknown = extras(body, t, "$")
        out.append({"ok": not unknown, "unknown": unknown})
    except Exception as e:
        out.append({"ok": False, "error": str(e)[:2000]})
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugins_requests_validate_against_the_sdks_param_types() {
    let srv = LocalOpenAi::start_with(ServerOptions::default().api_key(KEY))
        .await
        .unwrap();
    let ai = Genkit::builder()
        .without_submitted_actions()
        .plugin(
            OpenAi::new(KEY)
                .with_base_url(srv.base_url())
                .with_timeout(Duration::from_secs(20)),
        )
        .model("openai/gpt-4o-mini")
        .build()
        .await
        .unwrap();
    // Text with a system message and config.
    ai.generate()
        .system("Be brief.")
        .prompt("hi")
        .config(json!({"temperature": 0.2, "maxOutputTokens": 50, "stopSequences": ["\n\n"], "topP": 0.9, "seed": 7, "topK": 4}))
        .await
        .unwrap();
    // Parallel tools over two turns, forced.
    ai.generate()
        .prompt("Compare: rust; go")
        .tools([web_search()])
        .tool_choice(genkit_core::ToolChoice::Required)
        .max_turns(2)
        .await
        .ok();
    // Streamed tools.
    let mut s = ai
        .generate()
        .prompt("Search: rust")
        .tools([web_search()])
        .stream();
    while s.next().await.is_some() {}
    s.response().await.unwrap();
    // Typed output.
    ai.generate()
        .prompt("Describe: Ada")
        .output::<Person>()
        .await
        .unwrap();
    // Images (data: URL and https), a reasoning model with its effort.
    ai.generate()
        .model("openai/o4-mini")
        .messages(vec![Message::new(
            Role::User,
            vec![
                Part::text("What is in these?"),
                Part::media(
                    "data:image/png;base64,iVBORw0KGgo=",
                    Some("image/png".into()),
                ),
                Part::media("https://example.com/cat.jpg", None),
            ],
        )])
        .config(json!({"reasoningEffort": "low"}))
        .await
        .unwrap();
    ai.embed("openai/text-embedding-3-small", ["a", "b"])
        .await
        .unwrap();

    let bodies: Vec<(String, Value)> = srv
        .requests()
        .into_iter()
        .map(|r| (r.path, r.body))
        .collect();
    assert!(bodies.len() >= 7, "{bodies:?}");
    let file = std::env::temp_dir().join(format!("genkit-openai-sdk-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&bodies).unwrap()).unwrap();
    let results = python(VALIDATE, file.to_str().unwrap());
    let _ = std::fs::remove_file(&file);
    for (i, r) in results.as_array().unwrap().iter().enumerate() {
        assert_eq!(
            r["ok"],
            json!(true),
            "request {i} {}: {r}\n{}",
            bodies[i].0,
            bodies[i].1
        );
    }
}

/// The SDK as a client of the local server, with strict response validation.
const CLIENT: &str = r#"
import json, sys
import openai
from pydantic import BaseModel
c = openai.OpenAI(base_url=sys.argv[1], api_key="sk-sdk-test-000111", _strict_response_validation=True, max_retries=0)
out = {}
r = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}])
out["text"] = r.choices[0].message.content
out["usage"] = r.usage.total_tokens
tools = [{"type": "function", "function": {"name": "web_search", "description": "Search",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}]
r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Compare: rust; go"}], tools=tools)
calls = r.choices[0].message.tool_calls
out["calls"] = [[t.id, t.function.name, json.loads(t.function.arguments)] for t in calls]
out["finish"] = r.choices[0].finish_reason
msgs = [{"role": "user", "content": "Compare: rust; go"}, r.choices[0].message.model_dump(exclude_none=True)]
msgs += [{"role": "tool", "tool_call_id": t.id, "content": "ok " + str(i)} for i, t in enumerate(calls)]
r = c.chat.completions.create(model="gpt-4o", messages=msgs, tools=tools)
out["after_tools"] = r.choices[0].message.content
stream = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Compare: rust; go"}], tools=tools,
                                   stream=True, stream_options={"include_usage": True})
args, text, usage, finish = {}, "", None, None
for ch in stream:
    if ch.usage: usage = ch.usage.total_tokens
    for choice in ch.choices:
        finish = choice.finish_reason or finish
        for tc in choice.delta.tool_calls or []:
            args.setdefault(tc.index, "")
            args[tc.index] += tc.function.arguments or ""
out["stream_args"] = [json.loads(args[i]) for i in sorted(args)]
out["stream_finish"] = finish
out["stream_usage"] = usage is not None and usage > 0
class Person(BaseModel):
    name: str
    age: int
p = c.chat.completions.parse(model="gpt-4o", messages=[{"role": "user", "content": "Describe: Ada"}], response_format=Person)
out["parsed"] = p.choices[0].message.parsed.model_dump()
e = c.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
out["emb"] = [len(d.embedding) for d in e.data]
try:
    c.chat.completions.create(model="gpt-4o", messages=[])
except openai.BadRequestError as err:
    out["bad"] = [err.status_code, err.body.get("code"), err.body.get("param")]
try:
    c.chat.completions.create(model="nope-1", messages=[{"role": "user", "content": "x"}])
except openai.NotFoundError as err:
    out["missing"] = [err.status_code, err.body.get("code")]
try:
    openai.OpenAI(base_url=sys.argv[1], api_key="sk-wrong", max_retries=0).models.list()
except openai.AuthenticationError as err:
    out["auth"] = err.status_code
out["models"] = len(c.models.list().data)
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_as_a_client_gets_well_formed_answers() {
    let srv = LocalOpenAi::start_with(ServerOptions::default().api_key(KEY))
        .await
        .unwrap();
    let base = srv.base_url();
    let out = tokio::task::spawn_blocking(move || python(CLIENT, &base))
        .await
        .unwrap();
    assert_eq!(
        out["text"],
        json!("This is the local OpenAI server (gpt-4o-mini) answering: hello there")
    );
    assert!(out["usage"].as_u64().unwrap() > 0);
    assert_eq!(
        out["calls"],
        json!([["call_0_0", "web_search", {"query": "rust"}], ["call_0_1", "web_search", {"query": "go"}]])
    );
    assert_eq!(out["finish"], json!("tool_calls"));
    assert_eq!(
        out["after_tools"],
        json!("Based on web_search: ok 0\nBased on web_search: ok 1")
    );
    assert_eq!(
        out["stream_args"],
        json!([{"query": "rust"}, {"query": "go"}])
    );
    assert_eq!(out["stream_finish"], json!("tool_calls"));
    assert_eq!(out["stream_usage"], json!(true));
    assert_eq!(out["parsed"], json!({"name": "Ada", "age": 42}));
    assert_eq!(out["emb"], json!([1536, 1536]));
    assert_eq!(out["bad"], json!([400, "empty_array", "messages"]));
    assert_eq!(out["missing"], json!([404, "model_not_found"]));
    assert_eq!(out["auth"], json!(401));
    assert!(out["models"].as_u64().unwrap() > 5);
}
