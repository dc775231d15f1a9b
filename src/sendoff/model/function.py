"""Function configurations and aliases as stored: frozen records with JSON round-trips."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

LATEST = "$LATEST"


@dataclass(frozen=True, kw_only=True)
class FunctionConfig:
    """One version's configuration ($LATEST or a published number)."""

    name: str
    version: str
    runtime: str
    handler: str
    role: str
    code_sha256: str  # base64, as AWS shows it
    code_size: int
    timeout_s: int = 3
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    # AWS shows `"Environment": {"Variables": {}}` for a function given an (even empty)
    # variable map and no Environment at all for one never given one: the map alone can't tell.
    environment_set: bool = False
    description: str = ""
    dead_letter_target: str | None = None
    last_modified: float = 0.0
    revision_id: str = ""
    package_type: str = "Zip"
    architectures: tuple[str, ...] = ("x86_64",)
    ephemeral_storage_mb: int = 512
    tracing_mode: str = "PassThrough"
    # LoggingConfig (sendoff.functions.logging_config); "" = AWS's default
    log_format: str = "Text"
    application_log_level: str = ""
    system_log_level: str = ""
    log_group: str = ""
    # the function lifecycle (sendoff.functions.lifecycle): Pending until the code is
    # prepared, then Active (or Failed); LastUpdateStatus InProgress during an update, then
    # Successful (or Failed); "" before the first transition of a new function
    state: str = "Active"
    last_update: str = "Successful"
    state_reason: str = ""  # why a preparation failed
    state_reason_code: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["architectures"] = list(self.architectures)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "architectures" in values:
            values["architectures"] = tuple(values["architectures"])
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class AliasConfig:
    name: str
    function_name: str
    function_version: str
    description: str = ""
    additional_weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AliasConfig:
        return cls(**data)
