"""Turning drawn inputs into HTTP requests, the way each protocol's SDK serializer would.

* rest-json (Lambda): members bound to the URI, the query string and headers as the model
  says; the ``payload`` member as the raw body; the rest as a JSON object.
* json (SQS 1.0, EventBridge 1.1): the whole input as a JSON object, the operation in
  ``X-Amz-Target``.
* query (SNS): ``Action=...&Version=...`` and members flattened (``X.member.N``,
  ``X.entry.N.key``).

Values may be of any type (the fuzzer breaks them on purpose), so serialization never
relies on the model being honoured. :class:`Deep` stands for a 100,000-deep JSON value,
written out as text because ``json.dumps`` cannot recurse that far.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tests.fuzz.model import Operation, Shape

SIGNING = {"lambda": "lambda", "sqs": "sqs", "sns": "sns", "events": "events", "logs": "logs"}
JSON_CONTENT = {
    "sqs": "application/x-amz-json-1.0",
    "events": "application/x-amz-json-1.1",
    "logs": "application/x-amz-json-1.1",
}
QUERY_VERSION = {"sns": "2010-03-31"}


@dataclass(frozen=True)
class Deep:
    """A JSON value nested ``depth`` times (``as_text``: the JSON text as a string member)."""

    kind: str = "list"
    depth: int = 100_000
    as_text: bool = False

    def text(self) -> str:
        if self.kind == "list":
            return "[" * self.depth + "1" + "]" * self.depth
        return '{"a":' * self.depth + "1" + "}" * self.depth


@dataclass
class HttpRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, bytes]
    content: bytes


def auth_header(service: str) -> bytes:
    return (
        "AWS4-HMAC-SHA256 Credential=fuzz/20260101/us-east-1/"
        f"{SIGNING[service]}/aws4_request, SignedHeaders=host, Signature=00"
    ).encode()


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def dumps(value: Any) -> bytes:
    """JSON text of any drawn value (bytes as base64, Deep spliced in as text)."""
    spliced: dict[str, str] = {}

    def default(obj: Any) -> Any:
        if isinstance(obj, bytes | bytearray):
            return base64.b64encode(obj).decode()
        if isinstance(obj, Deep):
            if obj.as_text:
                return obj.text()
            marker = f"__deep_{len(spliced)}__"
            spliced[marker] = obj.text()
            return marker
        return str(obj)

    text = json.dumps(value, default=default)
    for marker, deep in spliced.items():
        text = text.replace(f'"{marker}"', deep)
    return _bytes(text)


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Deep):
        return value.text()
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, int | float):
        return repr(value)
    return dumps(value).decode("utf-8", "surrogatepass")


def _header_value(value: Any) -> bytes:
    text = scalar_text(value)
    # control characters are not HTTP (the server's parser refuses them, as any would)
    text = re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "", text).strip(" \t")
    return text.encode("latin-1", "replace")[:8192]


MAX_URL_PART = 4096  # httpx refuses URLs over 64 kB; AWS's front ends refuse far less


def _quote(value: Any, *, greedy: bool = False) -> str:
    return quote(_bytes(scalar_text(value)[:MAX_URL_PART]), safe="/" if greedy else "")


def build(op: Operation, params: dict[str, Any], *, payload: bytes | None = None) -> HttpRequest:
    headers = {"authorization": auth_header(op.service)}
    if op.protocol == "rest-json":
        return _rest_json(op, dict(params), headers, payload)
    if op.protocol == "json":
        headers["x-amz-target"] = f"{op.model.metadata['targetPrefix']}.{op.name}".encode()
        headers["content-type"] = JSON_CONTENT[op.service].encode()
        return HttpRequest("POST", "/", headers, dumps(params))
    pairs = [("Action", op.name), ("Version", QUERY_VERSION[op.service])]
    if op.input is not None:
        pairs += flatten(op, op.input, params)
    headers["content-type"] = b"application/x-www-form-urlencoded; charset=utf-8"
    return HttpRequest("POST", "/", headers, form(pairs))


def form(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(
        f"{quote(_bytes(k), safe='')}={quote(_bytes(v), safe='')}" for k, v in pairs
    ).encode()


def _rest_json(op: Operation, params: dict[str, Any], headers: dict[str, bytes],
               payload: bytes | None) -> HttpRequest:  # fmt: skip
    assert op.input is not None
    members: dict[str, Any] = op.input.get("members", {})
    path = op.uri
    query: list[tuple[str, str]] = []
    body: dict[str, Any] = {}
    payload_member = op.input.get("payload")
    for name, ref in members.items():
        location = ref.get("location")
        wire_name = ref.get("locationName", name)
        if location == "uri":
            value = params.pop(name, None)
            value = "fuzz-missing" if value is None else value
            path = path.replace(f"{{{wire_name}+}}", _quote(value, greedy=True))
            path = path.replace(f"{{{wire_name}}}", _quote(value))
        elif name not in params:
            continue
        elif location == "querystring":
            value = params.pop(name)
            values = value if isinstance(value, list) else [value]
            query += [(wire_name, scalar_text(v)[:MAX_URL_PART]) for v in values[:8]]
        elif location == "header":
            headers[wire_name.lower()] = _header_value(params.pop(name))
        elif name == payload_member:
            value = params.pop(name)
            if payload is None:
                payload = value if isinstance(value, bytes) else dumps(value)
        else:
            body[wire_name] = params.pop(name)
    if query:
        path += "?" + "&".join(f"{quote(_bytes(k))}={quote(_bytes(v), safe='')}" for k, v in query)
    if payload_member:
        content = payload or b""
    else:
        content = dumps(body) if body else b""
        headers["content-type"] = b"application/json"
    return HttpRequest(op.method, path, headers, content)


def flatten(op: Operation, shape: Shape, value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Query-protocol parameters for ``value`` (shape-guided where the types agree)."""
    model = op.model
    kind = shape.get("type") if shape else None
    if isinstance(value, dict) and kind == "structure":
        out: list[tuple[str, str]] = []
        for name, item in value.items():
            ref = shape.get("members", {}).get(name)
            child = model.shape(ref["shape"]) if ref else {}
            key = f"{prefix}.{name}" if prefix else str(name)
            out += flatten(op, child, item, key)
        return out
    if isinstance(value, dict) and kind == "map":
        out = []
        key_name = shape["key"].get("locationName", "key")
        value_name = shape["value"].get("locationName", "value")
        value_shape = model.shape(shape["value"]["shape"])
        for index, (k, v) in enumerate(value.items(), 1):
            out.append((f"{prefix}.entry.{index}.{key_name}", scalar_text(k)))
            out += flatten(op, value_shape, v, f"{prefix}.entry.{index}.{value_name}")
        return out
    if isinstance(value, list):
        member = model.shape(shape["member"]["shape"]) if kind == "list" else {}
        out = []
        for index, item in enumerate(value, 1):
            out += flatten(op, member, item, f"{prefix}.member.{index}")
        return out
    if isinstance(value, dict):  # a structure where a scalar belongs, or no shape
        out = []
        for name, item in value.items():
            out += flatten(op, {}, item, f"{prefix}.{name}")
        return out or [(prefix, "")]
    return [(prefix, scalar_text(value))]
