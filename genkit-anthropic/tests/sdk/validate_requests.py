"""Validates request bodies the Rust plugin sent against the official Python SDK's
request types, and our strict schemas against the SDK's own transform.

Input (argv[1]): {"bodies": [...], "schemas": [{"input": ..., "ours": ...}]}.
Output: one JSON line {"checked": n, "errors": [...], "schemas": n}.
"""
import json
import sys

from pydantic import TypeAdapter
from anthropic.types import message_create_params as params
from anthropic.lib._parse._transform import transform_schema

NON_STREAMING = TypeAdapter(params.MessageCreateParamsNonStreaming)
STREAMING = TypeAdapter(params.MessageCreateParamsStreaming)


def materialize(v):
    """Pydantic validates Iterable fields lazily: walk them (which validates each
    item) and turn them into lists, so the result compares with the input."""
    if isinstance(v, dict):
        return {k: materialize(x) for k, x in v.items()}
    if isinstance(v, (str, bytes, int, float, bool)) or v is None:
        return v
    try:
        return [materialize(x) for x in v]
    except TypeError:
        return v


def type_lists_as_any_of(v):
    """The SDK's transform refuses `"type": ["number", "null"]` (what schemars writes
    for an Option); ours turns it into `anyOf` first: do the same before comparing."""
    if isinstance(v, list):
        return [type_lists_as_any_of(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {k: type_lists_as_any_of(x) for k, x in v.items()}
    if isinstance(out.get("type"), list):
        types = out.pop("type")
        out = {"anyOf": [{"type": t} for t in types], **out}
    return out


def main():
    data = json.load(open(sys.argv[1]))
    errors = []
    for i, body in enumerate(data["bodies"]):
        adapter = STREAMING if body.get("stream") else NON_STREAMING
        try:
            validated = materialize(adapter.validate_python(body))
        except Exception as e:  # pydantic.ValidationError and friends
            errors.append({"body": i, "error": str(e)})
            continue
        # Unknown keys are dropped by the TypedDicts: a difference means the body
        # holds a member the SDK does not know (or of another type).
        if validated != body:
            errors.append({"body": i, "error": "differs after validation",
                           "validated": validated, "sent": body})
    for i, pair in enumerate(data["schemas"]):
        schema = dict(pair["input"])
        schema.pop("$schema", None)
        want = transform_schema(type_lists_as_any_of(schema))
        if want != pair["ours"]:
            errors.append({"schema": i, "sdk": want, "ours": pair["ours"]})
    print(json.dumps({"checked": len(data["bodies"]), "schemas": len(data["schemas"]),
                      "errors": errors}))


main()
