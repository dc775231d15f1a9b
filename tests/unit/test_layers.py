"""The package layers: no module imports one from a higher layer (issue 13).

Every ``sendoff`` import is read from the source (at module level, inside functions and
under ``TYPE_CHECKING`` alike, since each is a dependency), and each package is imported
alone in a fresh interpreter, lowest layer first. ``KNOWN`` lists the upward imports not
yet removed; one that is removed must leave the list (the test says so), and a new one fails.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# lowest first; a module may import its own layer and any lower one
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "errors model config metrics banner workers",
        "store executor",
        "auth functions",
        "delivery",
        "services",
        "destinations",
        "scheduler sources",
        "api",
        "iac",
        "wiring.services wiring.lifecycle",  # the typed container the console reads
        "console",
        "wiring",
        "server",
        "cli",
    )
)
# (importer module, imported module): upward imports still to be removed (none left)
KNOWN: frozenset[tuple[str, str]] = frozenset()


def layer_of(module: str) -> int:
    parts = module.split(".")[1:] or ["__init__"]
    for key in (".".join(parts[:2]), parts[0]):
        for index, names in enumerate(LAYERS):
            if key in names:
                return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(SRC).with_suffix("").parts)
    return name.removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("sendoff.")}


def upward_imports() -> set[tuple[str, str]]:
    upward: set[tuple[str, str]] = set()
    for path in sorted((SRC / "sendoff").rglob("*.py")):
        if path.name == "__init__.py" and path.parent == SRC / "sendoff":
            continue  # the package root only names the version
        here = module_name(path)
        for target in imports_of(path):
            if layer_of(target) > layer_of(here):
                upward.add((here, target))
    return upward


def test_no_module_imports_a_higher_layer() -> None:
    upward = upward_imports()
    new = sorted(upward - KNOWN)
    assert not new, "upward imports (move the code, or invert the dependency):\n" + "\n".join(
        f"  {a} (layer {layer_of(a)}) -> {b} (layer {layer_of(b)})" for a, b in new
    )
    fixed = sorted(KNOWN - upward)
    assert not fixed, f"no longer imported, remove from KNOWN: {fixed}"


def test_services_has_no_any() -> None:
    source = (SRC / "sendoff" / "wiring" / "services.py").read_text()
    assert "Any" not in source


PACKAGES = [
    name
    for names in LAYERS
    for name in sorted(names)
    if "." not in name and name not in ("errors", "metrics", "banner", "workers", "server")
]


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_alone_in_layer_order(package: str) -> None:
    """A fresh interpreter imports every module of the package (an import cycle that
    only works in one order fails here)."""
    code = (
        f"import importlib, pkgutil, sendoff.{package} as p\n"
        f"for m in pkgutil.walk_packages(p.__path__, 'sendoff.{package}.'):\n"
        "    importlib.import_module(m.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
