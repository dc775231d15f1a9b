"""The one Scope every service keys its documents and builds its ARNs from."""

from __future__ import annotations

from sendoff.model.scope import Scope

SCOPE = Scope(account_id="111111111111", region="eu-west-1")


def test_store_keys() -> None:
    assert SCOPE.key == "111111111111/eu-west-1"
    assert SCOPE.key_prefix == "111111111111/eu-west-1/"


def test_arns() -> None:
    assert SCOPE.service_arn("sns", "t") == "arn:aws:sns:eu-west-1:111111111111:t"
    assert SCOPE.function_arn("f") == "arn:aws:lambda:eu-west-1:111111111111:function:f"
    assert SCOPE.function_arn("f", "live").endswith(":function:f:live")


def test_value_semantics() -> None:
    assert Scope(account_id="111111111111", region="eu-west-1") == SCOPE
    assert len({SCOPE, Scope(account_id="111111111111", region="eu-west-1")}) == 1
