"""An event source mapping as a record, its AWS response shape, and the request checks.

Everything here is pure. The checks follow what AWS answers, in its order: the model's
constraints first (``ValidationException``, Coral wording: BatchSize 1-10,000,
MaximumBatchingWindowInSeconds 0-300, ScalingConfig.MaximumConcurrency 2-1,000,
FunctionResponseTypes = ReportBatchItemFailures), then the service's own rules
(``InvalidParameterValueException``). Recorded from AWS (LocalStack's snapshots of
test_lambda_api.py, event_source_mapping/test_api.py and test_lambda_integration_sqs.py):
"Unrecognized event source.", "StartingPosition is not valid for SQS event sources.",
"Maximum batch window in seconds must be greater than 0 if maximum batch size is greater
than 10", "Invalid filter pattern definition.", "Function does not exist", the missing
queue's and the duplicate's messages, "Unsupported DestinationConfig parameter for given
event source mapping type.". "Batching window is not supported for FIFO queues" is AWS's
text as CloudFormation relays it; the FIFO batch-size and five-filter messages are not
recorded (sendoff's wording).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sendoff.functions.errors import InvalidParameterValue, InvalidRequestContent, validation_error
from sendoff.model.arn import arn_service

DOC_KIND = "event-source-mapping"
STATUS_KIND = "event-source-mapping-status"  # {"result": str, "at": epoch s}, same key
NO_RECORDS = "No records processed"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
DEFAULT_BATCH_SIZE = 10
MAX_BATCH_SIZE = 10_000
FIFO_MAX_BATCH_SIZE = 10
MAX_WINDOW_S = 300
MAX_FILTERS = 5
USER_INITIATED = "USER_INITIATED"

STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
ARN_PATTERN = (
    r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
_SOURCE_ARN = re.compile(f"^{ARN_PATTERN}$")


class State:
    """AWS's states. A stored mapping is Enabled or Disabled; the others are what a
    write answers while AWS would still be working (Create answers Creating, Update
    Updating / Enabling / Disabling, Delete Deleting)."""

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


@dataclass(frozen=True, kw_only=True)
class EventSourceMapping:
    uuid: str
    account_id: str
    region: str
    function_arn: str  # as the caller qualified it (unqualified, :$LATEST, version, alias)
    function_name: str
    qualifier: str | None
    event_source_arn: str
    batch_size: int = DEFAULT_BATCH_SIZE
    window_s: int = 0
    enabled: bool = True
    response_types: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    filter_criteria_set: bool = False
    max_concurrency: int | None = None
    last_modified: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.uuid}"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:event-source-mapping:{self.uuid}"

    @property
    def reports_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.response_types

    @property
    def state(self) -> str:
        return State.ENABLED if self.enabled else State.DISABLED

    def shape(self, state: str | None = None) -> dict[str, Any]:
        """The EventSourceMappingConfiguration AWS answers for an SQS mapping."""
        out: dict[str, Any] = {
            "UUID": self.uuid,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window_s,
            "EventSourceArn": self.event_source_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified,
            "State": state or self.state,
            "StateTransitionReason": USER_INITIATED,
            "FunctionResponseTypes": list(self.response_types),
            "EventSourceMappingArn": self.arn,
        }
        if self.filter_criteria_set:
            out["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in self.filters]}
        if self.max_concurrency is not None:
            out["ScalingConfig"] = {"MaximumConcurrency": self.max_concurrency}
        return out

    def to_doc(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "account_id": self.account_id,
            "region": self.region,
            "function_arn": self.function_arn,
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "event_source_arn": self.event_source_arn,
            "batch_size": self.batch_size,
            "window_s": self.window_s,
            "enabled": self.enabled,
            "response_types": list(self.response_types),
            "filters": list(self.filters),
            "filter_criteria_set": self.filter_criteria_set,
            "max_concurrency": self.max_concurrency,
            "last_modified": self.last_modified,
            "tags": self.tags,
        }

    @classmethod
    def from_doc(cls, value: dict[str, Any]) -> EventSourceMapping:
        return cls(
            uuid=value["uuid"],
            account_id=value["account_id"],
            region=value["region"],
            function_arn=value["function_arn"],
            function_name=value["function_name"],
            qualifier=value.get("qualifier"),
            event_source_arn=value["event_source_arn"],
            batch_size=int(value.get("batch_size", DEFAULT_BATCH_SIZE)),
            window_s=int(value.get("window_s", 0)),
            enabled=bool(value.get("enabled", True)),
            response_types=tuple(value.get("response_types", ())),
            filters=tuple(value.get("filters", ())),
            filter_criteria_set=bool(value.get("filter_criteria_set", False)),
            max_concurrency=value.get("max_concurrency"),
            last_modified=float(value.get("last_modified", 0.0)),
            tags=dict(value.get("tags", {})),
        )


@dataclass(frozen=True, kw_only=True)
class MappingInput:
    """What a Create or Update request asks for; None = not given."""

    function_name: str | None = None
    event_source_arn: str | None = None
    batch_size: int | None = None
    window_s: int | None = None
    enabled: bool | None = None
    response_types: tuple[str, ...] | None = None
    filters: tuple[str, ...] | None = None
    max_concurrency: int | None = None
    scaling_given: bool = False
    starting_position: bool = False
    destination_config: bool = False
    tags: dict[str, str] | None = None


def _wrong_type(detail: str) -> InvalidRequestContent:
    return InvalidRequestContent(f"Could not parse request body into json: {detail}")


def _int(body: dict[str, Any], name: str, path: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(f"{name} must be an integer")
    if value < low:
        raise validation_error(
            value, path, f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise validation_error(value, path, f"Member must have value less than or equal to {high}")
    return value


def parse_input(body: dict[str, Any], *, create: bool) -> MappingInput:
    """Types and model constraints of a Create/Update body (ValidationException)."""
    for name in ("FunctionName", "EventSourceArn"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise _wrong_type(f"{name} must be a string")
    enabled = body.get("Enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise _wrong_type("Enabled must be a boolean")
    batch = _int(body, "BatchSize", "batchSize", 1, MAX_BATCH_SIZE)
    window = _int(
        body, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, MAX_WINDOW_S
    )
    position = body.get("StartingPosition")
    if position is not None and position not in STARTING_POSITIONS:
        raise validation_error(
            position, "startingPosition",
            "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
        )  # fmt: skip
    types = body.get("FunctionResponseTypes")
    response_types: tuple[str, ...] | None = None
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise _wrong_type("FunctionResponseTypes must be a list")
        if len(types) > 1:
            raise validation_error(
                "[" + ", ".join(types) + "]", "functionResponseTypes",
                "Member must have length less than or equal to 1",
            )  # fmt: skip
        if any(t != REPORT_BATCH_ITEM_FAILURES for t in types):
            raise validation_error(
                "[" + ", ".join(types) + "]", "functionResponseTypes",
                "Member must satisfy constraint: [Member must satisfy enum value set:"
                " [ReportBatchItemFailures]]",
            )  # fmt: skip
        response_types = tuple(types)
    scaling = body.get("ScalingConfig")
    max_concurrency = None
    if scaling is not None:
        if not isinstance(scaling, dict):
            raise _wrong_type("ScalingConfig must be an object")
        max_concurrency = _int(
            scaling, "MaximumConcurrency", "scalingConfig.maximumConcurrency", 2, 1000
        )
    filters = _filters(body.get("FilterCriteria"))
    tags = body.get("Tags")
    if tags is not None and (
        not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values())
    ):
        raise _wrong_type("Tags must be a map")
    return MappingInput(
        function_name=body.get("FunctionName"),
        event_source_arn=body.get("EventSourceArn"),
        batch_size=batch,
        window_s=window,
        enabled=enabled,
        response_types=response_types,
        filters=filters,
        max_concurrency=max_concurrency,
        scaling_given=scaling is not None,
        starting_position=position is not None or body.get("StartingPositionTimestamp") is not None,
        destination_config=bool(body.get("DestinationConfig")),
        tags=tags,
    )


def _filters(criteria: object) -> tuple[str, ...] | None:
    """FilterCriteria's patterns, each compiled once by the EventBridge engine."""
    if criteria is None:
        return None
    if not isinstance(criteria, dict):
        raise _wrong_type("FilterCriteria must be an object")
    raw = criteria.get("Filters") or []
    if not isinstance(raw, list):
        raise _wrong_type("Filters must be a list")
    if len(raw) > MAX_FILTERS:
        raise InvalidParameterValue(
            f"Too many filters: an event source mapping takes at most {MAX_FILTERS} patterns."
        )
    patterns = []
    for item in raw:
        pattern = item.get("Pattern") if isinstance(item, dict) else None
        if not pattern or not isinstance(pattern, str) or len(pattern) > 4096:
            raise InvalidParameterValue("Invalid filter pattern definition.")
        compile_filter(pattern)
        patterns.append(pattern)
    return tuple(patterns)


def compile_filter(pattern: str) -> Any:
    from sendoff.services.events_pattern import InvalidEventPattern, compile_pattern

    try:
        return compile_pattern(pattern)
    except InvalidEventPattern:
        raise InvalidParameterValue("Invalid filter pattern definition.") from None


def check_source_arn(arn: str | None) -> None:
    """Only SQS queues are event sources here (sendoff has no Kinesis, DynamoDB or Kafka)."""
    if not arn:
        raise InvalidParameterValue("Unrecognized event source.")
    match = _SOURCE_ARN.match(arn)
    if match is None:
        raise validation_error(
            arn, "eventSourceArn",
            f"Member must satisfy regular expression pattern: {ARN_PATTERN}",
        )  # fmt: skip
    if arn_service(arn) != "sqs":
        raise InvalidParameterValue("Unrecognized event source.")


def check_sqs_rules(mapping: EventSourceMapping, given: MappingInput, *, fifo: bool) -> None:
    """The service rules on a mapping as it would be after the request."""
    if given.destination_config:
        raise InvalidParameterValue(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    if given.starting_position:
        raise InvalidParameterValue("StartingPosition is not valid for SQS event sources.")
    if fifo and mapping.window_s > 0:
        raise InvalidParameterValue("Batching window is not supported for FIFO queues")
    if fifo and mapping.batch_size > FIFO_MAX_BATCH_SIZE:
        raise InvalidParameterValue(
            f"BatchSize must be between 1 and {FIFO_MAX_BATCH_SIZE} for FIFO queues."
        )
    if mapping.batch_size > 10 and mapping.window_s == 0:
        raise InvalidParameterValue(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is"
            " greater than 10"
        )


def apply(mapping: EventSourceMapping, given: MappingInput, *, now: float) -> EventSourceMapping:
    """The mapping with the request's settings applied (Update's merge)."""
    changes: dict[str, Any] = {"last_modified": now}
    if given.batch_size is not None:
        changes["batch_size"] = given.batch_size
    if given.window_s is not None:
        changes["window_s"] = given.window_s
    if given.enabled is not None:
        changes["enabled"] = given.enabled
    if given.response_types is not None:
        changes["response_types"] = given.response_types
    if given.filters is not None:
        changes["filters"] = given.filters
        changes["filter_criteria_set"] = bool(given.filters)
    if given.scaling_given:
        changes["max_concurrency"] = given.max_concurrency
    return replace(mapping, **changes)


def filters_json(mapping: EventSourceMapping) -> list[Any]:
    return [json.loads(p) for p in mapping.filters]
