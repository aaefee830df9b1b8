"""Module boundaries: no module reaches into another's private names.

A leading underscore marks a name as its module's own business. Neither ``allocator/`` nor the tests import such
a name from an ``allocator`` module (``from allocator.x import _name``) or read it as an attribute of one
(``allocator.x._name``, or ``m._name`` where ``m`` names an ``allocator`` module, or ``getattr(m, "_name")`` and
``monkeypatch.setattr(m, "_name", ...)``). Dunder names are public.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

PACKAGE = "allocator"
NAMED_ACCESS = {"getattr", "setattr", "hasattr", "delattr", "monkeypatch.setattr", "monkeypatch.delattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(dotted: str, root: Path) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an ``ImportFrom`` names, with relative imports resolved against ``module``."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def private_uses(source: str, module: str, root: Path = ROOT, is_package: bool = False) -> Iterator[str]:
    """Every private name of an ``allocator`` module that ``source`` (the text of ``module``) imports or reads."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # a local name -> the allocator module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    if alias.asname:
                        modules[alias.asname] = alias.name
                    else:
                        modules[PACKAGE] = PACKAGE
        elif isinstance(node, ast.ImportFrom):
            source_module = _absolute(node, module, is_package)
            if source_module.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                if _private(alias.name):
                    yield f"line {node.lineno}: from {source_module} import {alias.name}"
                elif _is_module(f"{source_module}.{alias.name}", root):
                    modules[alias.asname or alias.name] = f"{source_module}.{alias.name}"

    def other_module(node: ast.expr) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head not in modules:
            return None
        target = ".".join(part for part in (modules[head], rest) if part)
        return target if target != module and _is_module(target, root) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            target = other_module(node.value)
            if target is not None:
                yield f"line {node.lineno}: {target}.{node.attr}"
        elif (isinstance(node, ast.Call) and _dotted(node.func) in NAMED_ACCESS and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value)):
            target = other_module(node.args[0])
            if target is not None:
                yield f"line {node.lineno}: {target}.{node.args[1].value}"


def _python_files() -> Iterator[tuple[Path, str, bool]]:
    for folder in (PACKAGE, "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            is_package = relative.name == "__init__"
            parts = relative.parts[:-1] if is_package else relative.parts
            yield path, ".".join(parts), is_package


def test_no_module_uses_a_private_name_of_another() -> None:
    found = [f"{path.relative_to(ROOT)} {use}" for path, module, is_package in _python_files()
             for use in private_uses(path.read_text(encoding="utf-8"), module, ROOT, is_package)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_scan_finds_each_kind_of_private_use() -> None:
    """The scanner itself: it sees imports, dotted reads, reads through a module alias and names given as strings
    to getattr and setattr, and nothing else."""
    source = """
import allocator.optimize.problem
import allocator.optimize.problem as optimize
from allocator.optimize import relaxation
from allocator.optimize.problem import _finish, __doc__, solve_allocation
from .problem import _hidden
allocator.optimize.problem._clean(x)
optimize._attempt
relaxation._private_thing
solve_allocation._not_a_module
monkeypatch.setattr(optimize, "_attempt", None)
getattr(relaxation, "_other")
setattr(other, "_fine", 1)
other._fine
optimize.__name__
"""
    found = list(private_uses(source, "allocator.optimize.constraints", ROOT))
    assert sorted(use.split(": ")[1] for use in found) == [
        "allocator.optimize.problem._attempt",
        "allocator.optimize.problem._attempt",
        "allocator.optimize.problem._clean",
        "allocator.optimize.relaxation._other",
        "allocator.optimize.relaxation._private_thing",
        "from allocator.optimize.problem import _finish",
        "from allocator.optimize.problem import _hidden",
    ]


def test_a_module_may_use_its_own_private_names() -> None:
    source = "import allocator.optimize.problem as me\nme._clean(x)\n"
    assert not list(private_uses(source, "allocator.optimize.problem", ROOT))


STAGES = ("config", "inputs", "model", "optimize", "orders", "outputs", "trading", "compare")


def test_each_stage_package_names_what_it_exports() -> None:
    """Each stage package says what it does, and every name in its ``__all__`` is the object its module defines."""
    for stage in STAGES:
        package = importlib.import_module(f"{PACKAGE}.{stage}")
        assert package.__doc__ and len(package.__doc__) > 100, stage
        modules = getattr(package, "MODULES", {})
        assert not {name for name in package.__all__ if _is_module(f"{PACKAGE}.{stage}.{name}", ROOT)}, (
            f"{stage}: a name that is also a module's is hidden by the module once it is imported")
        for name in package.__all__:
            value = getattr(package, name)
            if name in modules:
                assert getattr(importlib.import_module(f"{PACKAGE}.{stage}.{modules[name]}"), name) is value
        with pytest.raises(AttributeError):
            package.no_such_name  # noqa: B018


def test_no_import_cycle_between_modules() -> None:
    """Between stages the layers contract (import-linter, in pyproject.toml) rules cycles out; this checks module
    by module, imports inside functions included (imports for type annotations only are not cycles at run time)."""
    graph = grimp.build_graph("allocator", exclude_type_checking_imports=True)
    cycles = {(a, b) for a in sorted(graph.modules) for b in sorted(graph.find_modules_directly_imported_by(a))
              if graph.chain_exists(importer=b, imported=a)}
    assert cycles == set()
