"""The SQL files of the SQL backends, read from package data (``<backend>/sql/``).

* Numbered migrations, ``NNNN_name.sql``: the schema, applied in order, each once.
* ``queries.sql``: every query of the backend, by name. A ``-- name: <name>`` line starts
  query ``<name>``; other comment lines are dropped, and so is the closing semicolon.
"""

from __future__ import annotations

import re
from importlib import resources

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations(package: str) -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration packaged in ``package``, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    found.sort()
    return found


def queries(package: str) -> dict[str, str]:
    """The named queries of ``package``'s ``queries.sql``."""
    text = resources.files(package).joinpath("queries.sql").read_text()
    found: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in [*text.splitlines(), "-- name: <end>"]:
        if line.startswith("-- name:"):
            if name is not None:
                found[name] = "\n".join(lines).strip().rstrip(";")
            name, lines = line.split(":", 1)[1].strip(), []
        elif name is not None and not line.lstrip().startswith("--"):
            lines.append(line)
    return found
