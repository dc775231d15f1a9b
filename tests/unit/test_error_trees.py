"""The exception trees drawn in module docstrings say what the code holds: each class a
tree names exists there, with the parent the tree gives it, and each exception class of
the module is in its tree. The root tree (sendoff.errors) names every direct subclass of
SendoffError in the package. And every error has the attributes the edges and the console
read (code, status, message, not_found)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import sendoff
from sendoff.errors import SendoffError

TREE_MODULES = [
    "sendoff.errors",
    "sendoff.functions.errors",
    "sendoff.services.sqs.errors",
    "sendoff.services.sns.errors",
    "sendoff.services.events.errors",
    "sendoff.services.iam.errors",
    "sendoff.services.s3.errors",
    "sendoff.iac.errors",
]
_ENTRY = re.compile(r"^(?P<indent>[│ ]*)(?:[├└]── )?(?P<name>[A-Z][A-Za-z0-9]+)\b")


def _tree(doc: str) -> dict[str, str | None]:
    """Each class named at the start of a tree line, with the class one level up."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        if not line.strip() or ("──" not in line and not re.match(r"^[A-Z]\w+( \(|$)", line)):
            continue
        match = _ENTRY.match(line)
        if match is None:
            continue
        depth = len(match.group("indent"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group("name")] = stack[-1][1] if stack else None
        stack.append((depth, match.group("name")))
    return parents


def _exceptions_of(module: object) -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == getattr(module, "__name__", "")
    }


def _all_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(sendoff.__path__, "sendoff."):
        if ".bootstrap" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("module_name", TREE_MODULES[1:])
def test_a_module_tree_matches_its_classes(module_name: str) -> None:
    module = importlib.import_module(module_name)
    tree = _tree(module.__doc__ or "")
    classes = _exceptions_of(module)
    drawn = {name for name in tree if name in classes}
    assert set(classes) <= set(tree) | _grouped(module.__doc__ or "", classes), (
        f"not in the tree: {sorted(set(classes) - set(tree))}"
    )
    for name in drawn:
        parent = tree[name]
        if parent is not None and parent in classes:
            assert classes[name].__bases__[0] is classes[parent], (name, parent)


def _grouped(doc: str, classes: dict[str, type[BaseException]]) -> set[str]:
    """Classes named together on one tree line (``batch envelope errors A, B, ...``)."""
    return {name for name in classes if re.search(rf"\b{name}\b", doc)}


def test_the_root_tree_names_every_direct_subclass() -> None:
    for name in _all_modules():
        importlib.import_module(name)
    direct = {cls.__name__ for cls in SendoffError.__subclasses__()}
    tree = _tree(sendoff.errors.__doc__ or "")
    assert direct <= set(tree), f"missing from sendoff.errors: {sorted(direct - set(tree))}"
    assert {n for n, p in tree.items() if p == "SendoffError"} <= direct | {"ApiError"}


def _every_error() -> list[type[SendoffError]]:
    for name in _all_modules():
        importlib.import_module(name)
    found: list[type[SendoffError]] = []
    pending = [SendoffError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_has_what_the_edges_read() -> None:
    for cls in _every_error():
        assert isinstance(cls.code, str) and cls.code, cls
        assert isinstance(cls.status, int) and 200 <= cls.status < 600, cls
        assert isinstance(cls.not_found, bool), cls
