"""The official Python SDK as a client of the local Anthropic server.

argv[1] is the base URL, argv[2] the key. The server has two scripted replies queued:
529 overloaded, then 429 with retry-after. Prints one JSON object of what came back.
"""
import json
import sys

import anthropic

client = anthropic.Anthropic(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
out = {}
MODEL = "claude-sonnet-4-5"
TOOLS = [{"name": "web_search", "description": "Search the web",
          "input_schema": {"type": "object", "properties": {"query": {"type": "string"}},
                           "required": ["query"]}}]

for name in ["overloaded", "rate_limited"]:
    try:
        client.messages.create(model=MODEL, max_tokens=100,
                               messages=[{"role": "user", "content": "x"}])
        out[name] = "no error"
    except anthropic.APIStatusError as e:
        out[name] = {"class": type(e).__name__, "status": e.status_code,
                     "type": e.body["error"]["type"],
                     "retry_after": e.response.headers.get("retry-after")}

m = client.messages.create(model=MODEL, max_tokens=200, system="Be brief.",
                           messages=[{"role": "user", "content": "Why is the sky blue?"}])
out["text"] = {"type": type(m).__name__, "text": m.content[0].text,
               "stop_reason": m.stop_reason, "usage": [m.usage.input_tokens, m.usage.output_tokens],
               "id": m.id}

# A tool loop with thinking: the thinking block goes back with its signature.
history = [{"role": "user", "content": "Compare: rust; go"}]
thinking = {"type": "enabled", "budget_tokens": 1024}
m = client.messages.create(model=MODEL, max_tokens=2000, tools=TOOLS, thinking=thinking,
                           messages=history)
calls = [b for b in m.content if b.type == "tool_use"]
out["tools"] = {"stop_reason": m.stop_reason, "kinds": [b.type for b in m.content],
                "inputs": [c.input for c in calls],
                "signature": m.content[0].signature}
history.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]})
history.append({"role": "user", "content": [
    {"type": "tool_result", "tool_use_id": c.id, "content": "Results for: " + c.input["query"]}
    for c in calls]})
m = client.messages.create(model=MODEL, max_tokens=2000, tools=TOOLS, thinking=thinking,
                           messages=history)
out["tools"]["answer"] = [b.text for b in m.content if b.type == "text"]

# A tampered signature is refused as the API refuses it.
history[1]["content"][0]["signature"] = "forged"
try:
    client.messages.create(model=MODEL, max_tokens=2000, tools=TOOLS, thinking=thinking,
                           messages=history)
    out["forged"] = "no error"
except anthropic.BadRequestError as e:
    out["forged"] = e.body["error"]["message"]

# Streaming with the SDK's helper: text deltas, then the accumulated message.
with client.messages.stream(model=MODEL, max_tokens=2000, thinking=thinking,
                            messages=[{"role": "user", "content": "Tell me about Rust"}]) as s:
    pieces = list(s.text_stream)
    final = s.get_final_message()
out["stream"] = {"pieces": pieces, "final": [b.model_dump(exclude_none=True) for b in final.content],
                 "stop_reason": final.stop_reason, "output_tokens": final.usage.output_tokens}

# Streamed tool calls: input_json_delta assembled by the SDK.
with client.messages.stream(model=MODEL, max_tokens=200, tools=TOOLS,
                            messages=[{"role": "user", "content": "Search: a; b"}]) as s:
    events = [e.type for e in s]
    final = s.get_final_message()
out["stream_tools"] = {"inputs": [b.input for b in final.content if b.type == "tool_use"],
                       "event_types": sorted(set(events))}

# Raw events (stream=True) in their order.
raw = client.messages.create(model=MODEL, max_tokens=50, stream=True,
                             messages=[{"role": "user", "content": "hi"}])
out["raw_events"] = [e.type for e in raw]

# A 400 with Anthropic's error body.
try:
    client.messages.create(model=MODEL, max_tokens=100, messages=[])
    out["bad"] = "no error"
except anthropic.BadRequestError as e:
    out["bad"] = {"type": e.body["error"]["type"], "message": e.body["error"]["message"]}

out["models"] = [m.id for m in client.models.list()]
print(json.dumps(out))
