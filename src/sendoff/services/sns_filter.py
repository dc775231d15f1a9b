"""Amazon SNS subscription filter policies, as a thin dialect over the event-pattern core.

Design
------
An SNS filter policy uses the EventBridge pattern syntax with a smaller operator set.
So this module reuses ``sendoff.services.events_pattern`` for parsing, validation and
matching. It supplies only what SNS does differently:

* the dialect. SNS has no ``wildcard``. ``anything-but`` takes only lists, single values
  and ``prefix`` (AWS refuses ``suffix`` there: ``Unsupported anything-but pattern:
  suffix``), and a non-string ``prefix`` operand is ``prefix match pattern must be a
  string``. ``prefix``/``suffix`` take plain strings. Numbers must lie
  within +/-1e9 and have at most 5 decimal places.
* the scope. ``MessageAttributes`` policies must be flat. ``MessageBody`` policies may nest,
  and keys join with dots as in EventBridge: ``{"object.nested": [..]}`` matches
  ``{"object": {"nested": ..}}`` and ``{"object.nested": ..}`` (AWS-recorded). An attribute
  named ``a.b`` still matches a policy key ``a.b``.
* the policy limits: at most 5 leaf keys and at most 150 value combinations, counted the
  way the SNS guide describes.
* the decoding of message attributes into JSON values. ``String`` becomes a string.
  ``Number`` becomes an exact number. ``String.Array`` is a JSON array and matches if any
  element does. ``Binary`` is ignored, as if absent.
* the AWS error wording: ``Invalid parameter: FilterPolicy: <reason>``.

SNS quirks kept on purpose: ``{}`` is accepted and matches every message (it is how a
policy is removed). A message with no attributes at all matches no attribute policy, not
even ``exists: false``. A body that is not a JSON object matches no body policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from sendoff.services.events_pattern import Dialect, PatternError, compile_tree, load_json
from sendoff.services.json_errors import jackson_reason
from sendoff.services.pattern_match import PatternNode, match_tree

FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]

SNS: Final = Dialect(
    operators=frozenset(
        {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr"}
    ),
    anything_but_operators=frozenset({"prefix"}),  # AWS-recorded: suffix is refused
    affix_ignore_case=False,
    numeric_limit=Decimal("1E9"),
    numeric_limit_text="1.0E9",
    decimal_places=5,
    anything_but_operand_message=True,
    dotted_keys=True,  # AWS-recorded for MessageBody; harmless for flat attributes
)
MAX_KEYS: Final = 5
MAX_COMBINATIONS: Final = 150
_ABSENT: Final = object()
_OR: Final = "$or"


class InvalidFilterPolicy(PatternError):
    """A filter policy failed validation (AWS InvalidParameter on FilterPolicy)."""

    def __init__(self, reason: str, *, field: str = "FilterPolicy: ") -> None:
        super().__init__(reason, f"Invalid parameter: {field}{reason}")


@dataclass(frozen=True, kw_only=True, slots=True)
class FilterPolicy:
    """A validated SNS filter policy; ``root`` is None for the match-everything ``{}``."""

    scope: FilterPolicyScope
    root: PatternNode | None

    def matches_attributes(self, attributes: Mapping[str, Mapping[str, object]]) -> bool:
        """Match SNS message attributes (``{name: {"DataType": .., "StringValue": ..}}``)."""
        if self.root is None:
            return True
        if not attributes:
            return False
        decoded = {name: _decode_attribute(attr) for name, attr in attributes.items()}
        return match_tree(
            self.root, {name: value for name, value in decoded.items() if value is not _ABSENT}
        )

    def matches_body(self, body: Mapping[str, object] | str | bytes) -> bool:
        """Match a message body, given as decoded JSON or as the raw message text."""
        if self.root is None:
            return True
        decoded: object = body
        if isinstance(body, str | bytes):
            try:
                decoded = load_json(body)
            except (ValueError, RecursionError):
                return False
        return isinstance(decoded, Mapping) and match_tree(self.root, decoded)

    def matches_message(
        self,
        *,
        attributes: Mapping[str, Mapping[str, object]] | None = None,
        body: Mapping[str, object] | str | bytes = "",
    ) -> bool:
        """Match a published message, looking at whichever part ``scope`` names."""
        if self.scope == "MessageBody":
            return self.matches_body(body)
        return self.matches_attributes(attributes or {})


def _decode_attribute(attribute: Mapping[str, object]) -> object:
    """The JSON value an attribute stands for in matching, or ``_ABSENT`` if ignored."""
    data_type = attribute.get("DataType", attribute.get("Type"))
    raw = attribute.get("StringValue", attribute.get("Value"))
    if not isinstance(data_type, str):
        return _ABSENT
    base = data_type.split(".", 1)[0]
    if data_type in ("String.Array", "Number.Array"):
        try:
            values = load_json(raw) if isinstance(raw, str | bytes) else raw
        except (ValueError, RecursionError):
            return _ABSENT
        return values if isinstance(values, list) else _ABSENT
    if base == "String":
        return raw if isinstance(raw, str) else _ABSENT
    if base == "Number":
        return _decode_number(raw)
    return _ABSENT  # Binary, or a type SNS would have refused at publish


def _decode_number(raw: object) -> object:
    if isinstance(raw, bool):
        return _ABSENT
    if isinstance(raw, int | float | Decimal):
        return raw
    if not isinstance(raw, str):
        return _ABSENT
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return _ABSENT
    return number if number.is_finite() else _ABSENT


def _check_scope(policy: Mapping[str, object], scope: FilterPolicyScope) -> None:
    if scope == "MessageBody":
        return
    for key, value in policy.items():
        if key == _OR and isinstance(value, list):
            for branch in value:
                if isinstance(branch, Mapping):
                    _check_scope(branch, scope)
        elif isinstance(value, Mapping):
            raise InvalidFilterPolicy(
                "Filter policy scope MessageAttributes does not support nested filter policy",
                field="",
            )


def _leaf_keys(policy: Mapping[str, object], prefix: str = "") -> set[str]:
    """Every field that carries a value array (the keys SNS counts towards its limit)."""
    keys: set[str] = set()
    for key, value in policy.items():
        if key == _OR and isinstance(value, list):
            for branch in value:
                keys |= _leaf_keys(branch, prefix) if isinstance(branch, Mapping) else set()
        elif isinstance(value, Mapping):
            keys |= _leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def _combinations(policy: Mapping[str, object], depth: int = 1, total: int = 1) -> int:
    """Product of value-array sizes weighted by nesting depth; ``$or`` branches add up."""
    for key, value in policy.items():
        if key == _OR and isinstance(value, list):
            total = sum(
                _combinations(branch, depth, total)
                for branch in value
                if isinstance(branch, Mapping)
            )
        elif isinstance(value, Mapping):
            total = _combinations(value, depth + 1, total)
        elif isinstance(value, list):
            total *= len(value) * depth
    return total


def compile_filter_policy(
    policy: str | bytes | Mapping[str, object],
    scope: FilterPolicyScope = "MessageAttributes",
) -> FilterPolicy:
    """Validate an SNS filter policy (JSON text or decoded object) for ``scope``."""
    if scope not in ("MessageAttributes", "MessageBody"):
        raise InvalidFilterPolicy(
            f"FilterPolicyScope: Invalid value [{scope}]. "
            "Please use either MessageBody or MessageAttributes",
            field="",
        )
    if isinstance(policy, str | bytes):
        try:
            decoded = load_json(policy)
        except (ValueError, RecursionError):
            text = policy.decode(errors="replace") if isinstance(policy, bytes) else policy
            raise InvalidFilterPolicy(f"failed to parse JSON. {jackson_reason(text)}") from None
    else:
        decoded = policy
    if not isinstance(decoded, Mapping):
        raise InvalidFilterPolicy("Filter is not an object")
    if not decoded:
        return FilterPolicy(scope=scope, root=None)
    try:  # Ruler's checks come first (AWS: {"key": {"suffix": "v"}} is a Ruler error)
        root = compile_tree(decoded, SNS)
    except PatternError as exc:
        raise InvalidFilterPolicy(exc.reason) from None
    _check_scope(decoded, scope)
    if len(_leaf_keys(decoded)) > MAX_KEYS:
        raise InvalidFilterPolicy(f"Filter policy can not have more than {MAX_KEYS} keys")
    if _combinations(decoded) > MAX_COMBINATIONS:
        raise InvalidFilterPolicy("Filter policy is too complex")
    return FilterPolicy(scope=scope, root=root)
