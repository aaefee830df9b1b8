"""Bounds on input size, so an enormous file is refused clearly instead of exhausting memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from allocator.errors import DataError

MIB = 1_048_576


@dataclass(frozen=True)
class FileLimits:
    """Largest input accepted: ``max_bytes`` per file and ``max_rows`` per table."""

    max_bytes: int = 256 * MIB
    max_rows: int = 2_000_000

    @classmethod
    def from_megabytes(cls, max_file_mb: float, max_rows: int) -> FileLimits:
        return cls(max_bytes=int(max_file_mb * MIB), max_rows=max_rows)


def check_file(path: Path, limits: FileLimits, what: str) -> None:
    """Raise ``DataError`` when ``path`` is missing, not a file, or larger than the limit."""
    where = str(path)
    if not path.exists():
        raise DataError(where, f"{what} not found", "check the path")
    if not path.is_file():
        raise DataError(where, f"{what} is not a file", "give the path of a CSV file")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise DataError(where, f"{what} is {file_size(size)}, above the limit of {file_size(limits.max_bytes)}",
                        "raise data.max_file_mb if the file is genuine")


def file_size(size: int) -> str:
    """``312 bytes``, ``48.0 KiB`` or ``300.0 MiB``."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < MIB:
        return f"{size / 1024:,.1f} KiB"
    return f"{size / MIB:,.1f} MiB"


# Leading bytes of files that are often given where a CSV is expected.
BINARY_FORMATS = ((b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
                  (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"), (b"PAR1", "a Parquet file"),
                  (b"%PDF", "a PDF document"))


def read_text_limited(path: Path, limits: FileLimits, what: str) -> str:
    """The file's text (UTF-8, a byte-order mark removed; else Windows-1252), after checking its size."""
    check_file(path, limits, what)
    raw = path.read_bytes()
    for magic, kind in BINARY_FORMATS:
        if raw.startswith(magic):
            raise DataError(str(path), f"{what} is {kind}, not CSV text", "export or save it as CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DataError(str(path), f"{what} is not text (undecodable byte at {exc.start})",
                            "export it as CSV in UTF-8") from None
