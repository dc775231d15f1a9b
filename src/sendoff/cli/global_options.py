"""Global options (``--endpoint-url``, ``--output``, ``--region``) accepted anywhere.

AWS CLI users write ``aws sqs list-queues --endpoint-url ... --output json``: the global
options go before or after the command. argparse only knows an option on the parser that
defines it, so each one is defined on the top-level parser (with its real default) and
again on every client command's parser with the default ``SUPPRESS``: a subparser then
sets the value only when the option is given there, and never overwrites one given
before the subcommand with its own default. A command that defines one of these options
itself (``server --region``) keeps its definition, with its default suppressed the same way.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"

# Commands that do not talk to a server over HTTP: they take no --endpoint-url.
LOCAL_COMMANDS = frozenset({"server", "worker", "migrate", "credentials", "completion"})

OUTPUT_CHOICES = ("table", "json")


def add_top_level(parser: argparse.ArgumentParser) -> None:
    """The global options with their defaults (flag > environment > built-in)."""
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("SENDOFF_ENDPOINT_URL", DEFAULT_ENDPOINT),
        help="server URL for client commands, before or after the command"
        " [env SENDOFF_ENDPOINT_URL]",
    )
    parser.add_argument(
        "--output",
        "-o",
        choices=OUTPUT_CHOICES,
        default=os.environ.get("SENDOFF_OUTPUT", "table"),
        help="result format on stdout: a table for people, json for scripts [env SENDOFF_OUTPUT]",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="region for client commands (default: the server's; for `server`, its region)",
    )


def spread(parser: argparse.ArgumentParser) -> None:
    """Accept the global options after any client subcommand, at every level."""
    for name, child in _children(parser):
        local = name in LOCAL_COMMANDS
        for sub in _tree(child):
            _suppress_own(sub)
            if not local:
                _add_suppressed(sub)


def _children(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _tree(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for _, child in _children(parser):
        yield from _tree(child)


def _suppress_own(parser: argparse.ArgumentParser) -> None:
    for flag in ("--endpoint-url", "--output", "--region"):
        action = parser._option_string_actions.get(flag)
        if action is not None:
            action.default = argparse.SUPPRESS


def _add_suppressed(parser: argparse.ArgumentParser) -> None:
    have = parser._option_string_actions
    if "--endpoint-url" not in have:
        parser.add_argument(
            "--endpoint-url", default=argparse.SUPPRESS, help="server URL (global option)"
        )
    if "--output" not in have:
        flags = ("--output",) if "-o" in have else ("--output", "-o")
        parser.add_argument(
            *flags,
            choices=OUTPUT_CHOICES,
            default=argparse.SUPPRESS,
            help="result format on stdout (global option)",
        )
    if "--region" not in have:
        parser.add_argument("--region", default=argparse.SUPPRESS, help="region (global option)")
