"""S3's XML: responses built with ElementTree (text is escaped by the encoder, never
concatenated) and request documents parsed with entity declarations refused.

A request body holding ``<!DOCTYPE`` or ``<!ENTITY`` is MalformedXML before any parser
sees it, so no entity is ever expanded (billion laughs, external entities); bodies are
small (CompleteMultipartUpload, DeleteObjects, CreateBucket) and capped by the caller.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import formatdate

from sendoff.services.s3.errors import MalformedXML

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML_BYTES = 2 * 1024 * 1024  # DeleteObjects of 1,000 long keys fits


def iso8601(epoch: float) -> str:
    """``2026-12-04T19:20:00.000Z``, as listings write LastModified."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(epoch: float) -> str:
    """``Fri, 04 Dec 2026 19:20:00 GMT``, as the Last-Modified header."""
    return formatdate(int(epoch), usegmt=True)


def element(
    tag: str, *children: ET.Element | None, text: str | None = None, ns: bool = False
) -> ET.Element:
    node = ET.Element(tag, {"xmlns": NS} if ns else {})
    if text is not None:
        node.text = text
    for child in children:
        if child is not None:
            node.append(child)
    return node


def leaf(tag: str, value: object) -> ET.Element:
    node = ET.Element(tag)
    node.text = _text(value)
    return node


def leaves(pairs: Iterable[tuple[str, object]]) -> list[ET.Element]:
    return [leaf(tag, value) for tag, value in pairs if value is not None]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def document(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def parse(body: bytes) -> ET.Element:
    """A request document's root, namespaces stripped from tag names."""
    if len(body) > MAX_XML_BYTES:
        raise MalformedXML("The XML you provided was too large.")
    lowered = body[:4096].lower()
    if b"<!doctype" in lowered or b"<!entity" in body.lower():
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate"
            " against our published schema"
        )
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate"
            " against our published schema"
        ) from None
    for node in root.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    return root


def child_text(node: ET.Element, tag: str) -> str | None:
    found = node.find(tag)
    return None if found is None else (found.text or "")
