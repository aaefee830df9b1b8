"""Files, below every stage: read inputs safely, write outputs atomically, render cells and JSON byte-stably.

- ``reading``: ``FileLimits``, ``check_file``, ``read_text`` (the one bounded text reader: size limit, binary
  formats refused, UTF-8), ``sha256_of``;
- ``cells``: spreadsheet cell text, read (``parse_number``, ``is_ticker``) and written (``safe_text``,
  ``unquote``, ``fixed``, ``quantity_text``, ``csv_bytes``);
- ``json_text``: ``json_bytes``, JSON that compares byte for byte;
- ``atomic``: ``write_file_atomically`` (one file); ``staging``: ``publish`` (a whole folder in one rename).

Every module here imports only the standard library, so these names are imported eagerly.
"""

from allocator.files.atomic import write_file_atomically
from allocator.files.cells import csv_bytes, fixed, is_ticker, parse_number, quantity_text, safe_text, unquote
from allocator.files.json_text import json_bytes
from allocator.files.reading import FileLimits, check_file, read_text, sha256_of
from allocator.files.staging import publish

__all__ = ["FileLimits", "check_file", "csv_bytes", "fixed", "is_ticker", "json_bytes", "parse_number", "publish",
           "quantity_text", "read_text", "safe_text", "sha256_of", "unquote", "write_file_atomically"]
