"""Errors of the infrastructure-as-code layer, and the ``Problem`` they carry.

SendoffError
└── IacError                 anything ``sendoff deploy`` reports on purpose
    ├── TemplateError        the template is invalid: syntax, structure, parameters,
    │                        references, cycles, property values (a list of Problems);
    │                        nothing was changed
    ├── UnsupportedError     the template uses resource types sendoff cannot create
    ├── StackError           a stack is missing or busy (another deployment in progress)
    └── ResourceFailed       a resource could not be created, updated or deleted

Each ``Problem`` names the place (a path into the template, and the line when it is known)
so a message can point at the resource and property that is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sendoff.errors import SendoffError

PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with a template, at a place."""

    path: Path
    message: str
    line: int | None = None

    def at_line(self, line: int | None) -> Problem:
        return replace(self, line=line)

    def __str__(self) -> str:
        where = format_path(self.path)
        prefix = f"line {self.line}: " if self.line else ""
        return f"{prefix}{where}: {self.message}" if where else f"{prefix}{self.message}"


class IacError(SendoffError):
    """Root of the errors of template handling and deployment."""


class TemplateError(IacError):
    """The template (or its parameters) cannot be deployed; nothing was changed."""

    def __init__(self, problems: Sequence[Problem], *, source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        lines = [str(p) for p in self.problems]
        head = f"{source}: " if source else ""
        if len(lines) == 1:
            super().__init__(f"{head}{lines[0]}")
        else:
            super().__init__(f"{head}{len(lines)} problems:\n" + "\n".join(f"  {x}" for x in lines))

    def with_source(self, source: str) -> TemplateError:
        return TemplateError(self.problems, source=source)


class UnsupportedError(IacError):
    """Resource types sendoff cannot create; ``--skip-unsupported`` leaves them out."""

    def __init__(self, unsupported: dict[str, list[str]]) -> None:
        self.unsupported = unsupported
        parts = [f"{t} ({', '.join(ids)})" for t, ids in sorted(unsupported.items())]
        super().__init__(
            "the template uses resource types sendoff does not support: "
            + "; ".join(parts)
            + ". Remove them, or deploy with --skip-unsupported to leave them out."
        )


class StackError(IacError):
    """A stack does not exist, or another deployment of it is in progress."""


class ResourceFailed(IacError):
    """A resource operation failed on the server."""

    def __init__(self, logical_id: str, message: str, *, prop: str | None = None) -> None:
        self.logical_id = logical_id
        self.prop = prop
        self.reason = message
        where = f"Resources.{logical_id}" + (f".Properties.{prop}" if prop else "")
        super().__init__(f"{where}: {message}")
