"""Type and constraint checks of Lambda request bodies, before any handler reads them.

Lambda's front end binds the whole JSON body to the operation's input shape first: a
member of the wrong JSON type (``DeadLetterConfig: "x"``, ``Tags: [1, 2]``) fails there,
as ``InvalidRequestContentException`` ("Could not parse request body into json: ..."),
before any constraint is looked at. Constraint violations then answer
``ValidationException`` in the Coral wording, as recorded from AWS in
/work/shared/aws-recordings/lambda/test_lambda_api.snapshot.json (``architectures``,
``layers``, ``routingConfig.additionalVersionWeights``). The exact Jackson text AWS
gives for a type mismatch is not recorded; the code is, and the message names the member.

Only the members sendoff reads or must refuse are checked here; the handlers keep their
own checks of values (runtimes, roles, environment variables, ARNs).
"""

from __future__ import annotations

import re
from typing import Any

from sendoff.api.json_shapes import Shape
from sendoff.functions.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    ValidationFailed,
)

ARCHITECTURES = ["x86_64", "arm64"]
TRACING_MODES = ["Active", "PassThrough"]
LAYER_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}"
    r":layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
MAX_LAYERS = 5
_STRUCTURES = ("Code", "Environment", "VpcConfig", "ImageConfig", "SnapStart",
               "LoggingConfig", "KMSKeyArn")  # fmt: skip


class WrongType(InvalidRequestContent):
    """A member of the wrong JSON type: the body does not bind to the input shape."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Could not parse request body into json: {detail}")


class LambdaShape(Shape):
    invalid = ValidationFailed
    wrong_type = WrongType


def _boolean(shape: Shape, name: str) -> None:
    value = shape.body.get(name)
    if value is not None and not isinstance(value, bool):
        shape._fail(value, name, "be a boolean")


def _string_map(shape: Shape, name: str) -> None:
    value = shape.body.get(name)
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        shape._fail(value, name, "be a map of strings to strings")


def _enum_list(shape: Shape, name: str, allowed: list[str]) -> None:
    """Architectures: a list of exactly one enum value (AWS's wording for both checks)."""
    value = shape.body.get(name)
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        shape._fail(value, name, "be a list of strings")
        return
    shown = "[" + ", ".join(value) + "]"
    if len(value) > 1:
        shape._fail(shown, name, "have length less than or equal to 1")
    elif len(value) < 1:
        shape._fail(shown, name, "have length greater than or equal to 1")
    elif any(v not in allowed for v in value):
        shape._fail(
            shown,
            name,
            "satisfy constraint: [Member must satisfy enum value set: "
            f"[{', '.join(allowed)}], Member must not be null]",
        )


def _layers(shape: Shape) -> list[str]:
    value = shape.body.get("Layers")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        shape._fail(value, "Layers", "be a list of strings")
        return []
    if any(not 1 <= len(v) <= 2048 or not re.fullmatch(LAYER_PATTERN, v) for v in value):
        shape._fail(
            "[" + ", ".join(value) + "]",
            "Layers",
            "satisfy constraint: [Member must have length less than or equal to 2048, Member"
            " must have length greater than or equal to 1, Member must satisfy regular"
            f" expression pattern: {LAYER_PATTERN}, Member must not be null]",
        )
        return []
    return value


def check_function_body(body: dict[str, Any], *, create: bool) -> None:
    """CreateFunction / UpdateFunctionConfiguration members sendoff reads or refuses."""
    shape = LambdaShape(body)
    for name in _STRUCTURES:
        if name != "KMSKeyArn":
            shape.struct(name)
    shape.string("Description")
    shape.string("KMSKeyArn")
    shape.integer("Timeout", low=-(2**63), high=2**63)  # ranges: the handler's checks
    shape.integer("MemorySize", low=-(2**63), high=2**63)
    _boolean(shape, "Publish")
    _enum_list(shape, "Architectures", ARCHITECTURES)
    if (storage := shape.struct("EphemeralStorage")) is not None:
        storage.integer("Size", low=512, high=10240)
        if storage.body.get("Size") is None:
            storage._fail(None, "Size", "not be null")
    if (tracing := shape.struct("TracingConfig")) is not None:
        tracing.string("Mode", allowed=TRACING_MODES)
    if (dead_letter := shape.struct("DeadLetterConfig")) is not None:
        dead_letter.string("TargetArn")
    if create:
        _string_map(shape, "Tags")
    layers = _layers(shape)
    shape.done()
    if len(layers) > MAX_LAYERS:
        raise InvalidParameterValue("Cannot reference more than 5 layers.")
    if layers:
        raise InvalidParameterValue(
            f"Layer version {layers[0]} does not exist. (sendoff does not support layers.)"
        )


def check_alias_body(body: dict[str, Any]) -> None:
    """CreateAlias / UpdateAlias: RoutingConfig's weights are a map of version to number."""
    shape = LambdaShape(body)
    shape.string("Name")
    shape.string("FunctionVersion")
    shape.string("Description")
    shape.string("RevisionId")
    if (routing := shape.struct("RoutingConfig")) is not None:
        weights = routing.body.get("AdditionalVersionWeights")
        if weights is not None and (
            not isinstance(weights, dict)
            or not all(
                isinstance(w, int | float) and not isinstance(w, bool) for w in weights.values()
            )
        ):
            routing._fail(weights, "AdditionalVersionWeights", "be a map of strings to numbers")
    shape.done()


def check_event_invoke_body(body: dict[str, Any]) -> None:
    """Put/UpdateFunctionEventInvokeConfig: DestinationConfig is two nested structures."""
    shape = LambdaShape(body)
    if (destinations := shape.struct("DestinationConfig")) is not None:
        for key in ("OnSuccess", "OnFailure"):
            if (target := destinations.struct(key)) is not None:
                target.string("Destination")
    shape.done()
