"""Lambda response shapes, exactly as AWS returns them."""

from __future__ import annotations

from typing import Any

from sendoff.functions.lifecycle import state_fields
from sendoff.functions.logging_config import logging_wire
from sendoff.functions.registry import FunctionState, Scope
from sendoff.model.clock import iso_lambda
from sendoff.model.function import AliasConfig, FunctionConfig


def function_configuration(
    scope: Scope, config: FunctionConfig, *, qualified_latest: bool = False, listed: bool = False
) -> dict[str, Any]:
    """A version's configuration. $LATEST's ARN is unqualified unless the caller named
    `$LATEST` (AWS answers `…:function:NAME:$LATEST` to GetFunction/GetFunctionConfiguration
    with that qualifier and in ListVersionsByFunction)."""
    latest = config.version == "$LATEST"
    qualifier = ("$LATEST" if qualified_latest else None) if latest else config.version
    shape: dict[str, Any] = {
        "FunctionName": config.name,
        "FunctionArn": scope.arn(config.name, qualifier),
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout_s,
        "MemorySize": config.memory_mb,
        "LastModified": iso_lambda(config.last_modified),
        "CodeSha256": config.code_sha256,
        "Version": config.version,
        "TracingConfig": {"Mode": config.tracing_mode},
        "RevisionId": config.revision_id,
        "PackageType": config.package_type,
        "Architectures": list(config.architectures),
        "EphemeralStorage": {"Size": config.ephemeral_storage_mb},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "RuntimeVersionConfig": {
            "RuntimeVersionArn": f"arn:aws:lambda:{scope.region}::runtime:sendoff-{config.runtime}"
        },
        "LoggingConfig": logging_wire(config),
    }
    if not listed:  # ListFunctions and ListVersionsByFunction show no state (recorded)
        shape.update(state_fields(config))
    if config.environment or config.environment_set:
        shape["Environment"] = {"Variables": dict(config.environment)}
    if config.dead_letter_target:
        shape["DeadLetterConfig"] = {"TargetArn": config.dead_letter_target}
    return shape


def get_function(
    scope: Scope,
    state: FunctionState,
    config: FunctionConfig,
    *,
    code_url: str,
    qualified_latest: bool = False,
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Configuration": function_configuration(scope, config, qualified_latest=qualified_latest),
        "Code": {"RepositoryType": "S3", "Location": code_url},
    }
    if state.tags:
        shape["Tags"] = dict(state.tags)
    if state.reserved_concurrency is not None:
        shape["Concurrency"] = {"ReservedConcurrentExecutions": state.reserved_concurrency}
    return shape


def alias_configuration(scope: Scope, alias: AliasConfig) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AliasArn": scope.arn(alias.function_name, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.additional_weights:
        shape["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.additional_weights)}
    return shape
