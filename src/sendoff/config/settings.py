"""Typed settings for the server and workers, built once at start-up.

Precedence: command-line flag > environment variable (``SENDOFF_*``) > default.
Nothing here reads the environment at import time: :func:`load_settings` does, when called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sendoff.errors import ConfigError
from sendoff.model.digits import is_digits

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
    workers: int | None = None
    """Async workers in the server process; None (``auto``): see :attr:`worker_count`."""
    worker_processes: int | None = None
    """``sendoff server``'s child worker processes; None (``auto``, the default): see
    :attr:`worker_process_count`."""
    concurrency: int = 16
    idle_timeout_s: float = 300.0
    smtp_url: str = ""
    log_level: str = "info"
    # -- the trust boundary (docs/security.md) --
    allowed_hosts: tuple[str, ...] = ()
    """Host names accepted besides loopback and the bound address (DNS-rebinding guard)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the APIs cross-site (none by default)."""
    auth: str = "auto"
    """``auto`` (none on loopback, sigv4 otherwise), ``none`` or ``sigv4``."""
    metrics_token: str = ""
    """Bearer token /metrics requires when authentication is on."""
    sandbox: str = "auto"
    """How function processes are isolated: ``auto``, ``none``, ``uid`` or ``bwrap``."""
    iam: str = "off"
    """``off`` or ``enforce``: check execution roles' policies for destinations."""
    event_retention_s: float = 86_400.0
    """How long terminal events (and their delivery jobs) are kept (docs/operations.md)."""
    event_retention_max: int = 0
    """Also keep at most this many terminal events (0: no count limit)."""
    log_retention_s: float = 7 * 86_400.0
    """How long function log lines are kept when their group has no retention policy."""
    log_group_max_bytes: int = 64 * 1024 * 1024
    """Each log group is capped at this many bytes of messages (oldest lines go first)."""
    outbound_deny: tuple[str, ...] = ()
    """Address ranges (CIDRs) sendoff's own outbound calls (SNS http/https) may not reach,
    besides link-local ones, always denied (delivery/outbound.py)."""
    outbound_allow: tuple[str, ...] = ()
    """Exceptions to ``outbound_deny`` (CIDRs)."""
    client_timeout_s: float = 10.0
    """A request head must arrive, and a body keep moving, within this (api/http_limits.py)."""

    @property
    def loopback_only(self) -> bool:
        """True when the server binds loopback addresses only."""
        import ipaddress

        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def resolved_auth(self) -> str:
        """``none`` or ``sigv4``: ``auto`` is ``none`` on loopback, ``sigv4`` otherwise."""
        if self.auth != "auto":
            return self.auth
        return "none" if self.loopback_only else "sigv4"

    @property
    def worker_process_count(self) -> int:
        """The ``sendoff worker`` children ``sendoff server`` starts. ``auto`` (the
        default) is one when the machine has a second core and the store can be shared
        between processes (not ``memory://``), unless ``--no-workers`` says the user runs
        the workers: the server process then answers the APIs and the child runs the
        async events, each on a core of its own (docs/async.md, "Using more than one
        core"). Otherwise none."""
        if self.worker_processes is not None:
            return self.worker_processes
        return 1 if self._auto_child else 0

    @property
    def worker_count(self) -> int:
        """Async workers in the server process itself. ``auto`` (the default) is none
        when ``--worker-processes auto`` (also the default) started a worker process (one
        process per core: the two would only contend for the store and run twice the
        warm environments), else one. ``--workers 1`` runs one beside the children."""
        if self.workers is not None:
            return self.workers
        return 0 if self.worker_processes is None and self._auto_child else 1

    @property
    def _auto_child(self) -> bool:
        url = self.resolved_store_url
        if self.workers == 0 or url.startswith("memory:") or url == "sqlite:///:memory:":
            return False
        return usable_cpus() >= 2

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


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _count_or_auto(raw: object) -> int | None:
    """A process count, or None for ``auto``."""
    text = str(raw).strip().lower()
    return None if text == "auto" else int(text)


_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(raw: object) -> float:
    """Seconds from ``90``, ``30s``, ``15m``, ``24h`` or ``7d``."""
    text = str(raw).strip().lower()
    unit = _UNITS_S.get(text[-1:]) if text else None
    number = text[:-1] if unit is not None else text
    seconds = float(number) * (unit or 1)
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"not a duration: {raw!r}")
    return seconds


def _names(raw: object) -> tuple[str, ...]:
    """A comma-separated list (flag or environment) or a list of them (repeated flag)."""
    items = raw if isinstance(raw, list | tuple) else [raw]
    return tuple(part.strip() for item in items for part in str(item).split(",") if part.strip())


# flag name -> (env var, converter)
_FIELDS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "host": ("SENDOFF_HOST", str),
    "port": ("SENDOFF_PORT", int),
    "data_dir": ("SENDOFF_DATA_DIR", Path),
    "store_url": ("SENDOFF_STORE", str),
    "time_scale": ("SENDOFF_TIME_SCALE", float),
    "account_id": ("SENDOFF_ACCOUNT_ID", str),
    "region": ("SENDOFF_REGION", str),
    "workers": ("SENDOFF_WORKERS", _count_or_auto),
    "worker_processes": ("SENDOFF_WORKER_PROCESSES", _count_or_auto),
    "concurrency": ("SENDOFF_CONCURRENCY", int),
    "idle_timeout_s": ("SENDOFF_IDLE_TIMEOUT", float),
    "smtp_url": ("SENDOFF_SMTP_URL", str),
    "log_level": ("SENDOFF_LOG_LEVEL", str),
    "allowed_hosts": ("SENDOFF_ALLOWED_HOSTS", _names),
    "cors_origins": ("SENDOFF_CORS_ORIGINS", _names),
    "auth": ("SENDOFF_AUTH", str),
    "metrics_token": ("SENDOFF_METRICS_TOKEN", str),
    "sandbox": ("SENDOFF_SANDBOX", str),
    "iam": ("SENDOFF_IAM", str),
    "client_timeout_s": ("SENDOFF_CLIENT_TIMEOUT", float),
    "outbound_deny": ("SENDOFF_OUTBOUND_DENY", _names),
    "outbound_allow": ("SENDOFF_OUTBOUND_ALLOW", _names),
    "event_retention_s": ("SENDOFF_EVENT_RETENTION", parse_duration),
    "event_retention_max": ("SENDOFF_EVENT_RETENTION_MAX", int),
    "log_retention_s": ("SENDOFF_LOG_RETENTION", parse_duration),
    "log_group_max_bytes": ("SENDOFF_LOG_GROUP_MAX_BYTES", int),
}


def env_var_for(name: str) -> str:
    return _FIELDS[name][0]


def settings_env(settings: Settings) -> dict[str, str]:
    """The SENDOFF_* variables that make ``load_settings`` rebuild these settings (what a
    server hands the worker processes it starts)."""
    return {var: _env_text(getattr(settings, name)) for name, (var, _) in _FIELDS.items()}


def _env_text(value: object) -> str:
    if value is None:  # workers' and worker_processes' auto
        return "auto"
    return ",".join(value) if isinstance(value, tuple) else str(value)


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
    if not (is_digits(s.account_id) and len(s.account_id) == 12):
        raise ConfigError(f"account id must be 12 digits: {s.account_id!r}")
    if s.workers is not None and s.workers < 0:
        raise ConfigError(f"workers must be >= 0: {s.workers}")
    if s.worker_processes is not None and s.worker_processes < 0:
        raise ConfigError(f"worker processes must be >= 0: {s.worker_processes}")
    if s.event_retention_max < 0 or s.log_group_max_bytes < 0:
        raise ConfigError("retention limits must be >= 0")
    import ipaddress

    for cidr in (*s.outbound_deny, *s.outbound_allow):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ConfigError(f"not an address range (CIDR): {cidr!r}") from exc
    if s.client_timeout_s <= 0:
        raise ConfigError(f"client timeout must be positive: {s.client_timeout_s}")
    if s.concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1: {s.concurrency}")
    for name, allowed in (
        ("auth", ("auto", "none", "sigv4")),
        ("sandbox", ("auto", "none", "uid", "bwrap")),
        ("iam", ("off", "enforce")),
    ):
        if getattr(s, name) not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}: {getattr(s, name)!r}")
