"""Bucket name and object key rules (AWS's "general purpose bucket naming rules").

Keys are names, never paths: objects live in the store as documents and content-addressed
chunks, so a key such as ``../../etc/passwd`` names an object like any other and can reach
no file. Keys longer than 1,024 UTF-8 bytes are refused as AWS refuses them, and so are keys
holding NUL (AWS stores them, but XML 1.0 cannot carry one back in a listing).
"""

from __future__ import annotations

import ipaddress
import re

from sendoff.services.s3.errors import InvalidArgument, InvalidBucketName, KeyTooLong

MAX_KEY_BYTES = 1024
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    """InvalidBucketName unless ``name`` follows AWS's rules for new buckets."""
    if (
        not _BUCKET_RE.fullmatch(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or name.startswith(_PREFIXES)
        or name.endswith(_SUFFIXES)
        or _is_ip(name)
    ):
        raise InvalidBucketName("The specified bucket is not valid.", BucketName=name)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def plausible_bucket_name(name: str) -> bool:
    """Whether a name could be a bucket's at all (a lookup of anything else finds nothing)."""
    return bool(re.fullmatch(r"[A-Za-z0-9._-]{1,255}", name))


def check_key(key: str) -> None:
    if not key:
        raise InvalidArgument("Object key must not be empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise KeyTooLong("Your key is too long", Size=str(len(key.encode())), MaxSizeAllowed="1024")
    if "\x00" in key:
        raise InvalidArgument("Object key must not contain NUL", ArgumentName="key")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument("Object key must be valid UTF-8", ArgumentName="key") from None
