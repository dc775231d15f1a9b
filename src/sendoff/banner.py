"""The block ``sendoff server`` prints once it is up: what runs, where, and how it is guarded.

One short block on stderr (with uvicorn's lines), built by a pure function from the
settings and the executor's resolved sandbox, so it can be tested without a server::

    sendoff 0.1.0
      endpoint    http://127.0.0.1:4566  (region us-east-1, account 000000000000)
      console     http://127.0.0.1:4566/console
      data        /home/me/.local/share/sendoff  (store sqlite:////home/me/.../sendoff.db)
      auth        none: loopback only (any local process may call; --auth sigv4 to sign)
      iam         off (execution roles are not checked)
      sandbox     bwrap (cgroup per environment)
      time scale  1.0 (AWS's delays and ages)
      workers     0 in this process, 1 worker process (auto: a second core); 16 concurrent jobs each
"""

from __future__ import annotations

from dataclasses import dataclass

from sendoff import __version__
from sendoff.config.settings import Settings


@dataclass(frozen=True, kw_only=True)
class SandboxFacts:
    mode: str
    cgroups: bool


def auth_line(settings: Settings) -> str:
    if settings.resolved_auth == "sigv4":
        return "SigV4 required (keys: `sendoff credentials create`)"
    if settings.loopback_only:
        return "none: loopback only (any local process may call; --auth sigv4 to sign)"
    return f"NONE on {settings.host}: anyone who can reach this port can run code"


def iam_line(settings: Settings) -> str:
    if settings.iam == "enforce":
        return "enforce (execution roles' policies checked for destinations)"
    return "off (execution roles are not checked)"


def data_line(settings: Settings) -> str:
    """Where the data lives; a store URL's password is masked."""
    url = settings.display_store_url
    if url.startswith("sqlite:///"):
        return f"{settings.data_dir}  (SQLite {url.removeprefix('sqlite:///')})"
    return f"{url}  (files: {settings.data_dir})"


def banner_rows(settings: Settings, sandbox: SandboxFacts) -> list[tuple[str, str]]:
    endpoint = settings.endpoint_url
    bound = "" if settings.host in endpoint else f", listening on {settings.host}"
    scale = settings.time_scale
    scale_text = "AWS's delays and ages" if scale == 1 else f"delays and ages x {scale:g}"
    workers = f"{settings.worker_count} in this process"
    children = settings.worker_process_count
    if children:
        plural = "es" if children > 1 else ""
        how = " (auto: a second core)" if settings.worker_processes is None else ""
        workers += f", {children} worker process{plural}{how}"
    workers += f"; {settings.concurrency} concurrent jobs each"
    cgroups = "cgroup per environment" if sandbox.cgroups else "no cgroups"
    return [
        (
            "endpoint",
            f"{endpoint}  (region {settings.region}, account {settings.account_id}{bound})",
        ),
        ("console", f"{endpoint}/console"),
        ("data", data_line(settings)),
        ("auth", auth_line(settings)),
        ("iam", iam_line(settings)),
        ("sandbox", f"{sandbox.mode} ({cgroups})"),
        ("time scale", f"{scale:g} ({scale_text})"),
        ("workers", workers),
    ]


def banner_lines(settings: Settings, sandbox: SandboxFacts) -> list[str]:
    rows = banner_rows(settings, sandbox)
    return [f"sendoff {__version__}", *(f"  {name:<11} {value}" for name, value in rows)]


def print_banner(settings: Settings, sandbox: SandboxFacts) -> None:
    """On stderr with rich: labels in bold on a terminal, plain text otherwise."""
    from rich.console import Console
    from rich.text import Text

    out = Console(stderr=True, highlight=False, soft_wrap=True)
    block = Text(f"sendoff {__version__}\n", style="bold")
    for name, value in banner_rows(settings, sandbox):
        block.append(f"  {name:<11} ", style="bold")
        block.append(f"{value}\n")
    out.print(block, end="")
