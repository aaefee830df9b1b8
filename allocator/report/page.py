"""The report page as data: sections of tables, figures and text, rendered to HTML by ``allocator.report.html``.

A page builder (``run_page``, ``compare_page``, ``frontier_page``; one per kind of output folder, see
``allocator.report.build``) reads an output folder and returns a ``Page``; it never writes HTML. Numbers become text
here only, through ``percent``, ``money``, ``ratio`` and ``number``: each ``Cell`` keeps the value (so a table sorts
by it) and, when the number comes from a file of the folder, ``source``, the file and key path it was read from
(``summary.json#target.expected_return``, ``weights.csv#SPY.target_weight``), so a test can check the page against
the files to the displayed precision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, the number behind it (None for text), and the file and key it came from."""

    text: str
    value: float | None = None
    source: str = ""

    @property
    def numeric(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Table:
    """A table with a caption (which states the units), a header row and rows; ``sortable`` tables sort by a click
    on a column's header; ``row_header`` makes the first cell of each row its header."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    sortable: bool = False
    row_header: bool = True


@dataclass(frozen=True)
class Figure:
    """An inline SVG chart (``svg``, with its own ``<title>`` and ``<desc>``) and its caption."""

    svg: str
    caption: str


@dataclass(frozen=True)
class Text:
    """A paragraph; ``lines`` becomes a list when there is more than one (``ordered`` for a numbered one)."""

    lines: tuple[str, ...]
    ordered: bool = False
    emphasis: bool = False


@dataclass(frozen=True)
class Facts:
    """Label: value pairs shown as a description list (the headline, the manifest's digest)."""

    items: tuple[tuple[str, Cell], ...]


Block = Table | Figure | Text | Facts


@dataclass(frozen=True)
class Section:
    """A section of the page: ``key`` is its HTML id (tests look sections up by it), ``title`` its heading."""

    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Page:
    """A whole page: its kind (``run``, ``compare``, ``frontier``...), title, subtitle and sections, in order."""

    kind: str
    title: str
    subtitle: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def _number(value: float | None, source: str, shown: Callable[[float], str]) -> Cell:
    return Cell("-") if value is None else Cell(shown(float(value)), float(value), source)


def percent(value: float | None, source: str = "", digits: int = 2) -> Cell:
    """A fraction shown as a percentage with ``digits`` decimals (``0.0380`` -> ``3.80%``)."""
    return _number(value, source, lambda v: f"{100.0 * v:.{digits}f}%")


def money(value: float | None, source: str = "") -> Cell:
    """Money in the account currency, two decimals with thousands separators."""
    return _number(value, source, lambda v: f"{v:,.2f}")


def ratio(value: float | None, source: str = "", digits: int = 2) -> Cell:
    """A plain number (a Sharpe ratio, a count, a risk aversion) with ``digits`` decimals."""
    return _number(value, source, lambda v: f"{v:,.{digits}f}")


def _significant(value: float) -> str:
    shown = f"{value:.4g}"
    return f"{value:.10f}".rstrip("0").rstrip(".") if "e" in shown else shown  # no exponent on the page


def number(value: float | None, source: str = "") -> Cell:
    """A number as the config writes it: up to 4 significant digits (``0.06``, ``-0.1``, ``2.5``)."""
    return _number(value, source, _significant)


def text(value: object) -> Cell:
    return Cell("" if value is None else str(value))


def texts(values: Sequence[object]) -> tuple[Cell, ...]:
    return tuple(text(v) for v in values)
