"""Typed settings for the server and workers, built once at start-up.

Precedence: command-line flag > environment variable (``SENDOFF_*``) > default.
Nothing here reads the environment at import time: :func:`load_settings` does, when called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sendoff.errors import ConfigError

DEFAULT_PORT = 4566


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("sendoff", appauthor=False))


@dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=default_data_dir)
    store_url: str = ""
    time_scale: float = 1.0
    account_id: str = "000000000000"
    region: str = "us-east-1"
    workers: int = 1
    worker_processes: int = 0
    concurrency: int = 16
    idle_timeout_s: float = 300.0
    smtp_url: str = ""
    log_level: str = "info"

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.data_dir / 'sendoff.db'}"

    @property
    def display_store_url(self) -> str:
        """The store URL with any password masked, for logs and health output."""
        from urllib.parse import urlsplit, urlunsplit

        url = self.resolved_store_url
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
        return url

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


# flag name -> (env var, converter)
_FIELDS: dict[str, tuple[str, type]] = {
    "host": ("SENDOFF_HOST", str),
    "port": ("SENDOFF_PORT", int),
    "data_dir": ("SENDOFF_DATA_DIR", Path),
    "store_url": ("SENDOFF_STORE", str),
    "time_scale": ("SENDOFF_TIME_SCALE", float),
    "account_id": ("SENDOFF_ACCOUNT_ID", str),
    "region": ("SENDOFF_REGION", str),
    "workers": ("SENDOFF_WORKERS", int),
    "worker_processes": ("SENDOFF_WORKER_PROCESSES", int),
    "concurrency": ("SENDOFF_CONCURRENCY", int),
    "idle_timeout_s": ("SENDOFF_IDLE_TIMEOUT", float),
    "smtp_url": ("SENDOFF_SMTP_URL", str),
    "log_level": ("SENDOFF_LOG_LEVEL", str),
}


def env_var_for(name: str) -> str:
    return _FIELDS[name][0]


def settings_env(settings: Settings) -> dict[str, str]:
    """The SENDOFF_* variables that make ``load_settings`` rebuild these settings (what a
    server hands the worker processes it starts)."""
    return {var: str(getattr(settings, name)) for name, (var, _) in _FIELDS.items()}


def load_settings(
    flags: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> Settings:
    """Merge flags (None means "not given") over the environment over defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, (var, conv) in _FIELDS.items():
        raw = flags.get(name)
        if raw is None and var in env:
            raw = env[var]
        if raw is None:
            continue
        try:
            values[name] = conv(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid value for {name} ({var}): {raw!r}") from exc
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    if not 0 <= s.port <= 65535:
        raise ConfigError(f"port out of range: {s.port}")
    if s.time_scale <= 0:
        raise ConfigError(f"time scale must be positive: {s.time_scale}")
    if not (s.account_id.isdigit() and len(s.account_id) == 12):
        raise ConfigError(f"account id must be 12 digits: {s.account_id!r}")
    if s.workers < 0:
        raise ConfigError(f"workers must be >= 0: {s.workers}")
    if s.worker_processes < 0:
        raise ConfigError(f"worker processes must be >= 0: {s.worker_processes}")
    if s.concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1: {s.concurrency}")
