"""Lua scripts of the Redis backend: every multi-step atomic operation is one script.

Each ``<name>.lua`` documents the keys it touches at its top. A script whose first line is
``--! include <lib>.lua`` gets that library prepended when loaded (Redis has no includes),
so the helpers that keep the event indexes consistent are written once.

Conventions shared by every script (see docs/store-redis.md for the whole key schema):

* ``P`` is the key prefix; scripts that touch keys derived from data (one hash per event or
  message) take it as ``ARGV[1]`` and build those keys themselves.
* Times arrive as decimal strings written by Python (``repr(float)``) and are stored exactly
  as received; Lua only compares them (``tonumber``) and never formats a float, because
  Lua's ``tostring`` keeps 14 digits and epoch times need 16-17.
* ``""`` stands for "none" in arguments; absent hash fields are "none" in storage.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

_INCLUDE = "--! include "


@cache
def source(name: str) -> str:
    """The full text of script ``name`` (without ``.lua``), includes expanded."""
    text = resources.files(__name__).joinpath(f"{name}.lua").read_text()
    first, _, rest = text.partition("\n")
    if first.startswith(_INCLUDE):
        lib = first.removeprefix(_INCLUDE).strip().removesuffix(".lua")
        return f"{source(lib)}\n-- ---- {name}.lua ----\n{rest}"
    return text


def names() -> list[str]:
    """Every runnable script (libraries, named ``lib_*``, are only included)."""
    return sorted(
        entry.name.removesuffix(".lua")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".lua") and not entry.name.startswith("lib_")
    )
