"""SAM's ``Events: {E: {Type: S3, Properties: {Bucket, Events, Filter}}}``, as the SAM
translator expands it (samtranslator ``eventsources/push.py``, class ``S3``):

* ``FEPermission`` (``AWS::Lambda::Permission``): ``lambda:InvokeFunction`` for
  ``s3.amazonaws.com`` with ``SourceAccount: !Ref AWS::AccountId`` (SAM names the account,
  not the bucket, which would be a circular reference);
* the bucket (which must be an ``AWS::S3::Bucket`` of the same template, named by
  ``Ref``) gets one ``NotificationConfiguration.LambdaConfigurations`` entry per event,
  ``{Event, Function: <function or alias ARN>, Filter?}``, and ``DependsOn`` the
  permission, so S3 can check the permission when the configuration is put.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sendoff.iac.errors import Problem
from sendoff.model.json_types import JSON

BUCKET_TYPE = "AWS::S3::Bucket"
SAME_TEMPLATE = "S3 events must reference an S3 bucket in the same template."


@dataclass
class BucketPatch:
    """What one S3 event adds to its bucket."""

    bucket: str  # logical id
    configurations: list[JSON] = field(default_factory=list)
    depends_on: str = ""
    where: tuple[str | int, ...] = ()


def s3_event(event_id: str, props: JSON, target: Any, invoke_name: Any) -> tuple[JSON, BucketPatch]:
    """(the permission's properties, the bucket patch); ValueError(message) if invalid."""
    bucket = props.get("Bucket")
    if not isinstance(bucket, dict) or set(bucket) != {"Ref"} or not isinstance(bucket["Ref"], str):
        raise ValueError(SAME_TEMPLATE)
    events = props.get("Events")
    names = [events] if isinstance(events, str) else events
    if not isinstance(names, list) or not names or not all(isinstance(e, str) for e in names):
        raise ValueError("Events must be an S3 event name or a list of them")
    entries: list[JSON] = []
    for name in names:
        entry: JSON = {"Event": name, "Function": target}
        if "Filter" in props:
            entry["Filter"] = props["Filter"]
        entries.append(entry)
    permission: JSON = {
        "Action": "lambda:InvokeFunction",
        "FunctionName": invoke_name,
        "Principal": "s3.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }
    patch = BucketPatch(bucket=bucket["Ref"], configurations=entries,
                        depends_on=f"{event_id}Permission")  # fmt: skip
    return permission, patch


def apply_patches(resources: JSON, patches: list[BucketPatch]) -> list[Problem]:
    """Add each patch to its bucket in ``resources`` (in place); problems for bad refs."""
    problems: list[Problem] = []
    for patch in patches:
        bucket = resources.get(patch.bucket)
        if not isinstance(bucket, dict) or bucket.get("Type") != BUCKET_TYPE:
            problems.append(Problem(path=patch.where, message=SAME_TEMPLATE))
            continue
        props = bucket.setdefault("Properties", {})
        config = props.setdefault("NotificationConfiguration", {})
        config.setdefault("LambdaConfigurations", []).extend(patch.configurations)
        depends = bucket.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else list(depends)
        if patch.depends_on not in depends:
            depends.append(patch.depends_on)
        bucket["DependsOn"] = depends
    return problems
