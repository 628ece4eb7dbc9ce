"""Decode raw Kafka values into typed events, with field-level errors.

``decode`` never raises anything but :class:`InvalidEvent`, whose ``reason`` is one
line naming the failing fields, fit for a dead-letter header or an HTTP 422.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schemas.envelope import AppEventEnvelope, DocumentEvent, Event, SensorEvent

EVENT_ADAPTER: TypeAdapter[SensorEvent | AppEventEnvelope | DocumentEvent] = TypeAdapter(Event)


class InvalidEvent(ValueError):
    """The bytes are not a valid event. ``errors`` lists ``{"loc": "a.b", "msg": ...}``."""

    def __init__(self, reason: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


def upcast(obj: dict[str, Any]) -> dict[str, Any]:
    """Bring an older schema version up to the current one (v1 is the first; nothing to do yet)."""
    return obj


def _loc(parts: tuple[int | str, ...]) -> str:
    # pydantic prefixes the discriminator's value ("sensor.payload.value"); users know the field path.
    if parts and parts[0] in ("sensor", "app", "document"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def validate_obj(obj: Any) -> SensorEvent | AppEventEnvelope | DocumentEvent:
    if not isinstance(obj, dict):
        raise InvalidEvent(f"schema: expected a JSON object, got {type(obj).__name__}",
                           [{"loc": "", "msg": "expected an object"}])
    try:
        return EVENT_ADAPTER.validate_python(upcast(obj))
    except ValidationError as exc:
        errors = [{"loc": _loc(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['loc'] or '<root>'}: {e['msg']}" for e in errors[:5])
        raise InvalidEvent(f"schema: {detail}", errors) from None


def decode(raw: bytes | None, max_bytes: int = 1_000_000) -> SensorEvent | AppEventEnvelope | DocumentEvent:
    """Parse and validate one Kafka value."""
    if raw is None:
        raise InvalidEvent("empty: record has no value", [{"loc": "", "msg": "no value"}])
    if len(raw) > max_bytes:
        raise InvalidEvent(f"oversize: {len(raw)} bytes > limit {max_bytes}",
                           [{"loc": "", "msg": "too large"}])
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"json: {exc}", [{"loc": "", "msg": str(exc)}]) from None
    return validate_obj(obj)


def encode(event: SensorEvent | AppEventEnvelope | DocumentEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per topic kind, for non-Python producers and Kafka Connect."""
    return {
        "sensor": SensorEvent.model_json_schema(),
        "app": AppEventEnvelope.model_json_schema(),
        "document": DocumentEvent.model_json_schema(),
    }
