"""The environment variables a function process starts with.

The process never inherits sendoff's own environment (which may hold real credentials):
it gets the variables Lambda defines, the user's variables, and a `PATH`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sendoff.executor.runtimes import RUNTIME_DIR, LaunchPlan
from sendoff.executor.values import FunctionSpec

RESERVED_ENV_VARS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""Lambda rejects these in a function's configuration; sendoff always sets them itself."""

DUMMY_SECRET = "sendoff"


@dataclass(frozen=True, kw_only=True)
class EnvironmentIdentity:
    """Names one execution environment gets for its whole life."""

    log_group_name: str
    log_stream_name: str


def new_identity(spec: FunctionSpec, *, now: datetime | None = None) -> EnvironmentIdentity:
    """Log group and a fresh log stream name, `YYYY/MM/DD/[VERSION]<32 hex>` like AWS."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return EnvironmentIdentity(
        log_group_name=spec.log_group or f"/aws/lambda/{spec.function_name}",
        log_stream_name=f"{day}/[{spec.version}]{secrets.token_hex(16)}",
    )


def build_environment(
    *,
    spec: FunctionSpec,
    plan: LaunchPlan,
    identity: EnvironmentIdentity,
    runtime_api: str,
    endpoint_url: str,
    inherited_path: str,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Variables for one environment: defaults < user variables < reserved variables.

    The dummy access key is the function's account id, so a sendoff endpoint that maps
    12-digit access keys to accounts (as LocalStack does) keeps SDK calls in that account.
    ``credentials`` (sendoff.auth.session) replace the dummy keys with real ones.
    """
    path = ":".join(part for part in (*plan.extra_path, inherited_path) if part)
    env: dict[str, str] = {
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": path,
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    env.update(_user_variables(spec.environment))
    env.update(
        {
            "_HANDLER": spec.handler,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": identity.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": identity.log_stream_name,
            "AWS_ACCESS_KEY": spec.account_id,
            "AWS_ACCESS_KEY_ID": spec.account_id,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
            "AWS_SESSION_TOKEN": DUMMY_SECRET,
            **(credentials or {}),
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "LAMBDA_TASK_ROOT": str(plan.cwd),
            "LAMBDA_RUNTIME_DIR": str(RUNTIME_DIR),
        }
    )
    if plan.execution_env is not None:
        env["AWS_EXECUTION_ENV"] = plan.execution_env
    return env


def _user_variables(variables: Mapping[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in variables.items()
        if key not in RESERVED_ENV_VARS and "\0" not in key + value and "=" not in key
    }
