"""Bucket notification configurations: parsing, AWS's checks and wording, matching."""

from __future__ import annotations

import pytest

from sendoff.services.s3.errors import S3Error
from sendoff.services.s3.notification_config import NotificationConfig, parse_xml, render_xml

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
FN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def doc(*items: str, eventbridge: bool = False) -> bytes:
    body = "".join(items) + ("<EventBridgeConfiguration/>" if eventbridge else "")
    return (
        '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"{body}</NotificationConfiguration>"
    ).encode()


def queue(events: list[str], rules: str = "", arn: str = QUEUE, id_: str = "") -> str:
    ev = "".join(f"<Event>{e}</Event>" for e in events)
    flt = f"<Filter><S3Key>{rules}</S3Key></Filter>" if rules else ""
    ident = f"<Id>{id_}</Id>" if id_ else ""
    return f"<QueueConfiguration>{ident}<Queue>{arn}</Queue>{ev}{flt}</QueueConfiguration>"


def function(events: list[str], rules: str = "") -> str:
    ev = "".join(f"<Event>{e}</Event>" for e in events)
    flt = f"<Filter><S3Key>{rules}</S3Key></Filter>" if rules else ""
    return (
        f"<CloudFunctionConfiguration><CloudFunction>{FN}</CloudFunction>{ev}{flt}"
        "</CloudFunctionConfiguration>"
    )


def rule(name: str, value: str) -> str:
    return f"<FilterRule><Name>{name}</Name><Value>{value}</Value></FilterRule>"


def error_of(body: bytes) -> S3Error:
    with pytest.raises(S3Error) as info:
        parse_xml(body)
    return info.value


def test_round_trip_with_generated_id_and_capitalized_rule_names() -> None:
    rules = rule("prefix", "a/") + rule("SUFFIX", ".txt")
    config = parse_xml(doc(queue(["s3:ObjectCreated:*"], rules), eventbridge=True))
    (target,) = config.targets
    assert target.id and target.filter is not None and target.filter.prefix == "a/"
    sdk = config.to_sdk_json()
    assert sdk["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Prefix", "Value": "a/"},
        {"Name": "Suffix", "Value": ".txt"},
    ]
    assert sdk["EventBridgeConfiguration"] == {}
    again = parse_xml(render_xml(config))
    assert again == config
    assert NotificationConfig.from_json(config.to_json()) == config


def test_unparsable_arn_names_the_argument() -> None:
    exc = error_of(doc(queue(["s3:ObjectCreated:*"], arn="invalid-queue")))
    assert (exc.code, exc.message) == ("InvalidArgument", "The ARN could not be parsed")
    assert exc.extra == {"ArgumentName": "Queue", "ArgumentValue": "invalid-queue"}
    exc = error_of(doc(queue(["s3:ObjectCreated:*"], arn=FN)))  # a function ARN as a queue
    assert exc.message == "The ARN could not be parsed"


def test_filter_rules_checked_as_aws_does() -> None:
    exc = error_of(doc(queue(["s3:ObjectCreated:*"], rule("INVALID", "x"))))
    assert exc.message == "filter rule name must be either prefix or suffix"
    assert exc.extra == {"ArgumentName": "FilterRule.Name", "ArgumentValue": "INVALID"}
    missing = "<FilterRule><Name>prefix</Name></FilterRule>"
    assert error_of(doc(queue(["s3:ObjectCreated:*"], missing))).code == "MalformedXML"


def test_overlapping_configurations_are_refused() -> None:
    exc = error_of(doc(queue(["s3:ObjectCreated:*"]), function(["s3:ObjectCreated:Put"])))
    assert exc.message == (
        "Configurations overlap. Configurations on the same bucket cannot share a common"
        " event type."
    )
    # disjoint prefixes do not overlap
    parse_xml(
        doc(
            queue(["s3:ObjectCreated:*"], rule("prefix", "a/")),
            function(["s3:ObjectCreated:Put"], rule("prefix", "b/")),
        )
    )


def test_bad_xml_and_entities_are_malformed() -> None:
    assert error_of(b"<NotificationConfiguration>").code == "MalformedXML"
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><NotificationConfiguration/>'
    assert error_of(bomb).code == "MalformedXML"
    assert error_of(doc(queue(["s3:Nope"]))).code == "InvalidArgument"


def test_matching_by_event_and_filter() -> None:
    config = parse_xml(
        doc(
            queue(["s3:ObjectCreated:*"], rule("prefix", "in/")),
            function(["s3:ObjectRemoved:Delete"]),
        )
    )
    assert [t.kind for t in config.matching("s3:ObjectCreated:Put", "in/x")] == ["sqs"]
    assert config.matching("s3:ObjectCreated:Put", "out/x") == []
    assert [t.kind for t in config.matching("s3:ObjectRemoved:Delete", "x")] == ["lambda"]
    assert config.matching("s3:ObjectRemoved:DeleteMarkerCreated", "x") == []
