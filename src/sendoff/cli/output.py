"""Output formats shared by the client commands: ``--output table`` (default) or ``json``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        "-o",
        choices=("table", "json"),
        default=os.environ.get("SENDOFF_OUTPUT", "table"),
        help="result format on stdout: a table for people, json for scripts [env SENDOFF_OUTPUT]",
    )


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "table") == "json"


def emit_json(data: Any) -> int:
    print(json.dumps(data, indent=2, default=str))
    return 0
