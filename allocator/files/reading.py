"""Reading input files safely: size limits, one bounded text reader, and a file's SHA-256.

Every text input (holdings, trade lists, manifests, configs, FIX session files, ``orders.fix``) is read with
``read_text``: a missing path, a folder, a file above its size limit, a binary format given where text is expected
(an Excel workbook, a Parquet file, a PDF) or bytes that are not text are refused with an error naming the file,
instead of exhausting memory or failing deep inside a parser. The error class is the caller's (``DataError`` for
data, ``ConfigError`` for configs), so the exit code says which kind of input was wrong.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from allocator.errors import AllocatorError, DataError

MIB = 1_048_576

# Leading bytes of files that are often given where text is expected.
BINARY_FORMATS = ((b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
                  (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"), (b"PAR1", "a Parquet file"),
                  (b"%PDF", "a PDF document"))


@dataclass(frozen=True)
class FileLimits:
    """Largest input table accepted: ``max_bytes`` per file and ``max_rows`` per table (``data.max_file_mb``,
    ``data.max_rows``)."""

    max_bytes: int = 256 * MIB
    max_rows: int = 2_000_000

    @classmethod
    def from_megabytes(cls, max_file_mb: float, max_rows: int) -> FileLimits:
        return cls(max_bytes=int(max_file_mb * MIB), max_rows=max_rows)


def file_size(size: int) -> str:
    """``312 bytes``, ``48.0 KiB`` or ``300.0 MiB``."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < MIB:
        return f"{size / 1024:,.1f} KiB"
    return f"{size / MIB:,.1f} MiB"


def check_file(path: Path, max_bytes: int, what: str, error: type[AllocatorError] = DataError,
               too_large_fix: str = "raise data.max_file_mb if the file is genuine", expected: str = "CSV") -> None:
    """Raise ``error`` when ``path`` is missing, not a file, or larger than ``max_bytes``."""
    where = str(path)
    if not path.exists():
        raise error(where, f"{what} not found", "check the path")
    if path.is_dir():
        raise error(where, f"{what} is a folder, not a file", f"give the path of a {expected} file in it")
    if not path.is_file():  # a named pipe, socket or device: reading it could block or never end
        raise error(where, f"{what} is not a regular file (a pipe, socket or device)",
                    f"give the path of a {expected} file saved on disk")
    size = path.stat().st_size
    if size > max_bytes:
        raise error(where, f"{what} is {file_size(size)}, above the limit of {file_size(max_bytes)}", too_large_fix)


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


def wide_encoding(head: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding of text starting with ``head``: by its byte-order mark, or, without one, by
    where its zero bytes fall (ASCII text in UTF-16 little-endian is ``s\\0y\\0m\\0``); None for a byte-wide
    encoding (UTF-8, Windows-1252)."""
    if head.startswith(UTF32_BOMS):
        return "utf-32"
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    sample = head[:4096 - 4096 % 4]
    if b"\x00" not in sample or len(sample) < 4:
        return None
    def zeros(start: int, step: int) -> float:
        lane = sample[start::step]
        return lane.count(0) / max(len(lane), 1)
    if zeros(1, 4) > 0.9 and zeros(2, 4) > 0.9 and zeros(3, 4) > 0.9:
        return "utf-32-le"
    if zeros(0, 4) > 0.9 and zeros(1, 4) > 0.9 and zeros(2, 4) > 0.9:
        return "utf-32-be"
    if zeros(1, 2) > 0.9:
        return "utf-16-le"
    if zeros(0, 2) > 0.9:
        return "utf-16-be"
    return None


def text_encoding(path: Path) -> str:
    """The encoding to read a text file with: UTF-16 or UTF-32 (``wide_encoding``), else UTF-8 (a UTF-8
    byte-order mark dropped); a caller that fails on UTF-8 may retry with ``cp1252``."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    return wide_encoding(head) or "utf-8-sig"


def read_text(path: Path, max_bytes: int, what: str, *, error: type[AllocatorError] = DataError,
              too_large_fix: str = "raise data.max_file_mb if the file is genuine", expected: str = "CSV",
              windows_1252: bool = False) -> str:
    """The text of the file at ``path`` (UTF-8, a byte-order mark removed), read only when it is at most
    ``max_bytes`` long and not a known binary format; ``what`` names the file in errors (``holdings file``).

    With ``windows_1252``, bytes that are not UTF-8 are read as Windows-1252 (what spreadsheets on Windows save).
    """
    check_file(path, max_bytes, what, error, too_large_fix, expected)
    where = str(path)
    raw = path.read_bytes()
    for magic, kind in BINARY_FORMATS:
        if raw.startswith(magic):
            raise error(where, f"{what} is {kind}, not {expected} text", f"export or save it as {expected}")
    wide = wide_encoding(raw[:4096])
    if wide:  # what Excel's "Unicode text" and some brokers' exports save
        try:
            return raw.decode(wide).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise error(where, f"{what} looks like {wide.upper()} text but is not (byte {exc.start})",
                        f"export it as {expected} in UTF-8") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not windows_1252:
            raise error(where, f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})",
                        "save it as UTF-8") from None
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise error(where, f"{what} is not text (undecodable byte at {exc.start})",
                    f"export it as {expected} in UTF-8") from None


SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
_QUOTED = re.compile(r'"[^"]*"')


def csv_separator(text: str, scan_lines: int = 50) -> str:
    """The character between the columns of a CSV text: a comma, or a semicolon or tab when one of those
    separates the cells of more of its first ``scan_lines`` lines (quoted cells ignored). Spreadsheets in many
    European locales save ``;``, and a table copied from a spreadsheet is tab-separated. On a tie the separator of
    the first line holding any of them wins (the header, or the first line after title lines)."""
    lines = [_QUOTED.sub("", line) for line in text[:1 << 16].splitlines()[:scan_lines] if line.strip()]
    counts = {sep: sum(sep in line for line in lines) for sep in SEPARATOR_NAMES}
    best = max(counts.values())
    if best == 0:
        return ","
    tied = [sep for sep, count in counts.items() if count == best]
    if len(tied) > 1:
        first = next(line for line in lines if any(sep in line for sep in tied))
        tied = [sep for sep in tied if sep in first] or tied
        if "," in tied and len(tied) > 1:  # in a line holding both, ',' is often the decimal mark
            tied.remove(",")
    return tied[0]


def mixed_separator(text: str, separator: str, scan_lines: int = 50) -> str | None:
    """The separator of ``text``'s header when it is not ``separator`` (the rows'): the first of its first lines
    that holds any separator (quoted cells ignored) is taken for the header. None when they agree."""
    for line in text[:1 << 16].lstrip("\ufeff").splitlines()[:scan_lines]:
        bare = _QUOTED.sub("", line)
        present = [sep for sep in SEPARATOR_NAMES if sep in bare]
        if present:
            return None if separator in present else present[0]
    return None


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
