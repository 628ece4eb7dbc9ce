"""Rows of a file to replay: CSV rows, JSON lines, a JSON array, or a folder of text files.

Each row is read or carries the error that kept it from being read; a bad row never
stops the ones after it.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One record of a file: ``data`` or the ``error`` that kept it from being read."""

    row: int
    where: str
    data: dict[str, Any] | None
    raw: bytes
    error: str | None = None


def read_records(path: Path) -> Iterator[Row]:
    """The records of ``path``, in file order: ``.csv`` rows, ``.jsonl``/``.ndjson`` lines, a ``.json``
    array, or, for a folder, each ``*.txt`` file as ``{name, stem, path, text}`` (sorted by name)."""
    if path.is_dir():
        return _text_files(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in (".jsonl", ".ndjson"):
        return _json_lines(path)
    if suffix == ".json":
        return _json_array(path)
    raise ValueError(f"cannot replay {path}: expected .csv, .jsonl, .ndjson, .json or a folder of .txt files")


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row, values in enumerate(reader):
            raw = json.dumps(values, default=str).encode()
            where = f"line {reader.line_num}"
            if None in values or None in values.values():
                header = len(reader.fieldnames or [])
                yield Row(row, where, None, raw, f"column count differs from the header's {header}")
            else:
                yield Row(row, where, values, raw)


def _json_lines(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as f:
        row = 0
        for line_no, line in enumerate(f, start=1):
            if line.strip():
                yield _json_record(row, f"line {line_no}", line)
                row += 1


def _json_array(path: Path) -> Iterator[Row]:
    items = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON array of objects")
    for row, obj in enumerate(items):
        yield _json_record(row, f"item {row}", obj)


def _json_record(row: int, where: str, value: Any) -> Row:
    try:
        obj = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        return Row(row, where, None, value.encode(), f"not JSON: {exc}")
    raw = value.encode() if isinstance(value, str) else json.dumps(obj).encode()
    if not isinstance(obj, dict):
        return Row(row, where, None, raw, f"expected a JSON object, got {type(obj).__name__}")
    return Row(row, where, obj, raw)


def _text_files(folder: Path) -> Iterator[Row]:
    for row, p in enumerate(sorted(folder.glob("*.txt"))):
        text = p.read_text(encoding="utf-8", errors="replace")
        data = {"name": p.name, "stem": p.stem, "path": f"{folder.name}/{p.name}", "text": text}
        yield Row(row, p.name, data, text.encode())


def count_records(path: Path, limit: int | None = None) -> int:
    """How many records ``read_records(path)`` yields (at most ``limit``)."""
    return sum(1 for _ in itertools.islice(read_records(path), limit))
