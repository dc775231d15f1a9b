"""A bucket's notification configuration: parsed, checked and rendered as S3 does.

``PUT /bucket?notification`` carries a ``NotificationConfiguration`` document (REST-XML)
with ``TopicConfiguration``, ``QueueConfiguration`` and ``CloudFunctionConfiguration``
elements (each: ``Id``, the target ARN, one or more ``Event``, an optional
``Filter/S3Key/FilterRule``) and an optional empty ``EventBridgeConfiguration``.

The checks, with AWS's wording (recorded in localstack's AWS-validated snapshots,
tests/aws/services/s3/test_s3_notifications_*.snapshot.json and test_s3_api.snapshot.json):

* a target that is not an ARN of its service: ``InvalidArgument`` "The ARN could not be
  parsed", ``ArgumentName`` ``Topic`` / ``Queue`` / ``CloudFunction``;
* a filter rule without Name or Value: ``MalformedXML``; a Name other than prefix/suffix
  (any case): ``InvalidArgument`` "filter rule name must be either prefix or suffix"; names
  are stored capitalized (``Prefix``/``Suffix``), as GetBucketNotificationConfiguration
  returns them;
* two configurations that share an event type and whose filters overlap: ``InvalidArgument``
  "Configurations overlap. Configurations on the same bucket cannot share a common event
  type.";
* a missing ``Id`` is generated (AWS's ids are base64 of a UUID string).

Whether each target exists (and lets S3 send) is checked by the notifier, which can see
the other services (``notifier.py``); this module is pure.
"""

from __future__ import annotations

import base64
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from sendoff.services.s3.errors import InvalidArgument, MalformedXML

__all__ = [
    "EVENT_NAMES", "KINDS", "Filter", "NotificationConfig", "TargetConfig", "matches",
    "parse_xml", "render_xml",
]  # fmt: skip

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_BODY_BYTES = 256 * 1024
MALFORMED_MESSAGE = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)

# every event type S3 accepts in a configuration (sendoff emits ObjectCreated:* and
# ObjectRemoved:*; the others are accepted and stored, and never fire)
EVENT_NAMES = frozenset(
    {
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*", "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked", "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
    }
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ConfigKind:
    """One kind of configuration: its XML element, target element, ARN service, JSON key."""

    element: str  # "QueueConfiguration"
    target: str  # "Queue"
    service: str  # "sqs"
    json_key: str  # "QueueConfigurations", as the SDKs name the list
    arn_key: str  # "QueueArn"


KINDS = (
    ConfigKind(element="TopicConfiguration", target="Topic", service="sns",
               json_key="TopicConfigurations", arn_key="TopicArn"),
    ConfigKind(element="QueueConfiguration", target="Queue", service="sqs",
               json_key="QueueConfigurations", arn_key="QueueArn"),
    ConfigKind(element="CloudFunctionConfiguration", target="CloudFunction", service="lambda",
               json_key="LambdaFunctionConfigurations", arn_key="LambdaFunctionArn"),
)  # fmt: skip
_ARN_RE = re.compile(r"^arn:aws[a-zA-Z-]*:([a-z0-9-]+):")


def malformed() -> MalformedXML:
    return MalformedXML(MALFORMED_MESSAGE)


@dataclass(frozen=True, kw_only=True)
class Filter:
    prefix: str | None = None
    suffix: str | None = None

    def accepts(self, key: str) -> bool:
        return key.startswith(self.prefix or "") and key.endswith(self.suffix or "")


@dataclass(frozen=True, kw_only=True)
class TargetConfig:
    """One Topic/Queue/CloudFunction configuration."""

    kind: str  # the ARN service: "sns", "sqs" or "lambda"
    id: str
    arn: str
    events: tuple[str, ...]
    filter: Filter | None = None
    rule_order: tuple[str, ...] = ()  # "Prefix"/"Suffix" in the order they were given

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "id": self.id, "arn": self.arn,
                               "events": list(self.events)}  # fmt: skip
        if self.filter is not None:
            out["filter"] = {"prefix": self.filter.prefix, "suffix": self.filter.suffix}
            out["rule_order"] = list(self.rule_order)
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TargetConfig:
        raw = doc.get("filter")
        return cls(
            kind=str(doc["kind"]),
            id=str(doc["id"]),
            arn=str(doc["arn"]),
            events=tuple(str(e) for e in doc.get("events") or ()),
            filter=None
            if raw is None
            else Filter(prefix=raw.get("prefix"), suffix=raw.get("suffix")),
            rule_order=tuple(str(r) for r in doc.get("rule_order") or ()),
        )


@dataclass(frozen=True, kw_only=True)
class NotificationConfig:
    targets: tuple[TargetConfig, ...] = ()
    eventbridge: bool = False

    @property
    def empty(self) -> bool:
        return not self.targets and not self.eventbridge

    def to_json(self) -> dict[str, Any]:
        return {"targets": [t.to_json() for t in self.targets], "eventbridge": self.eventbridge}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> NotificationConfig:
        return cls(
            targets=tuple(TargetConfig.from_json(t) for t in doc.get("targets") or ()),
            eventbridge=bool(doc.get("eventbridge")),
        )

    def matching(self, event_name: str, key: str) -> list[TargetConfig]:
        """The configurations an event (``s3:ObjectCreated:Put``) on ``key`` goes to."""
        return [t for t in self.targets if matches(t, event_name, key)]

    def to_sdk_json(self) -> dict[str, Any]:
        """The GetBucketNotificationConfiguration shape, as boto3 returns it (for docs and
        templates: ``AWS::S3::Bucket.NotificationConfiguration``)."""
        out: dict[str, Any] = {}
        for kind in KINDS:
            items = [t for t in self.targets if t.kind == kind.service]
            if items:
                out[kind.json_key] = [_sdk_item(kind, t) for t in items]
        if self.eventbridge:
            out["EventBridgeConfiguration"] = {}
        return out


def _sdk_item(kind: ConfigKind, target: TargetConfig) -> dict[str, Any]:
    item: dict[str, Any] = {"Id": target.id, kind.arn_key: target.arn,
                            "Events": list(target.events)}  # fmt: skip
    if target.filter is not None:
        item["Filter"] = {"Key": {"FilterRules": _rules(target)}}
    return item


def _rules(target: TargetConfig) -> list[dict[str, str]]:
    assert target.filter is not None
    values = {"Prefix": target.filter.prefix, "Suffix": target.filter.suffix}
    return [{"Name": name, "Value": values[name] or ""} for name in target.rule_order]


def matches(target: TargetConfig, event_name: str, key: str) -> bool:
    if not any(_event_covers(e, event_name) for e in target.events):
        return False
    return target.filter is None or target.filter.accepts(key)


def _event_covers(configured: str, event_name: str) -> bool:
    if configured.endswith(":*"):
        return event_name.startswith(configured[:-1])
    return configured == event_name


def _events_overlap(a: str, b: str) -> bool:
    return _event_covers(a, b) or _event_covers(b, a)


def _filters_overlap(a: Filter | None, b: Filter | None) -> bool:
    pa, pb = (a.prefix if a else None) or "", (b.prefix if b else None) or ""
    sa, sb = (a.suffix if a else None) or "", (b.suffix if b else None) or ""
    prefixes = pa.startswith(pb) or pb.startswith(pa)
    suffixes = sa.endswith(sb) or sb.endswith(sa)
    return prefixes and suffixes


def new_id() -> str:
    return base64.b64encode(str(uuid.uuid4()).encode()).decode()


# ---- XML ----
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(node: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in node if _local(c.tag) == name]


def _text(node: ET.Element, name: str) -> str | None:
    found = _children(node, name)
    return None if not found else (found[0].text or "")


def parse_xml(body: bytes) -> NotificationConfig:
    """Parse and check a PutBucketNotificationConfiguration body (raises S3Error).

    Bodies are small; anything past MAX_BODY_BYTES, or declaring a DTD (entities: the XML
    bomb), is refused as MalformedXML before the parser sees it."""
    if len(body) > MAX_BODY_BYTES or b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise malformed()
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise malformed() from None
    if _local(root.tag) != "NotificationConfiguration":
        raise malformed()
    targets: list[TargetConfig] = []
    for kind in KINDS:
        for node in _children(root, kind.element):
            targets.append(_parse_target(kind, node))
    eventbridge = bool(_children(root, "EventBridgeConfiguration"))
    _check_overlaps(targets)
    return NotificationConfig(targets=tuple(targets), eventbridge=eventbridge)


def _parse_target(kind: ConfigKind, node: ET.Element) -> TargetConfig:
    arn = _text(node, kind.target)
    events = tuple((e.text or "").strip() for e in _children(node, "Event"))
    if arn is None or not events:
        raise malformed()
    arn = arn.strip()
    match = _ARN_RE.match(arn)
    if match is None or match.group(1) != kind.service:
        raise InvalidArgument(
            "The ARN could not be parsed", ArgumentName=kind.target, ArgumentValue=arn
        )
    for event in events:
        if event not in EVENT_NAMES:
            raise InvalidArgument(
                "The event is not supported for notifications",
                ArgumentName="Event", ArgumentValue=event,
            )  # fmt: skip
    flt, order = _parse_filter(node)
    return TargetConfig(
        kind=kind.service,
        id=(_text(node, "Id") or "").strip() or new_id(),
        arn=arn,
        events=events,
        filter=flt,
        rule_order=order,
    )


def _parse_filter(node: ET.Element) -> tuple[Filter | None, tuple[str, ...]]:
    filters = _children(node, "Filter")
    if not filters:
        return None, ()
    rules: dict[str, str] = {}
    order: list[str] = []
    for key in _children(filters[0], "S3Key"):
        for rule in _children(key, "FilterRule"):
            name, value = _text(rule, "Name"), _text(rule, "Value")
            if name is None or value is None:
                raise malformed()
            canonical = name.strip().capitalize()
            if canonical not in ("Prefix", "Suffix"):
                raise InvalidArgument(
                    "filter rule name must be either prefix or suffix",
                    ArgumentName="FilterRule.Name", ArgumentValue=name,
                )  # fmt: skip
            if canonical in rules:
                raise InvalidArgument(
                    f"Cannot specify more than one {canonical.lower()} rule in a filter.",
                    ArgumentName="FilterRule.Name", ArgumentValue=name,
                )  # fmt: skip
            rules[canonical] = value
            order.append(canonical)
    if not order:
        return None, ()
    return Filter(prefix=rules.get("Prefix"), suffix=rules.get("Suffix")), tuple(order)


def _check_overlaps(targets: list[TargetConfig]) -> None:
    for i, a in enumerate(targets):
        for b in targets[i + 1 :]:
            shared = any(_events_overlap(x, y) for x in a.events for y in b.events)
            if shared and _filters_overlap(a.filter, b.filter):
                raise InvalidArgument(
                    "Configurations overlap. Configurations on the same bucket cannot share"
                    " a common event type."
                )
    ids = [t.id for t in targets]
    if len(set(ids)) != len(ids):  # wording not recorded from AWS
        raise InvalidArgument("Same ID used for multiple configurations.")


def render_xml(config: NotificationConfig) -> bytes:
    """The GetBucketNotificationConfiguration response body."""
    root = ET.Element("NotificationConfiguration", xmlns=S3_NS)
    for kind in KINDS:
        for target in (t for t in config.targets if t.kind == kind.service):
            node = ET.SubElement(root, kind.element)
            ET.SubElement(node, "Id").text = target.id
            ET.SubElement(node, kind.target).text = target.arn
            for event in target.events:
                ET.SubElement(node, "Event").text = event
            if target.filter is not None:
                key = ET.SubElement(ET.SubElement(node, "Filter"), "S3Key")
                for rule in _rules(target):
                    item = ET.SubElement(key, "FilterRule")
                    ET.SubElement(item, "Name").text = rule["Name"]
                    ET.SubElement(item, "Value").text = rule["Value"]
    if config.eventbridge:
        ET.SubElement(root, "EventBridgeConfiguration")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
