"""``sendoff`` entry point: ``server`` runs the engine; other commands are HTTP clients."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Sequence

from sendoff import __version__
from sendoff.cli.client import Client, CliError
from sendoff.cli.global_options import add_top_level, spread
from sendoff.cli.output import emit_json, wants_json
from sendoff.config.settings import env_var_for
from sendoff.errors import ConfigError


def _server_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    command: str = "server",
    help_text: str = "run the sendoff server (all APIs on one port)",
) -> None:
    p = sub.add_parser(command, help=help_text)
    if command == "server":
        p.add_argument(
            "--no-workers",
            dest="workers",
            action="store_const",
            const=0,
            help="serve the APIs only; run `sendoff worker` processes for async work",
        )
        p.add_argument(
            "--worker-processes",
            dest="worker_processes",
            default=None,
            metavar="N|auto",
            help="also start and supervise N `sendoff worker` processes on the same store"
            " (default auto: 1 on a machine with 2+ cores, which then runs the async"
            " events instead of the server process; none with --no-workers, a memory"
            f" store or one core) [env {env_var_for('worker_processes')}]",
        )
    for flag, name, kind, flag_help in (
        ("--host", "host", str, "address to bind (default 127.0.0.1)"),
        ("--port", "port", int, "port (default 4566)"),
        ("--data-dir", "data_dir", str, "where data lives (default: user data dir)"),
        ("--store", "store_url", str, "store URL (default sqlite:///<data-dir>/sendoff.db)"),
        ("--time-scale", "time_scale", float, "multiply async delays and ages (default 1.0)"),
        ("--account-id", "account_id", str, "account id (default 000000000000)"),
        ("--region", "region", str, "default region (default us-east-1)"),
        (
            "--workers",
            "workers",
            str,
            "async workers inside the server (default auto: 0 when --worker-processes"
            " started a worker process, else 1)",
        ),
        ("--concurrency", "concurrency", int, "async jobs run at once per worker (default 16)"),
        ("--idle-timeout", "idle_timeout_s", float, "seconds before idle environments stop"),
        ("--smtp-url", "smtp_url", str, "SMTP server for email subscriptions"),
        ("--log-level", "log_level", str, "log level (default info)"),
        (
            "--auth",
            "auth",
            str,
            "auto|none|sigv4: who may call (default auto: none on loopback, sigv4 otherwise)",
        ),
        ("--metrics-token", "metrics_token", str, "bearer token /metrics needs under auth"),
        ("--sandbox", "sandbox", str, "auto|none|uid|bwrap: how functions are isolated"),
        ("--iam", "iam", str, "off|enforce: check execution roles for destinations"),
        (
            "--event-retention",
            "event_retention_s",
            str,
            "keep finished events this long (30s, 24h, 7d; default 24h)",
        ),
        (
            "--event-retention-max",
            "event_retention_max",
            int,
            "and at most this many finished events (default: no count limit)",
        ),
        ("--log-retention", "log_retention_s", str, "keep function logs this long (default 7d)"),
        (
            "--log-group-max-bytes",
            "log_group_max_bytes",
            int,
            "cap each log group at this many bytes (default 64 MiB)",
        ),
        (
            "--client-timeout",
            "client_timeout_s",
            float,
            "seconds a client may take to send a request head, or stall in a body (default 10)",
        ),
    ):
        p.add_argument(flag, dest=name, type=kind, default=None,
                       help=f"{flag_help} [env {env_var_for(name)}]")  # fmt: skip
    for flag, name, flag_help in (
        ("--allowed-host", "allowed_hosts", "also accept this Host name (repeatable)"),
        ("--cors-origin", "cors_origins", "allow this browser origin cross-site (repeatable)"),
        (
            "--outbound-deny",
            "outbound_deny",
            "address ranges (CIDR) sendoff may not send to,"
            " e.g. SNS http subscriptions (repeatable; link-local always)",
        ),
        ("--outbound-allow", "outbound_allow", "exceptions to --outbound-deny (repeatable)"),
    ):
        p.add_argument(flag, dest=name, action="append", default=None,
                       help=f"{flag_help} [env {env_var_for(name)}, comma-separated]")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sendoff", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sendoff {__version__}")
    add_top_level(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    _server_parser(sub)
    _server_parser(
        sub,
        "worker",
        "run only an async worker against the same store (--host/--port: the API server)",
    )
    migrate = sub.add_parser("migrate", help="apply the store's migrations, then exit")
    migrate.add_argument("--data-dir", dest="data_dir", default=None, help="as for server")
    migrate.add_argument(
        "--store",
        dest="store_url",
        default=None,
        help=f"store URL, as for server [env {env_var_for('store_url')}]",
    )
    from sendoff.cli import credentials

    credentials.add_parser(sub)
    functions = sub.add_parser("functions", help="functions").add_subparsers(
        dest="action", required=True
    )
    functions.add_parser("list", help="list functions")
    invoke = sub.add_parser("invoke", help="invoke a function synchronously")
    invoke.add_argument("name")
    invoke.add_argument("--payload", default="{}", help="JSON payload")
    invoke.add_argument("--qualifier", default=None)
    logs = sub.add_parser("logs", help="show a function's logs")
    logs.add_argument("name")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    from sendoff.cli import buses, events, queues, topics

    events.add_parser(sub)
    buses.add_parser(sub)
    queues.add_parser(sub)
    topics.add_parser(sub)
    from sendoff.cli import stacks

    stacks.add_parsers(sub)
    completion = sub.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=("bash", "zsh"))
    spread(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("server", "worker"):
        _hide_store_password(args, argv)
    try:
        return _dispatch(args)
    except (CliError, ConfigError) as exc:
        print(f"sendoff: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _hide_store_password(args: argparse.Namespace, argv: Sequence[str] | None) -> None:
    """Re-run this command with a ``--store`` URL that holds a password moved into the
    environment (``SENDOFF_STORE``): /proc/<pid>/cmdline is readable by every local user,
    including function processes under ``--sandbox uid``; /proc/<pid>/environ is not."""
    from urllib.parse import urlsplit

    url = getattr(args, "store_url", None)
    if not url or argv is not None or not urlsplit(url).password:
        return
    rest, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--store":
            skip = True
        elif not arg.startswith("--store="):
            rest.append(arg)
    env = {**os.environ, env_var_for("store_url"): url}
    os.execve(sys.executable, [sys.executable, "-m", "sendoff.cli.main", *rest], env)


def _server_flags(args: argparse.Namespace) -> dict[str, object]:
    """The settings flags of ``server``/``worker`` (not the client commands' global options)."""
    return {k: v for k, v in vars(args).items() if k not in ("command", "endpoint_url", "output")}


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "server":
        from sendoff.config.settings import load_settings

        flags = _server_flags(args)
        settings = load_settings(flags)
        from sendoff.workers import clear_metrics, share_metrics

        if settings.worker_process_count > 0:
            share_metrics(settings.data_dir / "metrics")
        else:
            clear_metrics(settings.data_dir / "metrics")  # a previous run's, unused now
        from sendoff.server import serve

        serve(settings)
        return 0
    if args.command == "worker":
        from sendoff.config.settings import load_settings
        from sendoff.server import work

        flags = _server_flags(args)
        work(load_settings(flags))
        return 0
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "credentials":
        from sendoff.cli import credentials

        return credentials.run(args)
    if args.command == "completion":
        from sendoff.cli.completion import bash_script, zsh_script

        parser = build_parser()
        print(bash_script(parser) if args.shell == "bash" else zsh_script(parser), end="")
        return 0
    client = Client(args.endpoint_url, region=args.region)
    if args.command == "functions":
        return _functions_list(client, as_json=wants_json(args))
    if args.command == "invoke":
        return _invoke(client, args.name, args.payload, args.qualifier)
    if args.command == "logs":
        return _logs(client, args.name, follow=args.follow, region=args.region)
    if args.command == "events":
        from sendoff.cli import events

        return events.run(client, args)
    if args.command == "buses":
        from sendoff.cli import buses

        return buses.run(client, args)
    if args.command == "queues":
        from sendoff.cli import queues

        return queues.run(client, args)
    if args.command == "topics":
        from sendoff.cli import topics

        return topics.run(client, args)
    if args.command in ("deploy", "stacks"):
        from sendoff.cli import stacks

        return stacks.run(args.endpoint_url, args)
    raise CliError(f"unknown command {args.command}")


def _migrate(args: argparse.Namespace) -> int:
    import asyncio

    from sendoff.config.settings import load_settings
    from sendoff.errors import StoreError
    from sendoff.store import open_store

    url = load_settings({"data_dir": args.data_dir, "store_url": args.store_url}).resolved_store_url

    async def run() -> None:
        store = open_store(url)
        await store.open()  # every backend migrates when it opens
        await store.close()

    try:
        asyncio.run(run())
    except StoreError as exc:
        raise ConfigError(str(exc)) from exc
    print(f"{url.split('://', 1)[0]} store is up to date")
    return 0


def _functions_list(client: Client, *, as_json: bool = False) -> int:
    marker = None
    rows: list[dict[str, str]] = []
    while True:
        params: dict[str, str] = {"Marker": marker} if marker else {}
        page = client.json("GET", "/2015-03-31/functions/", params=params)
        rows += page.get("Functions", [])
        marker = page.get("NextMarker")
        if not marker:
            break
    if as_json:
        return emit_json(rows)
    if not rows:
        print("no functions")
        return 0
    width = max(len(f["FunctionName"]) for f in rows)
    for f in rows:
        print(f"{f['FunctionName']:<{width}}  {f['Runtime']:<14} {f['Handler']}")
    return 0


def _invoke(client: Client, name: str, payload: str, qualifier: str | None) -> int:
    try:
        json.loads(payload)
    except ValueError as exc:
        raise CliError(f"--payload is not valid JSON: {exc}") from exc
    params = {"Qualifier": qualifier} if qualifier else {}
    response = client.request(
        "POST",
        f"/2015-03-31/functions/{name}/invocations",
        content=payload.encode(),
        params=params,
        headers={"X-Amz-Log-Type": "Tail"},
    )
    if response.status_code >= 400:
        from sendoff.cli.client import error_text

        raise CliError(error_text(response))
    log_b64 = response.headers.get("x-amz-log-result")
    if log_b64:
        sys.stderr.write(base64.b64decode(log_b64).decode(errors="replace"))
    print(response.text)
    return 1 if response.headers.get("x-amz-function-error") else 0


def _logs(client: Client, name: str, *, follow: bool, region: str | None = None) -> int:
    after = 0
    while True:
        params: dict[str, str | int] = {"after": after}
        if region:
            params["region"] = region
        page = client.json("GET", f"/_sendoff/logs/{name}", params=params)
        for event in page["events"]:
            print(event["message"])
        after = page["next"]
        sys.stdout.flush()
        if not follow:
            return 0
        if not page["events"]:
            time.sleep(0.5)  # polling a remote log at a human pace; not a timing assumption


if __name__ == "__main__":
    raise SystemExit(main())
