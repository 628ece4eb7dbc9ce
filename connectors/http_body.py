"""HTTP ingest bodies (pure): the items of a request body, and which of them are valid events.

Input: the body's bytes and its ``Content-Type``. Output: parsed items (:func:`parse_body`), then
the valid events and one ``{"index": i, "errors": [...]}`` per invalid item (:func:`validate_items`).

Semantics: NDJSON (``application/x-ndjson`` and its aliases) is one item per non-blank line, a
line that is not JSON becomes a :class:`LineError` (that item's 422, not the whole body's 400);
otherwise a JSON array is its elements and any other JSON value is one item. A body that is not
UTF-8 or JSON, or holds no item, raises :class:`BadBody` (HTTP 400). Hostile input (too deeply
nested, huge numbers) is a reason, never an exception of another kind.

Example::

    events, problems = validate_items(parse_body(b'{"kind": "app", ...}', "application/json"))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas import LIMIT_ENV, AnyEvent, InvalidEvent, oversize_reason, parse_json, validate_obj

__all__ = ["NDJSON_TYPES", "BadBody", "LineError", "item_bytes", "oversize", "parse_body", "validate_items"]

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")


class BadBody(ValueError):
    """The body as a whole is unusable (HTTP 400); the message says why."""


@dataclass(frozen=True)
class LineError:
    """An NDJSON line that is not JSON; reported as that item's error."""

    msg: str


def parse_body(body: bytes, content_type: str) -> list[Any]:
    """The items of a request body: NDJSON lines (bad ones as :class:`LineError`), else the
    elements of a JSON array, else the one JSON value.

    Raises:
        BadBody: not UTF-8, not JSON (JSON bodies only), or no item at all.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadBody(f"body is not UTF-8 (bad byte at offset {exc.start})") from None
    items = _ndjson(text) if content_type.split(";")[0].strip().lower() in NDJSON_TYPES else _json(text)
    if not items:
        raise BadBody("body holds no events; send an event object, an array of them, or NDJSON lines")
    return items


def _json(text: str) -> list[Any]:
    try:
        value = parse_json(text)
    except InvalidEvent as exc:
        raise BadBody(f"body is not JSON ({exc.reason}); for one event per line send "
                      "Content-Type: application/x-ndjson") from None
    return value if isinstance(value, list) else [value]


def _ndjson(text: str) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                items.append(parse_json(line))
            except InvalidEvent as exc:
                items.append(LineError(f"line {number} is not JSON: {exc.reason}"))
    return items


def item_bytes(item: Any) -> int:
    """The size of one parsed item as compact JSON: what its event will weigh, give or take defaults."""
    try:
        return len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())
    except (ValueError, TypeError, RecursionError):  # a LineError, or too deep to write again
        return 0


def validate_items(items: Sequence[Any]) -> tuple[list[AnyEvent], list[dict[str, Any]]]:
    """The valid events, and ``{"index": i, "errors": [...]}`` for each invalid item (pure)."""
    events: list[AnyEvent] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if isinstance(item, LineError):
            problems.append({"index": index, "errors": [{"loc": "", "msg": item.msg}]})
            continue
        try:
            events.append(validate_obj(item))
        except InvalidEvent as exc:
            problems.append({"index": index, "errors": exc.errors})
        except Exception as exc:  # noqa: BLE001 - a bug on one item is that item's 422, never a 500
            problems.append({"index": index, "errors": [{"loc": "", "msg": f"cannot validate ({exc!r:.200})"}]})
    return events, problems


def oversize(values: Sequence[int], limit: int) -> str | None:
    """The 413 detail when an item is above the event limit, else None (pure)."""
    big = [(i, n) for i, n in enumerate(values) if n > limit]
    if not big:
        return None
    index, size = big[0]
    more = f" ({len(big) - 1} more too)" if len(big) > 1 else ""
    return (f"{oversize_reason(f'event {index}', size, limit)}{more}; nothing was produced: split it, "
            f"or raise {LIMIT_ENV} on the workers and the broker's message.max.bytes with it")
