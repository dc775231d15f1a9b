"""AWS::Lambda::EventSourceMapping (SQS queues), through the Lambda API.

``Ref`` is the mapping's UUID, as in CloudFormation; ``Fn::GetAtt`` gives ``Id`` and
``EventSourceMappingArn``. EventSourceArn is create-only (a change makes a new mapping);
every other property is updated in place, a removed one going back to its default.
Stream and Kafka properties are refused by the API itself (sendoff's sources are SQS).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sendoff.iac.resources.base import (
    TAGS,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    integer,
    is_not_found,
    string,
)
from sendoff.iac.state import ResourceState

JSON = dict[str, Any]

DEFAULTS: JSON = {
    "BatchSize": 10,
    "MaximumBatchingWindowInSeconds": 0,
    "Enabled": True,
    "FunctionResponseTypes": [],
    "FilterCriteria": {"Filters": []},
    "ScalingConfig": {},
}


class EventSourceMapping(ResourceType):
    type_name = "AWS::Lambda::EventSourceMapping"
    attributes = frozenset({"Id", "EventSourceMappingArn"})
    schema: ClassVar[dict[str, Prop]] = {
        "FunctionName": string(required=True),
        "EventSourceArn": string(required=True, create_only=True),
        "BatchSize": integer(1, 10_000),
        "MaximumBatchingWindowInSeconds": integer(0, 300),
        "Enabled": Prop(kind="boolean"),
        "FunctionResponseTypes": Prop(kind="list"),
        "ScalingConfig": Prop(kind="map", fields={"MaximumConcurrency": integer(2, 1000)}),
        "FilterCriteria": Prop(
            kind="map", fields={"Filters": Prop(kind="list", fields={"Pattern": string()})}
        ),
        "StartingPosition": string(create_only=True),
        "Tags": TAGS,
    }

    @staticmethod
    def _params(props: JSON) -> JSON:
        params: JSON = {"FunctionName": props["FunctionName"]}
        for key, default in DEFAULTS.items():
            params[key] = props.get(key, default)
        return params

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        params = self._params(props)
        if not params["FilterCriteria"].get("Filters"):
            params.pop("FilterCriteria")
        if not params["ScalingConfig"]:
            params.pop("ScalingConfig")
        if "StartingPosition" in props:
            params["StartingPosition"] = props["StartingPosition"]
        made = cloud.client("lambda").create_event_source_mapping(
            EventSourceArn=props["EventSourceArn"], **params
        )
        return _applied(made)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        made = cloud.client("lambda").update_event_source_mapping(
            UUID=current.physical_id, **self._params(props)
        )
        return _applied(made)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("lambda").delete_event_source_mapping(UUID=current.physical_id)
        except Exception as exc:
            if not is_not_found(exc):
                raise


def _applied(made: JSON) -> Applied:
    uuid = str(made["UUID"])
    return Applied(
        physical_id=uuid,
        ref=uuid,
        attributes={"Id": uuid, "EventSourceMappingArn": made.get("EventSourceMappingArn", "")},
    )
