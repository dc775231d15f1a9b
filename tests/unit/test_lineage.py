"""The recursion lineage in trace headers (model/lineage.py)."""

from __future__ import annotations

import pytest

from sendoff.model import lineage

A = "arn:aws:lambda:us-east-1:000000000000:function:a"
B = "arn:aws:lambda:us-east-1:000000000000:function:b"


def test_stamp_counts_one_per_invocation() -> None:
    header = None
    for expected in range(1, 18):
        header = lineage.stamp(header, A)
        assert lineage.count_for(header, A) == expected
    assert lineage.count_for(header, B) == 0


def test_stamp_keeps_root_and_other_functions() -> None:
    header = lineage.stamp(lineage.stamp("Root=1-abc;Parent=p;Sampled=1", A), B)
    assert header.startswith("Root=1-abc;Parent=p;Sampled=1;Lineage=")
    assert lineage.lineage_counts(header) == {
        lineage.function_hash(A): 1,
        lineage.function_hash(B): 1,
    }


@pytest.mark.parametrize("separator", ["|", "%7C", "%7c"])
def test_entries_survive_botocore_quoting(separator: str) -> None:
    """botocore percent-encodes `_X_AMZN_TRACE_ID` when it forwards it; `|` is not kept."""
    a, b = lineage.function_hash(A), lineage.function_hash(B)
    header = f"Root=1-abc;Sampled=0;Lineage=1:{a}:7{separator}1:{b}:3"
    assert lineage.lineage_counts(header) == {a: 7, b: 3}
    assert lineage.count_for(lineage.stamp(header, B), B) == 4
    assert lineage.count_for(lineage.stamp(header, B), A) == 7


def test_decoded_controls_do_not_reach_the_header() -> None:
    stamped = lineage.stamp("Root=1-abc%0D%0AX-Evil:%201;Sampled=0%00", A)
    assert all("!" <= c <= "~" for c in stamped)
    assert stamped.startswith("Root=1-abcX-Evil:1;Sampled=0;Lineage=")


@pytest.mark.parametrize(
    "header",
    [
        "Root=1-abc; Parent=x\ty;Sampled=0",
        "Root=1-abc;Lineage=1:a87bd80c:3%7C1:bbbbbbbb:2",
        "Root=\x001-abc\x7f;Lin\u00e9age=1:a:1;\u2028Sampled=1",
        "",
    ],
)
def test_fields_keep_printable_ascii_only(header: str) -> None:
    from urllib.parse import unquote

    kept = "".join(c for c in unquote(header) if "!" <= c <= "~")
    expected = dict(p.partition("=")[::2] for p in kept.split(";") if "=" in p)
    assert lineage._fields(header) == expected
