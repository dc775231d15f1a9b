"""AWS::Events::EventBus and AWS::Events::Rule (with Targets) through the EventBridge API.

``Ref`` of a bus is its name; of a rule, its name (``bus|name`` on a custom bus, as
CloudFormation returns). An update of a rule puts the rule again, removes the targets that
are gone and puts the rest.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from sendoff.iac.errors import Path, Problem, ResourceFailed
from sendoff.iac.resources.base import (
    IGNORED,
    TAGS,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    already_exists,
    error_code,
    is_not_found,
    string,
    tags_dict,
)
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

NAME = r"[\.\-_A-Za-z0-9]{1,64}"
TARGET_FIELDS: dict[str, Prop] = {
    "Id": string(required=True, pattern=NAME),
    "Arn": string(required=True),
    "RoleArn": string(),
    "Input": string(),
    "InputPath": string(),
    "InputTransformer": Prop(kind="map"),
    "SqsParameters": Prop(kind="map"),
    "DeadLetterConfig": Prop(kind="map"),
    "RetryPolicy": Prop(kind="map"),
    **{
        name: IGNORED
        for name in (
            "EcsParameters", "HttpParameters", "KinesisParameters", "RunCommandParameters",
            "BatchParameters", "RedshiftDataParameters", "SageMakerPipelineParameters",
            "AppSyncParameters",
        )
    },
}  # fmt: skip


class EventBus(ResourceType):
    type_name = "AWS::Events::EventBus"
    name_property = "Name"
    attributes = frozenset({"Arn", "Name"})
    schema: ClassVar[dict[str, Prop]] = {
        "Name": string(required=True, create_only=True, pattern=r"[/\.\-_A-Za-z0-9]{1,256}"),
        "Description": string(max_len=512),
        "Tags": TAGS,
        **{
            name: IGNORED
            for name in (
                "EventSourceName", "Policy", "DeadLetterConfig", "KmsKeyIdentifier", "LogConfig",
            )
        },
    }  # fmt: skip

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        params: JSON = {"Name": props["Name"]}
        if "Description" in props:
            params["Description"] = props["Description"]
        if props.get("Tags"):
            params["Tags"] = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
        try:
            arn = cloud.client("events").create_event_bus(**params)["EventBusArn"]
        except Exception as exc:
            if error_code(exc) == "ResourceAlreadyExistsException":
                raise already_exists(logical_id, self.type_name, props["Name"]) from exc
            raise
        return Applied(physical_id=props["Name"], ref=props["Name"],
                       attributes={"Arn": arn, "Name": props["Name"]})  # fmt: skip

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        # the description is kept in the stack: the bus API has no update
        return Applied(physical_id=current.physical_id, ref=current.ref,
                       attributes=current.attributes)  # fmt: skip

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("events").delete_event_bus(Name=current.physical_id)
        except Exception as exc:
            if not is_not_found(exc):
                raise


class Rule(ResourceType):
    type_name = "AWS::Events::Rule"
    attributes = frozenset({"Arn"})
    schema: ClassVar[dict[str, Prop]] = {
        "Name": string(create_only=True, pattern=NAME),
        "EventBusName": string(create_only=True),
        "EventPattern": Prop(kind="json"),
        "ScheduleExpression": string(max_len=256),
        "State": string(
            choices=("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
        ),
        "Description": string(max_len=512),
        "RoleArn": string(),
        "Targets": Prop(kind="list", fields=TARGET_FIELDS),
    }

    def check(self, props: JSON, path: Path) -> list[Problem]:
        if "EventPattern" not in props and "ScheduleExpression" not in props:
            return [Problem(path=path, message="give EventPattern or ScheduleExpression")]
        ids = [t.get("Id") for t in props.get("Targets") or []]
        duplicates = sorted({i for i in ids if ids.count(i) > 1 and isinstance(i, str)})
        if duplicates:
            message = f"target ids must be unique: {', '.join(duplicates)}"
            return [Problem(path=(*path, "Targets"), message=message)]
        return []

    @staticmethod
    def _bus(props: JSON) -> str:
        bus = str(props.get("EventBusName") or "default")
        return bus.split("event-bus/", 1)[1] if bus.startswith("arn:") else bus

    @staticmethod
    def _rule_params(name: str, bus: str, props: JSON) -> JSON:
        params: JSON = {"Name": name, "EventBusName": bus}
        pattern = props.get("EventPattern")
        if pattern is not None:
            params["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for key in ("ScheduleExpression", "State", "Description", "RoleArn"):
            if key in props:
                params[key] = props[key]
        return params

    @staticmethod
    def _put_targets(events: Any, logical_id: str, name: str, bus: str, props: JSON) -> None:
        targets = [
            {k: v for k, v in t.items() if k in TARGET_FIELDS and not TARGET_FIELDS[k].ignored}
            for t in props.get("Targets") or []
        ]
        if not targets:
            return
        result = events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        if result.get("FailedEntryCount"):
            failures = "; ".join(
                f"{e.get('TargetId')}: {e.get('ErrorMessage')}" for e in result["FailedEntries"]
            )
            raise ResourceFailed(logical_id, f"targets failed: {failures}", prop="Targets")

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        events = cloud.client("events")
        name = props.get("Name") or cloud.physical_name(logical_id, max_len=64)
        bus = self._bus(props)
        try:
            events.describe_rule(Name=name, EventBusName=bus)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, name)
        arn = events.put_rule(**self._rule_params(name, bus, props))["RuleArn"]
        try:
            self._put_targets(events, logical_id, name, bus, props)
        except Exception:
            events.delete_rule(Name=name, EventBusName=bus)
            raise
        ref = name if bus == "default" else f"{bus}|{name}"
        return Applied(physical_id=ref, ref=ref, attributes={"Arn": arn, "_Name": name})

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        events = cloud.client("events")
        name, bus = current.attributes["_Name"], self._bus(props)
        params = {"State": "ENABLED", "Description": "", **self._rule_params(name, bus, props)}
        events.put_rule(**params)
        wanted = {t["Id"] for t in props.get("Targets") or []}
        gone = [t["Id"] for t in current.properties.get("Targets") or [] if t["Id"] not in wanted]
        if gone:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=gone)
        self._put_targets(events, current.logical_id, name, bus, props)
        return Applied(physical_id=current.physical_id, ref=current.ref,
                       attributes=current.attributes)  # fmt: skip

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        events = cloud.client("events")
        name, bus = current.attributes["_Name"], self._bus(current.properties)
        try:
            ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)
                   .get("Targets", [])]  # fmt: skip
            if ids:
                events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
            events.delete_rule(Name=name, EventBusName=bus)
        except Exception as exc:
            if not is_not_found(exc):
                raise
