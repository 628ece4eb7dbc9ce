"""Decode raw Kafka values into typed events, with field-level errors.

``decode`` never raises anything but :class:`InvalidEvent`, for any bytes: its ``reason``
is one line naming the failing fields, fit for a dead-letter header or an HTTP 422.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schemas.envelope import SCHEMA_VERSION, AppEventEnvelope, DocumentEvent, Event, Kind, SensorEvent
from schemas.limits import MAX_EVENT_BYTES, oversize_reason

EVENT_ADAPTER: TypeAdapter[SensorEvent | AppEventEnvelope | DocumentEvent] = TypeAdapter(Event)
KINDS = ", ".join(k.value for k in Kind)
# An integer past Python's digit limit (4300 by default), which json.loads refuses with a ValueError.
_LONG_NUMBER = re.compile(r"\d{" + str(sys.get_int_max_str_digits() + 1) + ",}")


class InvalidEvent(ValueError):
    """The bytes are not a valid event. ``errors`` lists ``{"loc": "a.b", "msg": ...}``."""

    def __init__(self, reason: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or [{"loc": "", "msg": reason}]


def _invalid(reason: str, loc: str = "") -> InvalidEvent:
    return InvalidEvent(reason, [{"loc": loc, "msg": reason.split(": ", 1)[-1]}])


def parse_json(data: bytes | str) -> Any:
    """``json.loads`` that raises only :class:`InvalidEvent` (reason ``json: ...``).

    Bytes must be UTF-8 (``json.loads`` alone would also guess UTF-16/32 from NUL bytes).
    Python's parser raises RecursionError on deep nesting and ValueError on integers past
    its digit limit; both are bad input, not bugs.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise _invalid(f"json: not UTF-8 (bad byte at offset {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(f"json: {exc}") from None
    except RecursionError:
        raise _invalid("json: nesting too deep") from None
    except ValueError as exc:  # int digit limit: "Exceeds the limit (4300 digits) ..."
        raise _invalid(_too_large(text) if "digits" in str(exc) else f"json: {exc}") from None


def _too_large(text: str) -> str:
    found = _LONG_NUMBER.search(text)
    if found is None:
        return "json: number too large"
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return f"json: number too large ({found.end() - found.start()} digits) at line {line} column {column}"


def upcast(obj: dict[str, Any]) -> dict[str, Any]:
    """Bring an older schema version up to the current one (v1 is the first; nothing to do yet)."""
    return obj


def _loc(parts: tuple[int | str, ...]) -> str:
    # pydantic prefixes the discriminator's value ("sensor.payload.value"); users know the field path.
    if parts and parts[0] in ("sensor", "app", "document"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts)[:200]  # a field named by a megabyte key stays readable


def _check_envelope(obj: dict[str, Any]) -> None:
    """Refuse what pydantic would word badly: a missing or unknown kind, a newer schema version."""
    version = obj.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise _invalid(f"schema: schema_version {version} is not supported by this Headwater "
                       f"(supports {SCHEMA_VERSION}); upgrade the worker", "schema_version")
    kind = obj.get("kind")
    if "kind" not in obj:
        raise _invalid(f"schema: kind: field required (one of {KINDS})", "kind")
    if not isinstance(kind, str) or kind not in {k.value for k in Kind}:
        raise _invalid(f"schema: kind: {str(kind)[:40]!r} is not an event kind (one of {KINDS})", "kind")


def validate_obj(obj: Any) -> SensorEvent | AppEventEnvelope | DocumentEvent:
    """The event of a parsed JSON value. Raises :class:`InvalidEvent` (reason ``schema: ...``)."""
    if not isinstance(obj, dict):
        raise InvalidEvent(f"schema: expected a JSON object, got {_json_type(obj)}",
                           [{"loc": "", "msg": "expected an object"}])
    _check_envelope(obj)
    try:
        return EVENT_ADAPTER.validate_python(upcast(obj))
    except ValidationError as exc:
        errors = [{"loc": _loc(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['loc'] or '<root>'}: {e['msg']}" for e in errors[:5])
        raise InvalidEvent(f"schema: {detail}", errors) from None
    except RecursionError:
        raise _invalid("schema: nesting too deep") from None


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def decode(raw: bytes | None, max_bytes: int = MAX_EVENT_BYTES) -> SensorEvent | AppEventEnvelope | DocumentEvent:
    """Parse and validate one Kafka value; raises only :class:`InvalidEvent`, whatever the bytes."""
    if raw is None:
        raise InvalidEvent("empty: record has no value", [{"loc": "", "msg": "no value"}])
    if len(raw) > max_bytes:
        raise _invalid(oversize_reason("the event", len(raw), max_bytes))
    try:
        # Parsed and validated in one pass in pydantic-core: half the cost per sensor reading. Anything
        # it refuses takes the slow path below, which is the one that words the error.
        event = EVENT_ADAPTER.validate_json(raw)
        if event.schema_version == SCHEMA_VERSION:
            return event
    except Exception:  # noqa: BLE001, S110 - refused or odd input: the slow path decides and explains
        pass
    return validate_obj(parse_json(raw))


def encode(event: SensorEvent | AppEventEnvelope | DocumentEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per topic kind, for non-Python producers and Kafka Connect."""
    return {
        "sensor": SensorEvent.model_json_schema(),
        "app": AppEventEnvelope.model_json_schema(),
        "document": DocumentEvent.model_json_schema(),
    }
