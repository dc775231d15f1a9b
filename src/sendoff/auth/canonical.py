"""A direct SigV4 canonical request for the hot path, checked against botocore.

botocore's ``SigV4Auth`` (the reference, :mod:`sendoff.auth.sigv4`) spends most of a
verification in generic plumbing: URL splitting, header containers, generators. This
module builds the same string in a few joins, with the path and query encodings cached
(they repeat from request to request). :func:`sendoff.auth.sigv4.verify` tries it first and
falls back to botocore's result when they disagree, so a request is accepted only with a
signature over a canonical form that encodes method, path, query, signed headers and
payload hash. tests/unit/test_sigv4.py checks that both forms are identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from urllib.parse import quote

from botocore.utils import normalize_url_path


@lru_cache(maxsize=1024)
def canonical_path(raw_path: str) -> str:
    """As botocore does for every service but S3: dot segments removed, then encoded again
    (a percent-encoded path is double-encoded)."""
    return quote(normalize_url_path(raw_path), safe="/~")


@lru_cache(maxsize=1024)
def _canonical_query(pairs: tuple[tuple[str, str], ...]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    return _canonical_query(tuple(pairs)) if pairs else ""


def canonical_request(
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    signed: Mapping[str, list[str]],
    payload_hash: str,
) -> str:
    """``signed``: lower-case header name -> its values, for exactly the signed headers.
    Values are trimmed and inner runs of spaces folded (SigV4's Trimall), as botocore does."""
    names = sorted(signed)
    lines = []
    for name in names:
        values = signed[name]
        if len(values) == 1:
            lines.append(name + ":" + " ".join(values[0].split()))
        else:
            lines.append(name + ":" + ",".join(" ".join(v.split()) for v in values))
    return (
        f"{method.upper()}\n{canonical_path(raw_path)}\n{canonical_query(query)}\n"
        + "\n".join(lines)
        + f"\n\n{';'.join(names)}\n{payload_hash}"
    )
