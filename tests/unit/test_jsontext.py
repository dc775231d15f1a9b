import json
import math

from sendoff.store import jsontext


def test_round_trips_what_event_bodies_hold() -> None:
    body = {"payload": '{"n": 1}', "attempts": [{"started_at": 1795823584.4228475, "x": None}],
            "ok": True, "n": 3, "text": "héllo ✓"}  # fmt: skip
    assert jsontext.loads(jsontext.dumps(body)) == body
    assert json.loads(jsontext.dumps(body)) == body


def test_falls_back_to_json_for_what_orjson_refuses() -> None:
    huge = {"responsePayload": {"big": 2**80}, 1: "int key"}
    text = jsontext.dumps(huge)
    assert jsontext.loads(text) == {"responsePayload": {"big": 2**80}, "1": "int key"}


def test_reads_nan_written_by_json() -> None:
    value = jsontext.loads(json.dumps({"x": float("nan")}))
    assert math.isnan(value["x"])
