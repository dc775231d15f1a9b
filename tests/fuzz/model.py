"""botocore's service models, read as the fuzzer's source of truth.

Each :class:`Operation` carries what a request needs (protocol, HTTP binding, input shape)
and what an error answer may say: the operation's modelled errors plus the short list of
errors every endpoint of that protocol may answer (:data:`COMMON_ERRORS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.loaders import Loader

Shape = dict[str, Any]

# Errors any operation of a protocol may answer, although no operation models them: the
# front end's (signature, throttling, size, unknown operation) and the Coral framework's
# (a body that does not deserialize, a member that breaks a constraint). Listed in AWS's
# "Common Errors" pages of the Lambda, SQS, SNS and EventBridge API references.
COMMON_ERRORS: dict[str, frozenset[str]] = {
    "rest-json": frozenset(
        {
            "ValidationException",  # Lambda: "N validation errors detected: ..."
            "InvalidParameterValueException",
            "InvalidRequestContentException",  # Lambda: "Could not parse request body"
            "RequestEntityTooLargeException",
            "UnsupportedMediaTypeException",
            "ResourceNotFoundException",
            "AccessDeniedException",
            "UnrecognizedClientException",
            "TooManyRequestsException",
            "UnknownOperationException",  # no operation at this path and method
        }
    ),
    "json": frozenset(
        {
            "ValidationException",
            "SerializationException",
            "UnknownOperationException",
            "InvalidParameterValue",  # SQS (awsQueryCompatible) common errors
            "MissingParameter",
            # SQS's JSON __type for the two above (recorded from AWS: its QueryErrorCode)
            "InvalidParameterValueException",
            "MissingRequiredParameterException",
            "InvalidParameterCombination",
            "InvalidAction",
            "AccessDeniedException",
            "RequestEntityTooLargeException",
            "UnrecognizedClientException",
            "ThrottlingException",
        }
    ),
    "query": frozenset(
        {
            "InvalidParameter",  # SNS: "Invalid parameter: X Reason: ..."
            "InvalidParameterValue",
            "ValidationError",
            "MissingParameter",
            "MissingAction",
            "InvalidAction",
            "MalformedQueryString",
            "AccessDenied",
            "AuthorizationError",
            "RequestEntityTooLarge",
            "Throttling",
        }
    ),
}

# Errors sendoff answers where the model lists none, each a deliberate choice: an unknown
# name in ReceiveMessage's AttributeNames answers InvalidAttributeName, as the same name
# does in GetQueueAttributes (whose model lists it). AWS's answer there is not recorded.
UNMODELLED_ERRORS: dict[tuple[str, str], frozenset[str]] = {
    ("sqs", "ReceiveMessage"): frozenset({"InvalidAttributeName"}),
}
# CloudWatch Logs words its validation errors as InvalidParameterException ("1 validation
# error detected: ...", recorded from AWS in LocalStack's logs snapshots), on operations
# whose model lists it and on those whose model does not (the deprecated tag operations).
SERVICE_ERRORS: dict[str, frozenset[str]] = {
    "logs": frozenset({"InvalidParameterException", "ResourceNotFoundException"}),
}

# What sendoff implements, per service (the Lambda routes in src/sendoff/api/lambda_*.py;
# SQS, SNS and EventBridge list their own operations, imported in :func:`implemented`).
LAMBDA_OPERATIONS = (
    "CreateFunction", "ListFunctions", "GetFunction", "DeleteFunction",
    "GetFunctionConfiguration", "UpdateFunctionConfiguration", "UpdateFunctionCode",
    "PutFunctionConcurrency", "DeleteFunctionConcurrency", "GetFunctionConcurrency",
    "PutFunctionRecursionConfig", "GetFunctionRecursionConfig", "PublishVersion",
    "ListVersionsByFunction", "CreateAlias", "ListAliases", "GetAlias", "UpdateAlias",
    "DeleteAlias", "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
    "GetFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig",
    "ListFunctionEventInvokeConfigs", "Invoke", "InvokeAsync", "AddPermission",
    "RemovePermission", "GetPolicy",
)  # fmt: skip


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    protocol: str  # rest-json | json | query
    method: str
    uri: str  # path template (rest-json), "/" otherwise
    input: Shape | None
    errors: frozenset[str]
    model: ServiceModel = field(repr=False, compare=False)

    @property
    def allowed_errors(self) -> frozenset[str]:
        return (
            self.errors
            | COMMON_ERRORS[self.protocol]
            | UNMODELLED_ERRORS.get((self.service, self.name), frozenset())
            | SERVICE_ERRORS.get(self.service, frozenset())
        )


class ServiceModel:
    def __init__(self, service: str) -> None:
        self.service = service
        self.raw: dict[str, Any] = Loader().load_service_model(service, "service-2")
        self.metadata = self.raw["metadata"]
        self.protocol: str = self.metadata["protocol"]
        self.shapes: dict[str, Shape] = self.raw["shapes"]

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def error_code(self, shape_name: str) -> str:
        error = self.shapes[shape_name].get("error") or {}
        return str(error.get("code", shape_name))

    def operation(self, name: str) -> Operation:
        op = self.raw["operations"][name]
        http = op.get("http", {})
        return Operation(
            service=self.service,
            name=name,
            protocol=self.protocol,
            method=http.get("method", "POST"),
            uri=re.sub(r"\?.*$", "", http.get("requestUri", "/")),
            input=self.shapes[op["input"]["shape"]] if "input" in op else None,
            errors=frozenset(self.error_code(e["shape"]) for e in op.get("errors", [])),
            model=self,
        )


@cache
def service_model(service: str) -> ServiceModel:
    return ServiceModel(service)


def implemented(service: str) -> list[Operation]:
    """The operations of ``service`` that sendoff answers, from sendoff's own lists."""
    if service == "lambda":
        names: tuple[str, ...] = LAMBDA_OPERATIONS
    elif service == "sqs":
        from sendoff.api.sqs import OPERATIONS as names
    elif service == "events":
        from sendoff.api.events import OPERATIONS as names
    elif service == "logs":
        from sendoff.api.logs import OPERATIONS as names
    elif service == "sns":
        from sendoff.api.sns import SnsApi

        names = tuple(sorted(SnsApi(None, account_id="0", default_region="x").actions))  # type: ignore[arg-type]
    else:
        raise ValueError(service)
    model = service_model(service)
    return [model.operation(name) for name in names]
