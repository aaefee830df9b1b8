"""Read the expected returns and risk model a user brings as files, checked and aligned with the universe.

Formats (CSV, paths relative to the config; docs/inputs.md, "Your own expected returns and risk model"):
- ``returns.mu_file``: columns ``symbol`` and ``expected_return`` (or ``mu``): annualized expected excess
  returns, decimals (0.05 = 5% a year over cash);
- ``risk.covariance_file``: the annualized covariance, symbols as the first column and as the header;
- ``risk.factor_model``: ``loadings`` (symbols as the first column, one column per factor), ``factor_covariance``
  (annualized, factor names as the first column and the header) and ``specific_variance`` (columns ``symbol`` and
  ``specific_variance``, annualized).

A covariance must be symmetric to ``SYMMETRY_TOLERANCE`` times its largest variance (beyond that the worst cell is
named and the file refused) and positive semidefinite: negative eigenvalues down to ``PSD_TOLERANCE`` times the
largest eigenvalue are clipped to zero and the repair named in a warning with its size; a more negative one is
refused. Every symbol of the universe must be in each file (the missing ones are named); rows for other symbols are
left out, with a warning. A cell that is not a number is refused with the file, row (header = row 1) and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.domain import FloatArray
from allocator.errors import DataError
from allocator.files.cells import canonical_symbol, is_ticker
from allocator.files.reading import FileLimits
from allocator.inputs.market_data import numeric_column, read_csv_table

SYMMETRY_TOLERANCE = 1e-6  # |S_ij - S_ji| accepted, relative to the largest variance (files rounded to 6 digits)
PSD_TOLERANCE = 1e-2  # negative eigenvalues clipped up to this fraction of the largest; beyond, refused
ROUNDING = 1e-12  # negative eigenvalues this small (relative) are rounding: clipped without a warning
DAILY_LOOKING = 0.02**2  # an annualized variance this small for every asset suggests a daily covariance
SYMBOL_NAMES = ("symbol", "ticker")
MU_NAMES = ("expected_return", "mu")
SPECIFIC_NAMES = ("specific_variance", "variance")


@dataclass(frozen=True)
class LabelledTable:
    """A CSV table with labels in its first column: ``labels`` (one per row), ``columns`` (the header after the
    first cell) and ``values`` (floats, rows by columns); ``path`` and ``first`` (the first header cell) for
    errors."""

    path: Path
    first: str
    labels: tuple[str, ...]
    columns: tuple[str, ...]
    values: FloatArray

    def row_of(self, label: str) -> int:
        """The file row of ``label`` (header = row 1)."""
        return self.labels.index(label) + 2


@dataclass(frozen=True)
class FactorFiles:
    """A factor model read from files and aligned with the universe: ``loadings`` B (n-by-k),
    ``factor_covariance`` F (k-by-k, annualized), ``specific_variance`` d (n, annualized), ``factors`` their
    names."""

    loadings: FloatArray
    factor_covariance: FloatArray
    specific_variance: FloatArray
    factors: tuple[str, ...]
    warnings: tuple[str, ...]


def _labels(frame: pd.DataFrame, path: Path, symbols: bool) -> tuple[str, ...]:
    column = frame.columns[0]
    raw = frame[column].astype(str).str.strip()
    labels = raw.map(canonical_symbol) if symbols else raw
    for position, label in enumerate(labels):
        if not label or (symbols and not is_ticker(label)):
            raise DataError(f"{path}: row {position + 2}: {column or 'first column'}",
                            f"{label!r} is not a ticker" if label else "empty label",
                            "give the symbol (or factor name) of every row in the first column")
    seen: dict[str, int] = {}
    for position, label in enumerate(labels):
        if label in seen:
            raise DataError(f"{path}: row {position + 2}: {column or 'first column'}",
                            f"{label} appears twice (first on row {seen[label]})", "keep one row per name")
        seen[label] = position + 2
    return tuple(labels)


def labelled_table(path: Path, limits: FileLimits, what: str, symbol_rows: bool, symbol_columns: bool
                   ) -> LabelledTable:
    """Read a table whose first column labels the rows and whose header labels the columns (symbols, in their
    canonical spelling, or factor names, as written); every other cell must be a number."""
    frame = read_csv_table(path, limits, what)
    if frame.empty or frame.shape[1] < 2:
        raise DataError(str(path), f"the {what} has no rows or no columns of numbers",
                        "give a header row, then one row per name: the name first, then the numbers")
    labels = _labels(frame, path, symbol_rows)
    columns = list(frame.columns[1:])
    values = np.column_stack([numeric_column(frame, c, path, allow_missing=False).to_numpy() for c in columns])
    names = tuple(canonical_symbol(c) if symbol_columns else c for c in columns)
    return LabelledTable(path=path, first=str(frame.columns[0]), labels=labels, columns=names, values=values)


def _column_table(path: Path, limits: FileLimits, what: str, names: tuple[str, ...]) -> tuple[pd.Series, str]:
    """One number per symbol from the columns ``symbol`` and the first of ``names`` found (any case), indexed by
    symbol, and the column's header."""
    frame = read_csv_table(path, limits, what)
    lower = {c.lower(): c for c in frame.columns}
    symbol = next((lower[n] for n in SYMBOL_NAMES if n in lower), None)
    value = next((lower[n] for n in names if n in lower), None)
    if symbol is None or value is None:
        raise DataError(str(path), f"the {what} needs the columns symbol and {names[0]} (columns: "
                        f"{', '.join(frame.columns[:8])})", f"name the columns symbol,{names[0]}")
    if frame.empty:
        raise DataError(str(path), f"the {what} has a header but no rows", "add one row per symbol")
    labels = _labels(frame[[symbol]], path, symbols=True)
    numbers = numeric_column(frame, value, path, allow_missing=False)
    return pd.Series(numbers.to_numpy(), index=pd.Index(labels)), value


def _for_universe(labels: tuple[str, ...], symbols: tuple[str, ...], path: Path, what: str,
                  warnings: list[str]) -> list[int]:
    """The row of each universe symbol in ``labels``; the missing ones are refused by name and the extra ones
    named in a warning."""
    position = {label: i for i, label in enumerate(labels)}
    missing = [s for s in symbols if s not in position]
    if missing:
        raise DataError(str(path), f"no {what} for universe symbol{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}", "add them to the file, or leave them out of the universe "
                        "(universe.symbols)")
    extra = sorted(set(labels) - set(symbols))
    if extra:
        shown = ", ".join(extra[:10]) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
        warnings.append(f"{path}: not in the universe, left out: {shown}")
    return [position[s] for s in symbols]


def read_expected_returns(path: Path, symbols: tuple[str, ...], limits: FileLimits) -> tuple[FloatArray,
                                                                                              tuple[str, ...]]:
    """The annualized expected excess return of each of ``symbols`` from ``returns.mu_file``, and warnings."""
    values, column = _column_table(path, limits, "expected-returns file", MU_NAMES)
    large = np.flatnonzero(np.abs(values.to_numpy()) > 1.0)
    if large.size:
        row = int(large[0])
        raise DataError(f"{path}: row {row + 2}: {column}", f"{values.iloc[row]:g} would be "
                        f"{values.iloc[row]:.0%} a year", "give annualized decimals (0.05 for 5% a year)")
    warnings: list[str] = []
    rows = _for_universe(tuple(values.index), symbols, path, "expected return", warnings)
    return values.to_numpy(dtype=np.float64)[rows], tuple(warnings)


def checked_covariance(table: LabelledTable, what: str) -> FloatArray:
    """The square matrix of ``table``, columns in the rows' order, refused unless every variance is positive and
    it is symmetric within ``SYMMETRY_TOLERANCE`` (the worst cell named)."""
    path, labels = table.path, table.labels
    for label in labels:
        if label not in table.columns:
            raise DataError(f"{path}: row {table.row_of(label)}: {table.first or 'first column'}",
                            f"{label} has a row but no column", "give the same names, in any order, as the first "
                            "column and as the header")
    for column in table.columns:
        if column not in labels:
            raise DataError(f"{path}: {column}", f"{column} has a column but no row",
                            "give the same names, in any order, as the first column and as the header")
    order = [table.columns.index(label) for label in labels]
    matrix = table.values[:, order]
    diagonal = np.diagonal(matrix)
    if np.any(diagonal <= 0):
        i = int(np.flatnonzero(diagonal <= 0)[0])
        raise DataError(f"{path}: row {i + 2}: {labels[i]}", f"the variance of {labels[i]} is {diagonal[i]:g}, "
                        "not positive", f"give the annualized variance of every {what} on the diagonal")
    gap = np.abs(matrix - matrix.T)
    allowed = SYMMETRY_TOLERANCE * float(diagonal.max())
    if float(gap.max()) > allowed:
        first, second = (int(k) for k in np.unravel_index(int(np.argmax(gap)), gap.shape))
        i, j = min(first, second), max(first, second)
        raise DataError(f"{path}: row {i + 2}: {labels[j]}",
                        f"not symmetric: {matrix[i, j]:g} here but {matrix[j, i]:g} at row {j + 2}, column "
                        f"{labels[i]} (a difference of {gap[i, j]:.3g}; at most {allowed:.3g} is accepted, "
                        f"{SYMMETRY_TOLERANCE:g} of the largest variance)",
                        "give a covariance matrix: the same number above and below the diagonal")
    return matrix


def positive_semidefinite(matrix: FloatArray, path: Path, warnings: list[str]) -> FloatArray:
    """``matrix`` symmetrized, with negative eigenvalues clipped to zero when they are within ``PSD_TOLERANCE`` of
    the largest (named in ``warnings`` with their size unless mere rounding); refused beyond."""
    matrix = (matrix + matrix.T) / 2.0
    values, vectors = np.linalg.eigh(matrix)
    largest, smallest = float(values[-1]), float(values[0])
    if smallest >= -ROUNDING * largest:
        return matrix if smallest >= 0 else _clipped(values, vectors)
    if smallest < -PSD_TOLERANCE * largest:
        raise DataError(str(path), f"not positive semidefinite: an eigenvalue of {smallest:.3g}, "
                        f"{-smallest / largest:.2%} of the largest ({largest:.3g}); at most {PSD_TOLERANCE:.0%} is "
                        "repaired (portfolios along it would have a negative variance)",
                        "estimate the covariance on one common sample of returns, or repair it before giving it")
    repaired = _clipped(values, vectors)
    negative = int(np.sum(values < 0))
    warnings.append(f"{path}: not positive semidefinite: {negative} negative eigenvalue{'s' * (negative > 1)}, the "
                    f"most negative {smallest:.3g} ({-smallest / largest:.2e} of the largest), clipped to 0; the "
                    f"largest change to a cell is {float(np.abs(repaired - matrix).max()):.3g}")
    return repaired


def _clipped(values: FloatArray, vectors: FloatArray) -> FloatArray:
    result: FloatArray = (vectors * np.clip(values, 0.0, None)) @ vectors.T
    return (result + result.T) / 2.0


def read_covariance(path: Path, symbols: tuple[str, ...], limits: FileLimits) -> tuple[FloatArray, tuple[str, ...]]:
    """The annualized covariance of ``symbols`` (in their order) from ``risk.covariance_file``, and warnings."""
    table = labelled_table(path, limits, "covariance file", symbol_rows=True, symbol_columns=True)
    warnings: list[str] = []
    matrix = checked_covariance(table, "asset")
    rows = _for_universe(table.labels, symbols, path, "covariance", warnings)
    matrix = positive_semidefinite(matrix[np.ix_(rows, rows)], path, warnings)
    if float(np.diagonal(matrix).max()) < DAILY_LOOKING:
        warnings.append(f"{path}: every volatility is under {np.sqrt(DAILY_LOOKING):.0%} a year: is this a daily "
                        "covariance? The file must be annualized (a daily covariance times 252)")
    return matrix, tuple(warnings)



def read_factor_model(loadings: Path, factor_covariance: Path, specific_variance: Path, symbols: tuple[str, ...],
                      limits: FileLimits) -> FactorFiles:
    """The factor model of ``risk.factor_model``, aligned with ``symbols``: exposures, factor covariance and
    specific variances, checked against each other."""
    warnings: list[str] = []
    exposures = labelled_table(loadings, limits, "loadings file", symbol_rows=True, symbol_columns=False)
    rows = _for_universe(exposures.labels, symbols, loadings, "loadings", warnings)
    covariance = labelled_table(factor_covariance, limits, "factor covariance file", symbol_rows=False,
                                symbol_columns=False)
    factors = exposures.columns
    for name in covariance.labels:
        if name not in factors:
            raise DataError(f"{factor_covariance}: row {covariance.row_of(name)}: {covariance.first or 'first column'}",
                            f"factor {name!r} is not a column of the loadings file {loadings}",
                            f"name the same factors in both files (loadings: {', '.join(factors)})")
    for name in factors:
        if name not in covariance.labels:
            raise DataError(str(factor_covariance), f"no row for factor {name!r} of the loadings file {loadings}",
                            "give the covariance of every factor of the loadings file")
    matrix = checked_covariance(covariance, "factor")
    order = [covariance.labels.index(name) for name in factors]
    matrix = positive_semidefinite(matrix[np.ix_(order, order)], factor_covariance, warnings)
    specific, column = _column_table(specific_variance, limits, "specific-variance file", SPECIFIC_NAMES)
    negative = np.flatnonzero(specific.to_numpy() < 0)
    if negative.size:
        row = int(negative[0])
        raise DataError(f"{specific_variance}: row {row + 2}: {column}", f"{specific.iloc[row]:g} is negative",
                        "a variance is zero or more (annualized)")
    specific_rows = _for_universe(tuple(specific.index), symbols, specific_variance, "specific variance", warnings)
    return FactorFiles(loadings=exposures.values[rows], factor_covariance=matrix,
                       specific_variance=specific.to_numpy(dtype=np.float64)[specific_rows], factors=factors,
                       warnings=tuple(dict.fromkeys(warnings)))
