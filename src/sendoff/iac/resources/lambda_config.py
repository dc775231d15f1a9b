"""AWS::Lambda::EventInvokeConfig and ::Permission, through the Lambda API.

An EventInvokeConfig is keyed by function and qualifier (both create-only, facts §9.1);
an update replaces the whole configuration, as PutFunctionEventInvokeConfig does.
A Permission is one statement of the function's resource policy (AddPermission), its
statement id the resource's physical name; deleting it (or the stack) removes the
statement. A qualified FunctionName (an alias or version ARN) adds it to that one's policy.
"""

from __future__ import annotations

from typing import ClassVar

from sendoff.iac.errors import Path, Problem
from sendoff.iac.resources.base import (
    Applied,
    Cloud,
    Prop,
    ResourceType,
    already_exists,
    integer,
    is_not_found,
    string,
)
from sendoff.iac.resources.lambda_ import function_name_of
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

_DESTINATION = Prop(kind="map", fields={"Destination": string(required=True, max_len=350)})


class EventInvokeConfig(ResourceType):
    type_name = "AWS::Lambda::EventInvokeConfig"
    schema: ClassVar[dict[str, Prop]] = {
        "FunctionName": string(required=True, create_only=True),
        "Qualifier": string(required=True, create_only=True),
        "MaximumEventAgeInSeconds": integer(60, 21600),
        "MaximumRetryAttempts": integer(0, 2),
        "DestinationConfig": Prop(
            kind="map", fields={"OnSuccess": _DESTINATION, "OnFailure": _DESTINATION}
        ),
    }

    def check(self, props: JSON, path: Path) -> list[Problem]:
        keys = ("MaximumEventAgeInSeconds", "MaximumRetryAttempts", "DestinationConfig")
        if not any(k in props for k in keys):
            return [Problem(path=path, message="give at least one of " + ", ".join(keys))]
        return []

    @staticmethod
    def _params(props: JSON) -> JSON:
        params: JSON = {"FunctionName": props["FunctionName"], "Qualifier": props["Qualifier"]}
        for key in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts"):
            if key in props:
                params[key] = props[key]
        destinations = props.get("DestinationConfig")
        if destinations is not None:
            params["DestinationConfig"] = {
                k: {"Destination": v["Destination"]}
                for k, v in destinations.items()
                if isinstance(v, dict)
            }
        return params

    @staticmethod
    def _id(props: JSON) -> str:
        return f"{function_name_of(str(props['FunctionName']))}:{props['Qualifier']}"

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        lam = cloud.client("lambda")
        try:
            lam.get_function_event_invoke_config(
                FunctionName=props["FunctionName"], Qualifier=props["Qualifier"]
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, f"the config of {self._id(props)}")
        lam.put_function_event_invoke_config(**self._params(props))
        return Applied(physical_id=self._id(props), ref=self._id(props))

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        cloud.client("lambda").put_function_event_invoke_config(**self._params(props))
        return Applied(physical_id=current.physical_id, ref=current.ref)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        props = current.properties
        try:
            cloud.client("lambda").delete_function_event_invoke_config(
                FunctionName=props["FunctionName"], Qualifier=props["Qualifier"]
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise


class Permission(ResourceType):
    """A statement in the function's resource-based policy (``functions.policy``)."""

    type_name = "AWS::Lambda::Permission"
    schema: ClassVar[dict[str, Prop]] = {
        "Action": string(required=True),
        "FunctionName": string(required=True, create_only=True),
        "Principal": string(required=True, create_only=True),
        "SourceArn": string(create_only=True),
        "SourceAccount": string(create_only=True),
        "EventSourceToken": string(create_only=True),
        "FunctionUrlAuthType": string(create_only=True, choices=("NONE", "AWS_IAM")),
        "PrincipalOrgID": string(create_only=True),
        "InvokedViaFunctionUrl": Prop(kind="boolean", create_only=True),
    }
    _OPTIONAL = ("SourceArn", "SourceAccount", "EventSourceToken", "FunctionUrlAuthType",
                 "PrincipalOrgID", "InvokedViaFunctionUrl")  # fmt: skip

    def _add(self, cloud: Cloud, statement_id: str, props: JSON) -> None:
        params: JSON = {
            "FunctionName": props["FunctionName"],
            "StatementId": statement_id,
            "Action": props["Action"],
            "Principal": props["Principal"],
        }
        params.update({key: props[key] for key in self._OPTIONAL if key in props})
        cloud.client("lambda").add_permission(**params)

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        statement_id = cloud.physical_name(logical_id, max_len=64)
        self._add(cloud, statement_id, props)
        return Applied(physical_id=statement_id, ref=statement_id)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        self.delete(cloud, current)  # only Action can change in place: same statement id
        self._add(cloud, current.physical_id, props)
        return Applied(physical_id=current.physical_id, ref=current.ref)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("lambda").remove_permission(
                FunctionName=current.properties["FunctionName"], StatementId=current.physical_id
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise
