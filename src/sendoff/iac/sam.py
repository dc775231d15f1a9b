"""The SAM transform (``Transform: AWS::Serverless-2016-10-31``), as a pure function.

``transform(body)`` expands every ``AWS::Serverless::Function`` the way the SAM translator
does, with its logical ids, so references written against SAM's output keep working:

========================================  ============================================
SAM property                              generated resources
========================================  ============================================
(always)                                  ``F`` AWS::Lambda::Function, ``FRole`` (no Role)
AutoPublishAlias: live                    ``FVersion<hash>`` (Retain), ``FAliaslive``
EventInvokeConfig                         ``FEventInvokeConfig`` (Qualifier: alias or
                                          $LATEST); a missing SQS/SNS Destination adds
                                          ``FEventInvokeConfigOnSuccessQueue`` / ``...Topic``
DeadLetterQueue: {Type, TargetArn}        ``DeadLetterConfig`` on ``F``
Events.E (SNS)                            ``FE`` AWS::SNS::Subscription, ``FEPermission``
Events.E (SQS)                            ``FE`` AWS::Lambda::EventSourceMapping
Events.E (S3)                             ``FEPermission``; the bucket's notification
                                          configuration and DependsOn (``iac.sam_s3``)
Events.E (EventBridgeRule, Schedule, ...)  ``FE`` AWS::Events::Rule, ``FEPermission``
========================================  ============================================

``Globals.Function`` is merged first (maps merged, lists appended, the function's own
scalars win). ``Ref: F.Alias``, ``F.Version``, ``F.DestinationQueue`` and
``F.DestinationTopic`` are rewritten to the generated logical ids. Other
``AWS::Serverless::*`` types are left alone (reported as unsupported later).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from sendoff.destinations.registry import kind_for_sam_type, kinds
from sendoff.iac.errors import Path, Problem, TemplateError
from sendoff.iac.intrinsics import function_of
from sendoff.iac.sam_s3 import BucketPatch, apply_patches, s3_event
from sendoff.model.json_types import JSON

FUNCTION = "AWS::Serverless::Function"
# The Types SAM knows; each is sendoff's when a destination kind has it (sendoff.destinations)
SAM_DESTINATION_TYPES = ("SQS", "SNS", "EventBridge", "Lambda", "S3")
DESTINATION_TYPES = SAM_DESTINATION_TYPES + tuple(
    k.sam.name for k in kinds() if k.sam.name not in SAM_DESTINATION_TYPES
)
AUTO_CREATED = tuple(
    t for t in DESTINATION_TYPES if (k := kind_for_sam_type(t)) and k.sam.auto_create
)
BASIC_EXECUTION = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Action": ["sts:AssumeRole"], "Effect": "Allow",
         "Principal": {"Service": ["lambda.amazonaws.com"]}}
    ],
}  # fmt: skip
DESTINATION_ACTIONS = {k.sam.name: k.sam.action for k in kinds()}
# SAM property -> AWS::Lambda::Function property (copied as they are)
PASSED = {
    "FunctionName": "FunctionName", "Handler": "Handler", "Runtime": "Runtime",
    "Description": "Description", "MemorySize": "MemorySize", "Timeout": "Timeout",
    "Environment": "Environment", "ReservedConcurrentExecutions": "ReservedConcurrentExecutions",
    "Architectures": "Architectures", "EphemeralStorage": "EphemeralStorage",
    "Layers": "Layers", "VpcConfig": "VpcConfig", "KmsKeyArn": "KmsKeyArn",
    "PackageType": "PackageType", "LoggingConfig": "LoggingConfig",
    "RecursiveLoop": "RecursiveLoop", "SnapStart": "SnapStart",
    "RuntimeManagementConfig": "RuntimeManagementConfig",
    "FileSystemConfigs": "FileSystemConfigs", "ImageConfig": "ImageConfig",
    "CodeSigningConfigArn": "CodeSigningConfigArn",
}  # fmt: skip
HANDLED = {
    "CodeUri", "InlineCode", "Role", "Policies", "AssumeRolePolicyDocument", "RolePath",
    "PermissionsBoundary", "Tags", "Tracing", "DeadLetterQueue", "EventInvokeConfig",
    "AutoPublishAlias", "AutoPublishCodeSha256", "VersionDescription", "Events",
    "ProvisionedConcurrencyConfig", "AutoPublishAliasAllProperties", "DeploymentPreference",
}  # fmt: skip
KNOWN = frozenset(PASSED) | frozenset(HANDLED)
GLOBAL_KEYS = KNOWN - {"FunctionName", "Events", "AutoPublishCodeSha256"}
EVENT_TYPES = ("SNS", "SQS", "S3", "EventBridgeRule", "CloudWatchEvent", "Schedule")
SQS_EVENT_KEYS = ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes",
                  "ScalingConfig", "FilterCriteria", "Enabled")  # fmt: skip
REFERABLE = (
    "Alias",
    "Version",
    *(k.sam.auto_create.referable for k in kinds() if k.sam.auto_create),
)
RESOURCE_ATTRIBUTES = (
    "Condition",
    "DependsOn",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
)


def default_digest(code: Any) -> str:
    return hashlib.sha256(json.dumps(code, sort_keys=True).encode()).hexdigest()


def transform(body: JSON, *, code_digest: Callable[[Any], str] = default_digest) -> JSON:
    """The template with every AWS::Serverless::Function expanded; TemplateError if wrong."""
    out = copy.deepcopy(body)
    globals_ = (out.pop("Globals", None) or {}).get("Function") or {}
    out.pop("Transform", None)
    problems: list[Problem] = []
    for key in globals_:
        if key not in GLOBAL_KEYS:
            message = f"{key!r} is not a supported property of Globals.Function"
            problems.append(Problem(path=("Globals", "Function", key), message=message))
    globals_ = {k: v for k, v in globals_.items() if k in GLOBAL_KEYS}
    resources: JSON = {}
    referable: dict[tuple[str, str], str] = {}
    bucket_patches: list[BucketPatch] = []
    for logical_id, resource in (out.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != FUNCTION:
            resources[logical_id] = resource
            continue
        expansion = _Function(logical_id, resource, globals_, code_digest)
        try:
            resources.update(expansion.expand())
        except _Invalid as exc:
            problems.append(exc.problem)
            continue
        referable.update({(logical_id, k): v for k, v in expansion.referable.items()})
        bucket_patches += expansion.bucket_patches
    problems += apply_patches(resources, bucket_patches)
    if problems:
        raise TemplateError(problems)
    out["Resources"] = resources
    for section in ("Resources", "Outputs"):
        if section in out:
            out[section] = _rewrite(out[section], referable)
    return out


class _Invalid(Exception):
    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(path=path, message=message)


def merge_globals(global_value: Any, local: Any) -> Any:
    """SAM's rule: maps merge (local wins), lists append, scalars and intrinsics are local."""
    if isinstance(global_value, dict) and isinstance(local, dict):
        if function_of(global_value) or function_of(local):
            return local
        merged = dict(global_value)
        for key, value in local.items():
            merged[key] = merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local, list):
        return global_value + local
    return local


class _Function:
    def __init__(
        self, logical_id: str, resource: JSON, globals_: JSON, digest: Callable[[Any], str]
    ) -> None:
        self.id = logical_id
        self.resource = resource
        self.path: Path = ("Resources", logical_id, "Properties")
        props = resource.get("Properties") or {}
        if not isinstance(props, dict):
            raise _Invalid(self.path, "must be a mapping")
        self.props = merge_globals(copy.deepcopy(globals_), props)
        self.digest = digest
        self.out: JSON = {}
        self.referable: dict[str, str] = {}
        self.policies: list[JSON] = []
        self.bucket_patches: list[BucketPatch] = []  # S3 events: added to their buckets

    def fail(self, where: tuple[str | int, ...], message: str) -> _Invalid:
        return _Invalid((*self.path, *where), message)

    def add(self, logical_id: str, type_name: str, props: JSON, **extra: Any) -> None:
        resource: JSON = {"Type": type_name, "Properties": props}
        if "Condition" in self.resource:
            resource["Condition"] = self.resource["Condition"]
        resource.update(extra)
        self.out[logical_id] = resource

    def expand(self) -> JSON:
        p = self.props
        for key in p:
            if key not in KNOWN:
                raise self.fail(
                    (key,), f"property {key!r} not defined for resource of type {FUNCTION}"
                )
        if "DeploymentPreference" in p:
            raise self.fail(
                ("DeploymentPreference",),
                "gradual deployments (CodeDeploy) are not supported by sendoff",
            )
        fn: JSON = {target: p[source] for source, target in PASSED.items() if source in p}
        fn["Code"] = self._code()
        if "Tracing" in p:
            fn["TracingConfig"] = {"Mode": p["Tracing"]}
        tags = p.get("Tags") or {}
        if not isinstance(tags, dict):
            raise self.fail(("Tags",), "must be a map of strings")
        fn["Tags"] = [{"Key": "lambda:createdBy", "Value": "SAM"}] + [
            {"Key": k, "Value": v} for k, v in tags.items()
        ]
        if "DeadLetterQueue" in p:
            fn["DeadLetterConfig"] = self._dead_letter(p["DeadLetterQueue"])
        alias = p.get("AutoPublishAlias")
        target = {"Fn::GetAtt": [self.id, "Arn"]}
        invoke_name: Any = {"Ref": self.id}
        if alias is not None:
            alias_id = self._publish(alias, fn)
            target = invoke_name = {"Ref": alias_id}
        if "EventInvokeConfig" in p:
            self._event_invoke_config(p["EventInvokeConfig"], alias)
        for name, event in (p.get("Events") or {}).items():
            self._event(name, event, target, invoke_name)
        if "Role" in p:
            fn["Role"] = p["Role"]
        else:
            self._role()
            fn["Role"] = {"Fn::GetAtt": [f"{self.id}Role", "Arn"]}
        extra = {k: self.resource[k] for k in RESOURCE_ATTRIBUTES if k in self.resource}
        extra.pop("Condition", None)
        self.add(self.id, "AWS::Lambda::Function", fn, **extra)
        return dict(sorted(self.out.items(), key=lambda kv: kv[0] != self.id))

    def _code(self) -> Any:
        p = self.props
        if "InlineCode" in p:
            return {"ZipFile": p["InlineCode"]}
        code = p.get("CodeUri")
        if code is None:
            raise self.fail(("CodeUri",), "give CodeUri (a local directory or zip) or InlineCode")
        if isinstance(code, dict) and "Bucket" in code:
            out = {"S3Bucket": code["Bucket"], "S3Key": code.get("Key")}
            if "Version" in code:
                out["S3ObjectVersion"] = code["Version"]
            return out
        if isinstance(code, str) and code.startswith("s3://"):
            location, _, query = code.removeprefix("s3://").partition("?")
            bucket, _, key = location.partition("/")
            if not bucket or not key:
                raise self.fail(("CodeUri",), "an S3 CodeUri is s3://bucket/key")
            out = {"S3Bucket": bucket, "S3Key": key}
            version = parse_qs(query).get("versionId")  # s3://b/k?versionId=v, as SAM takes
            if version:
                out["S3ObjectVersion"] = version[0]
            return out
        return code

    def _dead_letter(self, dlq: Any) -> JSON:
        if not isinstance(dlq, dict) or dlq.get("Type") not in ("SQS", "SNS"):
            raise self.fail(("DeadLetterQueue",), "needs Type (SQS or SNS) and TargetArn")
        if "TargetArn" not in dlq:
            raise self.fail(("DeadLetterQueue", "TargetArn"), "required property is missing")
        action = "sqs:SendMessage" if dlq["Type"] == "SQS" else "sns:Publish"
        self._policy("DeadLetterQueuePolicy", action, dlq["TargetArn"])
        return {"TargetArn": dlq["TargetArn"]}

    def _policy(self, name: str, action: str, resource: Any) -> None:
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Action": action, "Effect": "Allow", "Resource": resource}],
        }
        self.policies.append({"PolicyName": f"{self.id}{name}", "PolicyDocument": document})

    def _publish(self, alias: Any, fn: JSON) -> str:
        if not isinstance(alias, str) or not alias:
            raise self.fail(("AutoPublishAlias",), "must be an alias name")
        p = self.props
        data = [
            self.digest(fn["Code"]),
            p.get("Environment"),
            p.get("MemorySize"),
            p.get("AutoPublishCodeSha256"),
        ]
        suffix = hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        version_id = f"{self.id}Version{suffix[:10]}"
        version: JSON = {"FunctionName": {"Ref": self.id}}
        if "VersionDescription" in p:
            version["Description"] = p["VersionDescription"]
        if "AutoPublishCodeSha256" in p:
            version["CodeSha256"] = p["AutoPublishCodeSha256"]
        self.add(
            version_id,
            "AWS::Lambda::Version",
            version,
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
        alias_id = f"{self.id}Alias{alias}"
        self.add(
            alias_id,
            "AWS::Lambda::Alias",
            {
                "Name": alias,
                "FunctionName": {"Ref": self.id},
                "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
            },
        )
        self.referable.update(Alias=alias_id, Version=version_id)
        return alias_id

    def _event_invoke_config(self, config: Any, alias: Any) -> None:
        where: tuple[str | int, ...] = ("EventInvokeConfig",)
        if not isinstance(config, dict):
            raise self.fail(where, "must be a mapping")
        for key in config:
            if key not in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts", "DestinationConfig"):
                raise self.fail((*where, key), f"unknown property {key!r}")
        eic = {
            k: config[k]
            for k in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts")
            if k in config
        }
        eic_id = f"{self.id}EventInvokeConfig"
        destinations = config.get("DestinationConfig")
        if destinations is not None:
            if not isinstance(destinations, dict):
                raise self.fail((*where, "DestinationConfig"), "must be a mapping")
            eic["DestinationConfig"] = {
                key: self._destination(eic_id, key, value, (*where, "DestinationConfig", key))
                for key, value in destinations.items()
            }
        eic["FunctionName"] = {"Ref": self.id}
        eic["Qualifier"] = alias if alias is not None else "$LATEST"
        extra = {"DependsOn": [f"{self.id}Alias{alias}"]} if alias is not None else {}
        self.add(eic_id, "AWS::Lambda::EventInvokeConfig", eic, **extra)

    def _destination(self, eic_id: str, key: str, value: Any, where: Path) -> JSON:
        if key not in ("OnSuccess", "OnFailure"):
            raise _Invalid((*self.path, *where), "must be OnSuccess or OnFailure")
        if not isinstance(value, dict):
            raise _Invalid((*self.path, *where), "must be a mapping with Type and Destination")
        kind, destination = value.get("Type"), value.get("Destination")
        if kind is not None and kind not in DESTINATION_TYPES:
            raise _Invalid(
                (*self.path, *where, "Type"),
                f"'Type: {kind}' must be one of {list(DESTINATION_TYPES)}",
            )
        found = kind_for_sam_type(kind) if kind is not None else None
        if kind is not None and found is None:
            raise _Invalid(
                (*self.path, *where, "Type"),
                f"{kind} destinations are not supported by sendoff (there is no {kind})",
            )
        if destination is None:
            auto = found.sam.auto_create if found is not None else None
            if auto is None:
                raise _Invalid(
                    (*self.path, *where, "Destination"),
                    f"Destination is required if Type is not {list(AUTO_CREATED)}",
                )
            created = f"{eic_id}{key}{auto.suffix}"
            self.add(created, auto.resource_type, {})
            destination = (
                {"Fn::GetAtt": [created, "Arn"]} if auto.arn_by == "GetAtt" else {"Ref": created}
            )
            self.referable[auto.referable] = created
        if kind in DESTINATION_ACTIONS:
            # a bucket's records are objects in it: SAM grants s3:PutObject on bucket/*
            resource = {"Fn::Join": ["", [destination, "/*"]]} if kind == "S3" else destination
            self._policy(f"EventInvokeConfig{key}{kind}Policy", DESTINATION_ACTIONS[kind], resource)
        return {"Destination": destination}

    def _event(self, name: str, event: Any, target: Any, invoke_name: Any) -> None:
        where: tuple[str | int, ...] = ("Events", name)
        if not isinstance(event, dict) or not isinstance(event.get("Properties", {}), dict):
            raise self.fail(where, "an event needs Type and Properties")
        kind, props = event.get("Type"), event.get("Properties") or {}
        if kind not in EVENT_TYPES:
            raise self.fail(
                (*where, "Type"),
                f"event type {kind!r} is not supported by sendoff "
                f"(supported: {', '.join(EVENT_TYPES)})",
            )
        event_id = f"{self.id}{name}"
        if kind == "SQS":
            self._sqs_event(where, event_id, props, invoke_name)
            return
        permission = {"Action": "lambda:InvokeFunction", "FunctionName": invoke_name}
        if kind == "S3":
            try:
                permission_props, patch = s3_event(event_id, props, target, invoke_name)
            except ValueError as exc:
                raise self.fail((*where, "Properties"), str(exc)) from None
            patch.where = (*self.path, *where, "Properties", "Bucket")
            self.bucket_patches.append(patch)
            self.add(f"{event_id}Permission", "AWS::Lambda::Permission", permission_props)
            return
        if kind == "SNS":
            self._sns_event(where, event_id, props, target)
            principal, source_arn = "sns.amazonaws.com", props["Topic"]
        else:
            self._rule_event(where, event_id, kind, props, target)
            principal, source_arn = "events.amazonaws.com", {"Fn::GetAtt": [event_id, "Arn"]}
        self.add(
            f"{event_id}Permission",
            "AWS::Lambda::Permission",
            {**permission, "Principal": principal, "SourceArn": source_arn},
        )

    def _sqs_event(
        self, where: tuple[str | int, ...], event_id: str, props: JSON, invoke_name: Any
    ) -> None:
        """An SQS event: a mapping from the queue to the function (or its alias); no
        permission, as SAM adds the queue-polling policy to the role instead."""
        if "Queue" not in props:
            raise self.fail((*where, "Properties", "Queue"), "required property is missing")
        mapping: JSON = {"EventSourceArn": props["Queue"], "FunctionName": invoke_name}
        for key in SQS_EVENT_KEYS:
            if key in props:
                mapping[key] = props[key]
        self.add(event_id, "AWS::Lambda::EventSourceMapping", mapping)

    def _sns_event(
        self, where: tuple[str | int, ...], event_id: str, props: JSON, target: Any
    ) -> None:
        if "Topic" not in props:
            raise self.fail((*where, "Properties", "Topic"), "required property is missing")
        if props.get("SqsSubscription"):
            raise self.fail(
                (*where, "Properties", "SqsSubscription"),
                "SNS events through an SQS queue are not supported by sendoff",
            )
        sub = {"Endpoint": target, "Protocol": "lambda", "TopicArn": props["Topic"]}
        for key in ("FilterPolicy", "FilterPolicyScope", "Region", "RedrivePolicy"):
            if key in props:
                sub[key] = props[key]
        self.add(event_id, "AWS::SNS::Subscription", sub)

    def _rule_event(
        self, where: tuple[str | int, ...], event_id: str, kind: str, props: JSON, target: Any
    ) -> None:
        """A Schedule or EventBridgeRule/CloudWatchEvent event: a rule targeting the function."""
        rule: JSON = {}
        needed, key = ("Schedule", "ScheduleExpression") if kind == "Schedule" else (
            "Pattern", "EventPattern")  # fmt: skip
        if needed not in props:
            raise self.fail((*where, "Properties", needed), "required property is missing")
        rule[key] = props[needed]
        for source, dest in (
            ("EventBusName", "EventBusName"),
            ("RuleName", "Name"),
            ("Name", "Name"),
            ("State", "State"),
            ("Description", "Description"),
        ):
            if source in props:
                rule[dest] = props[source]
        if "Enabled" in props and "State" not in props:
            enabled = props["Enabled"]
            rule["State"] = "ENABLED" if enabled in (True, "true", "True") else "DISABLED"
        rule["Targets"] = [self._rule_target(where, event_id, props, target)]
        self.add(event_id, "AWS::Events::Rule", rule)

    def _rule_target(
        self, where: tuple[str | int, ...], event_id: str, props: JSON, target: Any
    ) -> JSON:
        target_id = (props.get("Target") or {}).get("Id") or f"{event_id}LambdaTarget"
        rule_target: JSON = {"Arn": target, "Id": target_id}
        for key in ("Input", "InputPath", "InputTransformer", "RetryPolicy"):
            if key in props:
                rule_target[key] = props[key]
        dlq = props.get("DeadLetterConfig")
        if isinstance(dlq, dict):
            if "Arn" not in dlq:
                raise self.fail(
                    (*where, "Properties", "DeadLetterConfig"),
                    "give Arn (sendoff does not create the queue)",
                )
            rule_target["DeadLetterConfig"] = {"Arn": dlq["Arn"]}
        return rule_target

    def _role(self) -> None:
        p = self.props
        managed: list[Any] = [{"Fn::Sub": BASIC_EXECUTION}]
        inline = list(self.policies)
        policies = p.get("Policies") or []
        for i, policy in enumerate(policies if isinstance(policies, list) else [policies]):
            if isinstance(policy, str):
                managed.append(
                    policy
                    if policy.startswith("arn:")
                    else {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{policy}"}
                )
            elif isinstance(policy, dict) and "Statement" in policy:
                inline.append({"PolicyName": f"{self.id}RolePolicy{i}", "PolicyDocument": policy})
            else:
                inline.append(
                    {
                        "PolicyName": f"{self.id}RolePolicy{i}",
                        "PolicyDocument": {"SAMPolicyTemplate": policy},
                    }
                )
        role: JSON = {
            "AssumeRolePolicyDocument": p.get("AssumeRolePolicyDocument") or LAMBDA_TRUST,
            "ManagedPolicyArns": managed,
            "Tags": [{"Key": "lambda:createdBy", "Value": "SAM"}],
        }
        if inline:
            role["Policies"] = inline
        if "PermissionsBoundary" in p:
            role["PermissionsBoundary"] = p["PermissionsBoundary"]
        if "RolePath" in p:
            role["Path"] = p["RolePath"]
        self.add(f"{self.id}Role", "AWS::IAM::Role", role)


def _rewrite(value: Any, referable: dict[tuple[str, str], str]) -> Any:
    """Rewrite ``F.Alias``-style references to the generated logical ids."""
    if not referable:
        return value
    function = function_of(value)
    if function == "Ref" and isinstance(value["Ref"], str) and "." in value["Ref"]:
        name, prop = value["Ref"].split(".", 1)
        if (name, prop) in referable:
            return {"Ref": referable[(name, prop)]}
    if function == "Fn::GetAtt" and isinstance(value[function], list):
        parts = ".".join(str(p) for p in value[function] if isinstance(p, str)).split(".")
        if len(parts) >= 3 and (parts[0], parts[1]) in referable:
            return {"Fn::GetAtt": [referable[(parts[0], parts[1])], ".".join(parts[2:])]}
    if function == "Fn::Sub":
        args = value[function]
        template = args if isinstance(args, str) else args[0] if isinstance(args, list) else None
        if isinstance(template, str):
            for (name, prop), target in referable.items():
                template = template.replace("${" + f"{name}.{prop}" + "}", "${" + target + "}")
                template = template.replace("${" + f"{name}.{prop}.", "${" + target + ".")
            if isinstance(args, str):
                return {"Fn::Sub": template}
            return {"Fn::Sub": [template, *(_rewrite(a, referable) for a in args[1:])]}
    if isinstance(value, dict):
        return {k: _rewrite(v, referable) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, referable) for v in value]
    return value
