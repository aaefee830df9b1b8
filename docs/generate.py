"""Regenerate the reference pages of the docs from the code: ``docs/configuration.md`` from the pydantic config
models (``allocator.config.schema``) and ``docs/cli.md`` from each command's ``--help``.

    python docs/generate.py          # rewrite both pages
    python docs/generate.py --check  # exit 1 if a committed page differs from what the code gives

``tests/test_docs.py`` runs the check, so a new config key or CLI option fails the tests until the pages are
regenerated. The help is rendered at a fixed width (``WIDTH``) so the page does not depend on the terminal.
"""

from __future__ import annotations

import enum
import inspect
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
WIDTH = 100

if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


# --- configuration.md --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigKey:
    """One key of the config: its dotted path as written in YAML, and what the page says about it."""

    path: str
    kind: str
    default: str
    description: str
    section: bool


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """The bare type of an annotation, its constraint metadata, and whether it may be null."""
    metadata: list[Any] = []
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                break
            annotation = args[0]
        else:
            break
    return annotation, metadata, nullable


def _bounds(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if isinstance(item, annotated_types.BaseMetadata) and value is not None:
                parts.append(f"{sign} {_number(value)}")
    return ", ".join(parts)


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if abs(value) >= 1e4 else f"{value:g}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _type_text(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A short human reading of a field's type: ``number (>= 0, <= 1) or null``, ``one of `a`, `b```."""
    bare, inner, nullable = _unwrap(annotation)
    inner = [*(metadata or []), *inner]
    origin = typing.get_origin(bare)
    if origin in (typing.Union, types.UnionType):  # one of several kinds: each in turn
        text = " or ".join(_type_text(arm) for arm in typing.get_args(bare) if arm is not type(None))
        return text + (" or `null`" if nullable else "")
    if inspect.isclass(bare) and issubclass(bare, enum.Enum):
        members = [f"`{m.value}`" for m in bare]
        text = members[0] if len(members) == 1 else "one of " + ", ".join(members)
    elif inspect.isclass(bare) and issubclass(bare, BaseModel):
        text = "mapping"
    elif origin is list:
        (item,) = typing.get_args(bare)
        text = f"list of {_plural(_type_text(item))}"
    elif origin is dict:
        key, value = typing.get_args(bare)
        text = f"map of {_type_text(key)} to {_type_text(value)}"
    elif bare is bool:
        text = "`true` or `false`"
    elif bare is int:
        text = "integer"
    elif bare is float:
        text = "number"
    elif bare is Path:
        text = "path"
    elif bare is str:
        text = "symbol" if any(getattr(m, "max_length", None) == 32 for m in inner) else "text"
    else:  # pragma: no cover - a new kind of field: show it as Python spells it
        text = getattr(bare, "__name__", str(bare))
    bounds = _bounds(inner)
    if bounds:
        text += f" ({bounds})"
    return text + (" or `null`" if nullable else "")


def _plural(text: str) -> str:
    if text.startswith("one of "):
        return "values, each " + text
    return text + "s" if text.isalpha() else text


def _value_text(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, enum.Enum):
        return f"`{value.value}`"
    if isinstance(value, (int, float)):
        return f"`{_number(value)}`"
    if isinstance(value, (str, Path)):
        return f"`{value}`"
    if isinstance(value, list):
        return "`[" + ", ".join(_value_text(v).strip("`") for v in value) + "]`"
    if isinstance(value, dict):
        return "`{" + ", ".join(f"{k}: {_value_text(v).strip('`')}" for k, v in value.items()) + "}`"
    return f"`{value}`"  # pragma: no cover


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds, and how its children's paths continue: ``.``, ``.<SYMBOL>.`` or ``[i].``."""
    bare, _, _ = _unwrap(annotation)
    origin = typing.get_origin(bare)
    if inspect.isclass(bare) and issubclass(bare, BaseModel):
        return bare, "."
    if origin is dict:
        value, _, _ = _unwrap(typing.get_args(bare)[1])
        if inspect.isclass(value) and issubclass(value, BaseModel):
            return value, ".<SYMBOL>."
    if origin is list:
        item, _, _ = _unwrap(typing.get_args(bare)[0])
        if inspect.isclass(item) and issubclass(item, BaseModel):
            return item, "[i]."
    return None, ""


def _first_paragraph(model: type[BaseModel]) -> str:
    doc = inspect.getdoc(model) or ""
    if model.__doc__ is None or doc == inspect.getdoc(BaseModel):
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def config_keys(model: type[BaseModel] | None = None, prefix: str = "", defaults: Any = None) -> Iterator[ConfigKey]:
    """Every key of the config, depth first, with the defaults of the enclosing default (``hold.size`` is 0.5)."""
    if model is None:
        from allocator.config.schema import Config

        model = Config
    for name, info in model.model_fields.items():
        path = prefix + name
        child, joint = _model_of(info.annotation)
        if info.is_required():
            default, value = "required", None
        else:
            value = info.get_default(call_default_factory=True)
            if defaults is not None:
                value = getattr(defaults, name)
            default = "" if isinstance(value, BaseModel) else _value_text(value)
        description = info.description or (_first_paragraph(child) if child is not None else "")
        yield ConfigKey(path, _type_text(info.annotation, list(info.metadata)), default, description,
                        child is not None)
        if child is not None:
            yield from config_keys(child, path + joint, value if isinstance(value, BaseModel) else None)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


CONFIG_INTRO = """\
# Configuration

<!-- Generated by `python docs/generate.py` from the pydantic models in `allocator/config/schema.py`; do not edit
by hand: change the models' descriptions and regenerate (tests/test_docs.py checks that this page is current). -->

A config is a YAML file. Every key is validated, unknown keys are errors (with a "did you mean" suggestion), and
every problem is reported at once with its key path (exit 3). Weights and growth rates are fractions (0.05 = 5%),
returns and volatilities annualized, money in the account currency, costs and offsets in basis points. Paths are
relative to the config file that names them. Only `true` and `false` are booleans (YAML 1.2): `off`, `on`, `yes`
and `no` are text, so a ticker such as `ON` stays a ticker and `turnover_max: off` is an error, not 0; and a
boolean is never accepted where a number is expected.

**`extends`** (path): a parent config, relative to this file. The chain may be of any depth; the child is merged
over its parent key by key (mappings such as `position_limits` merge, lists such as `groups` replace, `null`
clears a limit). A cycle or a missing parent is a configuration error that names the chain. `manifest.json`
records the chain (`config_chain`) and the merged result (`resolved_config`). See [Scenarios](compare.md).

Keys are written as dotted paths: `constraints.position_limits.<SYMBOL>.max` is the `max` of one symbol's entry
in the `position_limits` mapping, `constraints.groups[i].by` the `by` of each entry of the `groups` list.

```yaml
extends: ../base.yaml
constraints:
  max_weight: 0.35
  position_limits: {IWM: {max: 0.08}}
  groups:
    - {by: size_bucket, name: small, max: 0.20}
rsi: {overbought: 65, min_trim: 0.25}
```
"""


def configuration_md() -> str:
    """The whole text of ``docs/configuration.md``."""
    from allocator.config.schema import Config

    lines = [CONFIG_INTRO]
    keys = list(config_keys())
    for name, info in Config.model_fields.items():
        model, _ = _model_of(info.annotation)
        assert model is not None
        lines.append(f"## `{name}`\n")
        intro = _first_paragraph(model) or (info.description or "").capitalize() + "."
        lines.append(intro + "\n")
        lines.append("| key | type | default | description |")
        lines.append("|---|---|---|---|")
        for key in keys:
            if key.path.startswith(f"{name}.") or key.path.startswith(f"{name}["):
                lines.append(f"| `{key.path}` | {_cell(key.kind)} | {_cell(key.default)} | {_cell(key.description)} |")
        lines.append("")
    return "\n".join(lines)


# --- cli.md ------------------------------------------------------------------------------------------------

CLI_INTRO = """\
# Command line

<!-- Generated by `python docs/generate.py` from each command's --help; do not edit by hand (tests/test_docs.py
checks that this page matches the commands). -->

`allocate` is the command line over the library ([Library](index.md#library)). Every command prints its help
with `-h` or `--help`; `allocate --debug COMMAND ...` shows the traceback of an error.

## Exit codes

| code | meaning |
|---|---|
| 0 | success |
| 1 | unexpected error (a bug: rerun as `allocate --debug COMMAND ...` and report it) |
| 2 | usage: a missing or wrong argument or option |
| 3 | configuration: invalid YAML, unknown key, value out of range, `extends` cycle |
| 4 | input data: holdings, prices, fundamentals, trade lists, manifests |
| 5 | infeasible limits (with the diagnosis) or solver failure |
| 6 | orders rejected or left unanswered, or no FIX logon (`allocate send`) |
| 130 | stopped by Ctrl-C (SIGINT); nothing was written, or `after writing OUT` (whole) if the stop came later \
(`send`: the journal says what was sent) |
| 143 | stopped by SIGTERM; as for Ctrl-C |

Errors go to stderr as one line `Error: <where>: <what>; <how to fix>`, with details indented below it, for
example:

```
Error: holdings.csv: row 3: quantity: not a number: 'abc'; give a plain decimal number
Error: configs/test.yaml: invalid configuration (2 problems); fix the keys listed below
  - constraints.max_wieght: unknown key; did you mean 'max_weight'? (valid keys: active_limits, ...)
  - rsi.overbought: Input should be less than or equal to 100 (got 120)
```

Results go to stdout, warnings (`Warning: ...`) and progress to stderr.
"""


def command_paths() -> list[tuple[str, ...]]:
    """Every command of ``allocate`` as its argument path: ``()`` for the group itself, ``("run",)``, ..."""
    import click

    from allocator.cli import main

    def walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                yield from walk(command.commands[name], (*path, name))

    return list(walk(main, ()))


def help_text(path: tuple[str, ...]) -> str:
    """``allocate PATH --help`` as printed at a terminal ``WIDTH`` columns wide."""
    from click.testing import CliRunner

    from allocator.cli import main

    result = CliRunner().invoke(main, [*path, "--help"], prog_name="allocate", terminal_width=WIDTH,
                                catch_exceptions=False)
    if result.exit_code != 0:  # pragma: no cover
        raise RuntimeError(f"allocate {' '.join(path)} --help exited {result.exit_code}: {result.output}")
    return result.output


def cli_md() -> str:
    """The whole text of ``docs/cli.md``."""
    lines = [CLI_INTRO]
    for path in command_paths():
        title = " ".join(("allocate", *path))
        lines.append(f"## `{title}`\n")
        lines.append("```text")
        lines.append(help_text(path).rstrip("\n"))
        lines.append("```\n")
    return "\n".join(lines)


PAGES = {"configuration.md": configuration_md, "cli.md": cli_md}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, render in PAGES.items():
        path = DOCS / name
        text = render()
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date: {', '.join('docs/' + s for s in stale)}; run python docs/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
