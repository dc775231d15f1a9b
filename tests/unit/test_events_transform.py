"""Input transformers against what AWS delivered (LocalStack's
tests/aws/services/events/test_events_inputs.snapshot.json, AWS-validated), rendered by
the pure ``render_input`` with the same event, paths and templates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sendoff.services.events.model import InputTransformer, Target
from sendoff.services.events.transform import Delivered, render_input

DETAIL = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}
SPECIAL = {**DETAIL, "listsingle": ["HIGH"], "listmulti": ["ACTIVE", "INACTIVE"], "valid": True}
NESTED_PATHS = {
    "userId": "$.detail.payload.acc_id",
    "payload": "$.detail.payload",
    "systemstring": "$.detail.awsAccountId",
    "listsingle": "$.detail.listsingle",
    "listmulti": "$.detail.listmulti",
    "valid": "$.detail.valid",
}
PAYLOAD = "{acc_id:0a787ecb-4015,sf_id:baz}"


def event(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "core.update-account-command",
        "source": "core.update-account-command",
        "account": "111111111111",
        "time": "2024-01-02T03:04:05Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def render(template: str, paths: dict[str, str], detail: dict[str, Any]) -> str | None:
    target = Target(
        id="t", arn="arn:aws:sqs:us-east-1:1:q",
        input_transformer=InputTransformer(template=template, paths=paths),
    )  # fmt: skip
    delivered = Delivered(
        event=event(detail), rule_arn="arn:r", rule_name="r", ingestion_time="now"
    )
    return render_input(target, delivered)


NESTED: list[tuple[str, Any]] = [
    (
        '{"method": "PUT", "path": "users-service/users/<userId>", "bod": <payload>}',
        {"method": "PUT", "path": "users-service/users/0a787ecb-4015", "bod": DETAIL["payload"]},
    ),
    (
        '"Payload of <payload> with path users-service/users/<userId> and <userId>"',
        f'"Payload of {PAYLOAD} with path users-service/users/0a787ecb-4015 and 0a787ecb-4015"',
    ),
    ('{"id" : <userId>}', {"id": "0a787ecb-4015"}),
    ('{"id" : "<userId>"}', {"id": "0a787ecb-4015"}),
    (
        '{"method": "PUT", "path": "users-service/users/<userId>", "bod": [<userId>, "hardcoded"]}',
        {
            "method": "PUT",
            "path": "users-service/users/0a787ecb-4015",
            "bod": ["0a787ecb-4015", "hardcoded"],
        },
    ),
    ('"<listsingle> single list item"', '"[HIGH] single list item"'),
    ('"<listmulti> multiple list items"', '"[ACTIVE,INACTIVE] multiple list items"'),
    ('{"singlelistitem": <listsingle>}', {"singlelistitem": ["HIGH"]}),
    (
        '"<listsingle> single list item\\n<listmulti> multiple list items"',
        '"[HIGH] single list item\\n[ACTIVE,INACTIVE] multiple list items"',
    ),
    (
        '"<listsingle> a <listmulti> b <systemstring> c <payload> d <userId> e"',
        f'"[HIGH] a [ACTIVE,INACTIVE] b  c {PAYLOAD} d 0a787ecb-4015 e"',
    ),
    (
        '{"multi_replacement": "users/<userId>/second/<userId>"}',
        {"multi_replacement": "users/0a787ecb-4015/second/0a787ecb-4015"},
    ),
    ('"Command is <valid>!"', '"Command is true!"'),
    # AWS delivers nothing: an object or array inside quotes makes the JSON invalid
    ('{"not_valid": "users-service/users/<payload>", "bod": <payload>}', None),
    ('{"payload": "<payload>"}', None),
    ('{"singlelistitem": "<listsingle>"}', None),
]


@pytest.mark.parametrize(("template", "expected"), NESTED)
def test_nested_keys_replacement(template: str, expected: Any) -> None:
    got = render(template, NESTED_PATHS, SPECIAL)
    if isinstance(expected, dict):
        assert got is not None and json.loads(got) == expected
    else:
        assert got == expected


@pytest.mark.parametrize(
    ("command_path", "command"), [("$.detail.command", "update-account"), ("$.detail.nope", "")]
)
def test_json_template_with_a_missing_path_gets_an_empty_string(
    command_path: str, command: str
) -> None:
    paths = {"detail-type": "$.detail-type", "command": command_path}
    got = render('{"detailType": <detail-type>, "command": <command>}', paths, DETAIL)
    assert got is not None
    assert json.loads(got) == {"detailType": "core.update-account-command", "command": command}


def test_text_template_with_a_missing_path() -> None:
    paths = {"detail-type": "$.detail-type", "command": "$.detail.nope"}
    got = render('"Event of <detail-type> type, detail <command>"', paths, DETAIL)
    assert got == '"Event of core.update-account-command type, detail "'


def test_predefined_event_variables() -> None:
    got = render(
        '{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}',
        {},
        DETAIL,
    )
    assert got is not None
    body = json.loads(got)
    original = event(DETAIL)
    assert list(body["originalEvent"].items()) == [
        ("id", "e-1"),
        ("account", "111111111111"),
        ("detailType", "core.update-account-command"),
        ("time", "2024-01-02T03:04:05Z"),
        ("source", "core.update-account-command"),
        ("region", "us-east-1"),
        ("resources", []),
        ("version", "0"),
    ]
    assert body["originalEventJson"] == original
