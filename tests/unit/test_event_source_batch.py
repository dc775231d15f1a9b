"""The pure rules of an SQS batch: item failures, FIFO group stops, filter views."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sendoff.sources.batch import filter_view, item_failures, to_delete

IDS = ["m1", "m2", "m3"]


def records(groups: list[str | None]) -> list[dict[str, Any]]:
    out = []
    for index, group in enumerate(groups, 1):
        attributes = {"MessageGroupId": group} if group else {}
        out.append({"messageId": f"m{index}", "attributes": attributes, "body": "x"})
    return out


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"", set()),
        (b"null", set()),
        (b"{}", set()),
        (b'"ok"', set()),
        (b'{"batchItemFailures": []}', set()),
        (b'{"batchItemFailures": null}', set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "m2"}]}', {"m2"}),
        (b"not json", None),
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": null}]}', None),
        (b'{"batchItemFailures": [{"foo": "m1"}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": "elsewhere"}]}', None),
        (b'{"batchItemFailures": "m1"}', None),
    ],
)
def test_item_failures(answer: bytes, expected: set[str] | None) -> None:
    assert item_failures(answer, IDS) == expected


def test_to_delete_standard_and_fifo() -> None:
    answer = json.dumps({"batchItemFailures": [{"itemIdentifier": "m2"}]}).encode()
    plain = records([None, None, None])
    assert [r["messageId"] for r in to_delete(plain, answer, report_failures=True, fifo=False)] == [
        "m1",
        "m3",
    ]
    assert len(to_delete(plain, answer, report_failures=False, fifo=False)) == 3
    assert to_delete(plain, b"garbage", report_failures=True, fifo=False) == []
    fifo = records(["a", "a", "b", "a"])
    kept = to_delete(fifo, answer, report_failures=True, fifo=True)
    assert [r["messageId"] for r in kept] == ["m1", "m3"]  # m4 waits behind m2 in group a


def test_filter_view_decodes_json_objects_only() -> None:
    assert filter_view({"body": '{"a": 1}'})["body"] == {"a": 1}
    assert filter_view({"body": "[1]"})["body"] == "[1]"
    assert filter_view({"body": "{broken"})["body"] == "{broken"
