"""Read a YAML config file, resolve its ``extends`` chain and validate it into a frozen ``Config``.

YAML is parsed with the safe loader only: a config cannot construct Python objects or run code. A child config
overrides only what it names, merged key by key; lists replace. Paths are made absolute relative to the file that
names them, so a parent's ``data.prices`` stays right when a child in another folder extends it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from allocator.config.schema import Config
from allocator.errors import ConfigError
from allocator.files.reading import read_text

PATH_KEYS = (("data", "prices"), ("data", "fundamentals"), ("orders", "journal"), ("returns", "mu_file"),
             ("returns", "macro", "series"),
             ("risk", "covariance_file"), ("risk", "factor_model", "loadings"),
             ("risk", "factor_model", "factor_covariance"), ("risk", "factor_model", "specific_variance"),
             ("backtest", "cash_rate", "file"))
MAX_CONFIG_BYTES = 1_048_576
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~20x faster
MAX_CHAIN = 32
MAX_VALUES = 100_000  # values in a config once YAML aliases are expanded (a real config has a few hundred)
MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice (PyYAML would silently keep the last)."""


class StrictSafeLoader(SAFE_LOADER):  # type: ignore[misc]
    """PyYAML's safe loader (plain values only: a config cannot build Python objects or run code; libyaml's C
    parser where installed) that also refuses a key given twice in one mapping. Keys brought in by a merge
    (``<<: *defaults``) may be overridden."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(problem=f"key {key!r} appears twice in the same mapping (first on line "
                                        f"{seen[key].line + 1})", problem_mark=key_node.start_mark)
            seen[key] = key_node.start_mark
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep)
        return mapping


# YAML 1.2's booleans and numbers only. PyYAML follows YAML 1.1, where yes/no/on/off (any case) are booleans, so
# ``turnover_max: off`` became 0.0 and a ticker ``ON`` or ``NO`` a boolean key; and where 8:24 is the base-60
# number 504, 7_0 is 70, 0b1110 is 14 and 0012345 is the octal 5349 (an account number!), while 1e3 is text. Here
# only true/false are booleans and only plain decimals (1e3 included) are numbers; a leading zero keeps a value
# text. Anything else stays text, which a number-only key refuses.
_YAML_1_1_TYPES = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
StrictSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _YAML_1_1_TYPES]
    for first, resolvers in SAFE_LOADER.yaml_implicit_resolvers.items()}
StrictSafeLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                       list("tTfF"))
StrictSafeLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                       list("-+0123456789"))
StrictSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
               r"|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _count_values(data: Any, where: str) -> None:
    """Refuse a config whose values, with aliases expanded, exceed ``MAX_VALUES`` (a "billion laughs" file)."""
    stack, count = [data], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ConfigError(where, f"the config expands to more than {MAX_VALUES:,} values (through YAML anchors "
                              "and aliases?)", "write the config out plainly; a config has a few hundred values")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with where it came from.

    ``chain`` lists the files from the one named on the command line to the root of its ``extends`` chain;
    ``notes`` holds what the manifest should report (for example paths that leave the config's folder).
    """

    config: Config
    path: Path
    chain: tuple[Path, ...]
    notes: tuple[str, ...] = field(default=())

    def resolved(self) -> dict[str, Any]:
        """The resolved config as plain JSON-able data, paths as strings."""
        data: dict[str, Any] = self.config.model_dump(mode="json")
        return data


def _read_yaml(path: Path, chain: list[Path]) -> dict[str, Any]:
    where = str(path)
    if not path.exists():
        via = " (extended by " + " <- ".join(str(p) for p in reversed(chain)) + ")" if chain else ""
        raise ConfigError(where, f"config file not found{via}", "check the path")
    text = read_text(path, MAX_CONFIG_BYTES, "config file", error=ConfigError, expected="YAML",
                     too_large_fix="a config is a few kilobytes; check that this is the right file")
    try:
        data = yaml.load(text, Loader=StrictSafeLoader)  # a subclass of the safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None else where
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if isinstance(exc, DuplicateKeyError):
            raise ConfigError(loc, problem, "keep one of them") from None
        if isinstance(exc, yaml.constructor.ConstructorError) and "constructor for the tag" in problem:
            raise ConfigError(loc, f"YAML tag not allowed: {problem.split('tag ')[-1]}",
                              "a config holds plain values only (it is read with a safe loader); remove the tag"
                              ) from None
        if "nesting depth" in problem:  # libyaml's limit; the pure-Python parser recurses instead
            raise ConfigError(where, "the YAML is nested too deeply to read", "a config is a few levels deep") from None
        raise ConfigError(loc, f"YAML syntax error: {problem}", "fix the YAML at that line") from None
    except RecursionError:
        raise ConfigError(where, "the YAML is nested too deeply to read", "a config is a few levels deep") from None
    _count_values(data, where)
    if data is None:
        raise ConfigError(where, "the config file is empty", "give at least a data section")
    if not isinstance(data, dict):
        raise ConfigError(where, f"expected a mapping of sections at the top level, got {type(data).__name__}",
                          "start the file with keys such as 'data:' and 'constraints:'")
    return data


def _absolutize_paths(data: dict[str, Any], folder: Path, notes: list[str], source: Path) -> None:
    for *sections, key in PATH_KEYS:
        block: Any = data
        for section in sections:
            block = block.get(section) if isinstance(block, dict) else None
        if isinstance(block, dict) and isinstance(block.get(key), str):
            raw = block[key]
            resolved = Path(os.path.normpath(folder / raw)) if not os.path.isabs(raw) else Path(raw)
            if ".." in Path(raw).parts:
                notes.append(f"{source}: {'.'.join(sections)}.{key} '{raw}' points outside the config's folder "
                             f"(resolved to {resolved})")
            block[key] = str(resolved)


def deep_merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge ``child`` over ``parent`` key by key; lists and scalars in the child replace the parent's."""
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_chain(path: Path) -> tuple[dict[str, Any], tuple[Path, ...], tuple[str, ...]]:
    """Resolve ``extends`` from ``path`` up to its root; return the merged mapping, the chain and notes."""
    chain: list[Path] = []
    layers: list[dict[str, Any]] = []
    notes: list[str] = []
    current = Path(os.path.normpath(path.absolute()))
    while True:
        if current in chain:
            loop = " -> ".join(str(p) for p in [*chain, current])
            raise ConfigError(str(chain[0]), f"'extends' forms a cycle: {loop}", "remove the loop")
        if len(chain) >= MAX_CHAIN:
            raise ConfigError(str(chain[0]), f"'extends' chain is deeper than {MAX_CHAIN}", "shorten the chain")
        data = _read_yaml(current, chain)
        chain.append(current)
        _absolutize_paths(data, current.parent, notes, current)
        parent = data.pop("extends", None)
        layers.append(data)
        if parent is None:
            break
        if not isinstance(parent, str) or not parent.strip():
            raise ConfigError(f"{current}: extends", f"expected a file path, got {parent!r}",
                              "write e.g. 'extends: base.yaml'")
        current = Path(os.path.normpath(current.parent / parent))
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged, tuple(chain), tuple(notes)


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the key at ``loc`` (for listing valid keys on a typo)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``list[X]`` or ``dict[str, X]`` annotations."""
    for arg in getattr(annotation, "__args__", ()) or ():
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def format_validation_errors(exc: ValidationError) -> list[str]:
    """One line per problem: ``key.path: what (got value)``, with the valid keys for an unknown key."""
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = _format_loc(loc)
        if err["type"] == "extra_forbidden":
            owner = _model_at(Config, loc)
            valid = sorted(owner.model_fields) if owner else []
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            lines.append(f"{key}: unknown key{hint} (valid keys: {', '.join(valid)})")
            continue
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(got, dict | list) else f" (got {got!r})"
        lines.append(f"{key}: {msg}{shown}" if key else msg)  # a whole-config check names its keys itself
    return lines


def load_config(path: str | os.PathLike[str]) -> LoadedConfig:
    """Load, resolve and validate the config at ``path``; raise ``ConfigError`` listing every problem."""
    path = Path(path)
    merged, chain, notes = resolve_chain(path)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        lines = format_validation_errors(exc)
        count = f"{len(lines)} problem" + ("s" if len(lines) != 1 else "")
        raise ConfigError(str(path), f"invalid configuration ({count})", "fix the keys listed below",
                          details=lines) from None
    return LoadedConfig(config=config, path=chain[0], chain=chain, notes=notes)
