"""AWS::Lambda::Function, ::Version and ::Alias through the server's Lambda API.

``Code`` is ``{ZipFile: source}`` (written as ``index.py`` / ``index.js``, as CloudFormation
does) or a local directory or zip that :mod:`sendoff.iac.package` turned into
``{SendoffLocalCode: {Path, Sha256}}``, or an S3 object ``{S3Bucket, S3Key,
S3ObjectVersion?}`` (SAM: ``CodeUri: s3://bucket/key``) that the Lambda API reads from the
server's S3, as CloudFormation leaves it to Lambda.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from sendoff.iac.errors import Path, Problem
from sendoff.iac.resources.base import (
    IGNORED,
    TAGS,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    already_exists,
    error_code,
    integer,
    is_not_found,
    string,
    tags_dict,
)
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
FUNCTION_NAME = r"[a-zA-Z0-9-_]{1,64}"
# configuration properties -> how they are sent (UpdateFunctionConfiguration's names)
CONFIG_KEYS = (
    "Handler", "Runtime", "Role", "Timeout", "MemorySize", "Environment", "Description",
    "DeadLetterConfig", "EphemeralStorage", "TracingConfig",
)  # fmt: skip
CONFIG_DEFAULTS: JSON = {
    "Timeout": 3,
    "MemorySize": 128,
    "Environment": {"Variables": {}},
    "Description": "",
    "DeadLetterConfig": {"TargetArn": ""},
    "EphemeralStorage": {"Size": 512},
    "TracingConfig": {"Mode": "PassThrough"},
}


def _lambda(cloud: Cloud) -> Any:
    return cloud.client("lambda")


class Function(ResourceType):
    type_name = "AWS::Lambda::Function"
    name_property = "FunctionName"
    attributes = frozenset({"Arn"})
    schema: ClassVar[dict[str, Prop]] = {
        "FunctionName": string(create_only=True, pattern=FUNCTION_NAME),
        "Code": Prop(kind="map", required=True),
        "Handler": string(max_len=128),
        "Runtime": string(),
        "Role": string(required=True, pattern=ROLE_PATTERN),
        "Timeout": integer(1, 900),
        "MemorySize": integer(128, 10240),
        "Environment": Prop(kind="map", fields={"Variables": Prop(kind="map")}),
        "Description": string(max_len=256),
        "DeadLetterConfig": Prop(kind="map", fields={"TargetArn": string()}),
        "Architectures": Prop(kind="list"),
        "EphemeralStorage": Prop(kind="map", fields={"Size": integer(512, 10240)}),
        "TracingConfig": Prop(
            kind="map", fields={"Mode": string(choices=("Active", "PassThrough"))}
        ),
        "ReservedConcurrentExecutions": integer(0, 1000),
        "RecursiveLoop": string(choices=("Allow", "Terminate")),
        "PackageType": string(choices=("Zip",), create_only=True),
        "Tags": TAGS,
        **{
            name: IGNORED
            for name in (
                "Layers", "VpcConfig", "KmsKeyArn", "LoggingConfig", "SnapStart",
                "RuntimeManagementConfig", "FileSystemConfigs", "CodeSigningConfigArn",
                "ImageConfig",
            )
        },
    }  # fmt: skip

    def check(self, props: JSON, path: Path) -> list[Problem]:
        from sendoff.executor.runtimes import SUPPORTED_RUNTIMES

        problems = []
        runtime = props.get("Runtime")
        for name in ("Runtime", "Handler"):
            if name not in props:
                problems.append(Problem(path=(*path, name), message="required for Zip functions"))
        if isinstance(runtime, str) and runtime not in SUPPORTED_RUNTIMES:
            runtimes = ", ".join(sorted(SUPPORTED_RUNTIMES))
            message = f"{runtime!r} is not a runtime sendoff runs (one of {runtimes})"
            problems.append(Problem(path=(*path, "Runtime"), message=message))
        code = props.get("Code")
        if isinstance(code, dict):
            problems += check_code(code, (*path, "Code"), runtime)
        env = (props.get("Environment") or {}).get("Variables") or {}
        for key, value in env.items() if isinstance(env, dict) else ():
            if isinstance(value, dict | list):
                where = (*path, "Environment", "Variables", key)
                problems.append(Problem(path=where, message="must be a string"))
        return problems

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        lam = _lambda(cloud)
        name = props.get("FunctionName") or cloud.physical_name(logical_id, max_len=64)
        params = _config(props)
        params["FunctionName"] = name
        params["Code"] = _code_param(cloud, props)
        if props.get("Architectures"):
            params["Architectures"] = props["Architectures"]
        if props.get("Tags"):
            params["Tags"] = tags_dict(props["Tags"])
        try:
            response = lam.create_function(**params)
        except Exception as exc:
            if error_code(exc) == "ResourceConflictException":
                raise already_exists(logical_id, self.type_name, name) from exc
            raise
        try:
            wait_stable(lam, name)
            self._settings(lam, name, {}, props)
        except Exception:
            lam.delete_function(FunctionName=name)
            raise
        return Applied(physical_id=name, ref=name, attributes={"Arn": response["FunctionArn"]})

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        lam = _lambda(cloud)
        name = current.physical_id
        old = current.properties
        config = {k: v for k, v in _config(props, defaults=True).items() if k != "FunctionName"}
        if config != {k: v for k, v in _config(old, defaults=True).items() if k != "FunctionName"}:
            lam.update_function_configuration(FunctionName=name, **config)
            wait_stable(lam, name)
        if props["Code"] != old.get("Code"):
            lam.update_function_code(FunctionName=name, **_code_param(cloud, props))
            wait_stable(lam, name)
        self._settings(lam, name, old, props)
        arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
        return Applied(physical_id=name, ref=name, attributes={"Arn": arn})

    @staticmethod
    def _settings(lam: Any, name: str, old: JSON, props: JSON) -> None:
        reserved = props.get("ReservedConcurrentExecutions")
        if reserved != old.get("ReservedConcurrentExecutions"):
            if reserved is None:
                lam.delete_function_concurrency(FunctionName=name)
            else:
                lam.put_function_concurrency(
                    FunctionName=name, ReservedConcurrentExecutions=reserved
                )
        loop = props.get("RecursiveLoop")
        if loop != old.get("RecursiveLoop") and (loop or old.get("RecursiveLoop")):
            lam.put_function_recursion_config(FunctionName=name, RecursiveLoop=loop or "Terminate")

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            _lambda(cloud).delete_function(FunctionName=current.physical_id)
        except Exception as exc:
            if not is_not_found(exc):
                raise


def wait_stable(lam: Any, name: str, *, timeout_s: float = 120.0) -> None:
    """Wait, as CloudFormation does, until a created or updated function has stabilized:
    no longer Pending, its update no longer InProgress (functions.lifecycle). A function
    that ends Failed fails the resource."""
    deadline = time.monotonic() + timeout_s
    while True:
        config = lam.get_function_configuration(FunctionName=name)
        if config["State"] == "Failed" or config.get("LastUpdateStatus") == "Failed":
            reason = config.get("StateReason") or config.get("LastUpdateStatusReason")
            raise RuntimeError(f"Lambda function {name} failed to stabilize: {reason}")
        if config["State"] != "Pending" and config.get("LastUpdateStatus") != "InProgress":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Lambda function {name} did not stabilize in {timeout_s:.0f} s")
        time.sleep(0.05)  # poll interval; a transition takes milliseconds


S3_CODE = ("S3Bucket", "S3Key", "S3ObjectVersion")


def _code_param(cloud: Cloud, props: JSON) -> JSON:
    """The ``Code`` of CreateFunction (the keyword arguments of UpdateFunctionCode)."""
    code = props["Code"]
    if "S3Bucket" in code:
        return {k: code[k] for k in S3_CODE if code.get(k)}
    return {"ZipFile": cloud.code_zip(code, runtime=props.get("Runtime"))}


def check_code(code: JSON, path: Path, runtime: Any) -> list[Problem]:
    if "ImageUri" in code:
        message = (
            "an image is not supported by sendoff: point Code (or CodeUri) at a local"
            " directory, a zip file or an S3 object"
        )
        return [Problem(path=path, message=message)]
    if "S3Bucket" in code or "S3Key" in code:
        if not code.get("S3Bucket") or not code.get("S3Key") or set(code) - set(S3_CODE):
            return [Problem(path=path, message="give S3Bucket and S3Key (and S3ObjectVersion)")]
        return []
    kinds = [k for k in ("ZipFile", "SendoffLocalCode") if k in code]
    if len(kinds) != 1 or set(code) - {"ZipFile", "SendoffLocalCode"}:
        return [Problem(path=path, message="give ZipFile (inline source) or a local path")]
    if "ZipFile" in code:
        if not isinstance(code["ZipFile"], str):
            return [Problem(path=(*path, "ZipFile"), message="must be the source text")]
        if isinstance(runtime, str) and not runtime.startswith(("python", "nodejs")):
            message = f"inline code needs a Python or Node.js runtime, not {runtime}"
            return [Problem(path=(*path, "ZipFile"), message=message)]
    return []


def _config(props: JSON, *, defaults: bool = False) -> JSON:
    out = {k: props[k] for k in CONFIG_KEYS if k in props}
    if defaults:
        for key, value in CONFIG_DEFAULTS.items():
            out.setdefault(key, value)
    if "Environment" in out:
        variables = (out["Environment"] or {}).get("Variables") or {}
        out["Environment"] = {"Variables": {k: str(v) for k, v in variables.items()}}
    return out


class Version(ResourceType):
    type_name = "AWS::Lambda::Version"
    attributes = frozenset({"Version", "FunctionArn"})
    schema: ClassVar[dict[str, Prop]] = {
        "FunctionName": string(required=True, create_only=True),
        "Description": string(create_only=True, max_len=256),
        "CodeSha256": string(create_only=True),
        "ProvisionedConcurrencyConfig": IGNORED,
        "RuntimePolicy": IGNORED,
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        params = {k: props[k] for k in ("FunctionName", "Description", "CodeSha256") if k in props}
        response = _lambda(cloud).publish_version(**params)
        arn = response["FunctionArn"]
        unqualified = arn.rsplit(":", 1)[0]
        return Applied(
            physical_id=arn,
            ref=arn,
            attributes={"Version": response["Version"], "FunctionArn": unqualified},
        )

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        return Applied(physical_id=current.physical_id, ref=current.ref,
                       attributes=current.attributes)  # fmt: skip

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        name, _, version = current.physical_id.rpartition(":")
        try:
            _lambda(cloud).delete_function(FunctionName=name, Qualifier=version)
        except Exception as exc:
            if not is_not_found(exc):
                raise


class Alias(ResourceType):
    type_name = "AWS::Lambda::Alias"
    attributes = frozenset({"AliasArn"})
    schema: ClassVar[dict[str, Prop]] = {
        "FunctionName": string(required=True, create_only=True),
        "Name": string(required=True, create_only=True, pattern=r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"),
        "FunctionVersion": string(required=True),
        "Description": string(max_len=256),
        "RoutingConfig": Prop(kind="map"),
        "ProvisionedConcurrencyConfig": IGNORED,
    }

    @staticmethod
    def _params(props: JSON) -> JSON:
        keys = ("FunctionName", "Name", "FunctionVersion", "Description", "RoutingConfig")
        return {k: props[k] for k in keys if k in props}

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        try:
            arn = _lambda(cloud).create_alias(**self._params(props))["AliasArn"]
        except Exception as exc:
            if error_code(exc) == "ResourceConflictException":
                raise already_exists(logical_id, self.type_name, props["Name"]) from exc
            raise
        return Applied(physical_id=arn, ref=arn, attributes={"AliasArn": arn})

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        params = {"Description": "", "RoutingConfig": {}, **self._params(props)}
        arn = _lambda(cloud).update_alias(**params)["AliasArn"]
        return Applied(physical_id=arn, ref=arn, attributes={"AliasArn": arn})

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        props = current.properties
        try:
            _lambda(cloud).delete_alias(FunctionName=props["FunctionName"], Name=props["Name"])
        except Exception as exc:
            if not is_not_found(exc):
                raise


def function_name_of(value: str) -> str:
    """A function's name from its name or (qualified) ARN."""
    if value.startswith("arn:"):
        return value.split(":")[6]
    return value.split(":")[0]
