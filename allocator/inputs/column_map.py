"""Rename a table's headers by a column map from the config (``data.fundamentals_columns``): each field names the
header that holds it in the file, matched without regard to case or surrounding spaces."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from allocator.errors import DataError


def mapped_columns(frame: pd.DataFrame, mapping: Mapping[str, str], path: Path, key: str) -> pd.DataFrame:
    """``frame`` with the headers named in ``mapping`` (field -> header) renamed to their fields.

    A mapped header missing from the file, one header mapped to two fields, and a field that would then appear
    twice (the file also has a column of the field's own name) are refused, naming ``key`` (the config key of the
    map)."""
    if not mapping:
        return frame
    headers = {str(c).strip().lower(): c for c in frame.columns}
    renames: dict[str, str] = {}
    for field_name, header in mapping.items():
        found = headers.get(header.strip().lower())
        if found is None:
            raise DataError(str(path), f"no column {header!r}, which {key}.{field_name} names (columns: "
                            f"{', '.join(map(str, frame.columns[:12]))})", f"correct {key}.{field_name}")
        if found in renames:
            raise DataError(str(path), f"column {header!r} is mapped to both {renames[found]} and {field_name} "
                            f"by {key}", "map each column once")
        renames[found] = field_name
    for found, field_name in renames.items():
        clash = headers.get(field_name)
        if clash is not None and clash not in renames:
            raise DataError(str(path), f"{key}.{field_name} maps {found!r} to {field_name}, but the file also has a "
                            f"column {clash!r}", f"drop one of the two columns, or map {clash!r} to nothing")
    return frame.rename(columns=renames)
