"""Hypothesis strategies built from botocore shapes: valid inputs, then one mutation each.

``valid(model, shape)`` draws a value that satisfies the shape (enum, range, length, and the
member's pattern where Python can read it). ``request_params(op, hints)`` draws a valid
input and, most of the time, breaks it in one of the ways a careless or hostile client
does: a member of the wrong JSON type, a number or length out of range, a required member
missing, a huge string, odd Unicode, or a 100,000-deep value. ``hints`` steers identity
members (function names, queue URLs, topic ARNs) to resources that exist, so requests get
past "not found" into the code that reads the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.model import Operation, ServiceModel, Shape
from tests.fuzz.wire import Deep

MAX_DEPTH = 4
DEEP = 100_000  # nesting depth of the "deep" mutation (issue 17)
HUGE = 300_000  # characters of the "huge string" mutation

ODD_TEXT = st.sampled_from(
    [
        "\ud800",  # lone high surrogate
        "a\udfffb",  # lone low surrogate
        "\x00",
        "nul\x00inside",
        "\u202eevil",  # right-to-left override
        "\ufeff",
        "\uffff",
        "😀" * 3,
        "'\"<>&;\\",
        "²",
        "%00%ff",
        "\r\n\t",
        "",
    ]
)

WRONG_TYPES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        ["x", "", 5, -1, 0, 1.5, 1e20, -1e20, 10**30, True, False, None, [], [1, 2], {}, [{}]]
    ),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=3),
)


class Hints:
    """Member name -> values that name existing resources (by operation kind)."""

    def __init__(self, by_member: Mapping[str, Sequence[Any]]) -> None:
        self.by_member = {k: list(v) for k, v in by_member.items() if v}

    def for_member(self, name: str) -> list[Any]:
        return self.by_member.get(name, [])


def _string(shape: Shape) -> st.SearchStrategy[str]:
    if "enum" in shape:
        return st.sampled_from(list(shape["enum"]))
    low = int(shape.get("min", 0))
    high = int(shape.get("max", 64))
    high = max(low, min(high, 64))
    text = st.text(min_size=low, max_size=high)
    pattern = shape.get("pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            return text
        matching = st.from_regex(pattern, fullmatch=True).map(lambda s: s[:high])
        return st.one_of(matching, text)
    return text


def valid(
    model: ServiceModel, shape: Shape, hints: Hints, depth: int = 0
) -> st.SearchStrategy[Any]:
    kind = shape["type"]
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return st.just({})
        required = set(shape.get("required", []))
        fields: dict[str, st.SearchStrategy[Any]] = {}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for name, ref in shape.get("members", {}).items():
            strategy = valid(model, model.shape(ref["shape"]), hints, depth + 1)
            hinted = hints.for_member(name)
            if hinted:  # three to one for the resources that exist
                known = st.sampled_from(hinted)
                strategy = st.one_of(known, known, known, strategy)
            (fields if name in required else optional)[name] = strategy
        return st.fixed_dictionaries(fields, optional=optional)
    if kind == "list":
        item = valid(model, model.shape(shape["member"]["shape"]), hints, depth + 1)
        low = int(shape.get("min", 0))
        return st.lists(item, min_size=min(low, 3), max_size=max(min(low, 3), 3))
    if kind == "map":
        key = _string(model.shape(shape["key"]["shape"]))
        value = valid(model, model.shape(shape["value"]["shape"]), hints, depth + 1)
        return st.dictionaries(key, value, max_size=3)
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        low = int(shape.get("min", -(2**31)))
        high = int(shape.get("max", 2**31 - 1))
        return st.integers(low, high)
    if kind in ("double", "float"):
        return st.floats(shape.get("min", -1e9), shape.get("max", 1e9), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.integers(0, 2_000_000_000)
    if kind == "blob":
        return st.binary(max_size=64)
    return st.none()


def _paths(model: ServiceModel, shape: Shape, prefix: tuple[Any, ...] = (), depth: int = 0
           ) -> list[tuple[tuple[Any, ...], Shape, bool]]:  # fmt: skip
    """(path, shape, required) of every member up to MAX_DEPTH; 0 stands for a list item."""
    out: list[tuple[tuple[Any, ...], Shape, bool]] = []
    if depth >= 3:
        return out
    kind = shape["type"]
    if kind == "structure":
        required = set(shape.get("required", []))
        for name, ref in shape.get("members", {}).items():
            child = model.shape(ref["shape"])
            out.append(((*prefix, name), child, name in required))
            out += _paths(model, child, (*prefix, name), depth + 1)
    elif kind == "list":
        child = model.shape(shape["member"]["shape"])
        out.append(((*prefix, 0), child, True))
        out += _paths(model, child, (*prefix, 0), depth + 1)
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any, *, delete: bool = False) -> Any:
    """``value`` with the member at ``path`` replaced (or removed), creating containers."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if head == 0:
        items = list(value) if isinstance(value, list) else []
        if not items:
            items = [{} if rest and rest[0] != 0 else []] if rest else [None]
        if not rest and delete:
            return []
        items[0] = _set(items[0], rest, new, delete=delete)
        return items
    obj = dict(value) if isinstance(value, dict) else {}
    if not rest and delete:
        obj.pop(head, None)
        return obj
    obj[head] = _set(obj.get(head, [] if rest and rest[0] == 0 else {}), rest, new, delete=delete)
    return obj


def _out_of_range(shape: Shape) -> st.SearchStrategy[Any]:
    kind = shape["type"]
    if kind in ("integer", "long", "double", "float"):
        options: list[Any] = [10**20, -(10**20), 1e308]
        if "min" in shape:
            options.append(int(shape["min"]) - 1)
        if "max" in shape:
            options.append(int(shape["max"]) + 1)
        return st.sampled_from(options)
    if kind == "string":
        options = [""]
        if "max" in shape and int(shape["max"]) < 100_000:
            options.append("a" * (int(shape["max"]) + 1))
        if "enum" in shape:
            options.append("NotInTheEnum")
        return st.sampled_from(options)
    if kind == "list":
        return st.just([shape.get("member") and {}] * (int(shape.get("max", 100)) + 1))
    return WRONG_TYPES


# "none" twice: a quarter of the requests are valid by the model, to reach deeper code
MUTATIONS = ("none", "none", "wrong_type", "missing", "out_of_range", "huge", "odd", "deep")


@st.composite
def request_params(draw: st.DrawFn, op: Operation, hints: Hints) -> tuple[str, dict[str, Any]]:
    """(mutation, input members) for ``op``."""
    model = op.model
    if op.input is None:
        return "none", {}
    params: dict[str, Any] = draw(valid(model, op.input, hints))
    mutation = draw(st.sampled_from(MUTATIONS))
    paths = _paths(model, op.input)
    if mutation == "none" or not paths:
        return "none", params
    if mutation == "missing":
        required = [(p, s) for p, s, r in paths if r and len(p) == 1]
        if not required:
            return "none", params
        path, _ = draw(st.sampled_from(required))
        return mutation, _set(params, path, None, delete=True)
    path, shape, _ = draw(st.sampled_from(paths))
    if mutation == "wrong_type":
        new = draw(WRONG_TYPES)
    elif mutation == "out_of_range":
        new = draw(_out_of_range(shape))
    elif mutation == "huge":
        new = draw(st.sampled_from(["x" * HUGE, "é" * HUGE, [0] * 50_000]))
    elif mutation == "odd":
        new = draw(ODD_TEXT)
    else:
        as_text = shape["type"] == "string" or draw(st.booleans())
        new = Deep(draw(st.sampled_from(["list", "dict"])), DEEP, as_text=as_text)
    return mutation, _set(params, path, new)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
