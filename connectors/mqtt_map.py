"""MQTT mapping (pure): one MQTT message (topic and payload bytes) to one sensor event.

Input: the topic, the payload, the connector's ``topic_pattern``, default ``source`` and
``tenant``, and ``now`` (the time of receipt). Output: a validated ``SensorEvent``, or
:class:`~schemas.InvalidEvent` naming the topic and the failing fields.

Payloads: a plain number (device and metric from the topic path via the pattern), a JSON
SensorReading (fields missing from it are taken from the topic path), optionally with
``event_id``, ``event_time``, ``tenant``, ``source``, or a full sensor event envelope. A message
without ``event_id`` gets ``mqtt-<sha256(topic, payload[, now])>``: ``now`` is left out when the
payload carries ``event_time``, so a redelivered message gets the same id again.

Example::

    event = map_payload("sensors/dev-1/temperature", b"21.5", pattern="sensors/{device_id}/{metric}",
                        source="mqtt", tenant="default", now=utcnow())
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any

from schemas import InvalidEvent, SensorEvent, parse_json, validate_obj

__all__ = ["map_payload", "topic_fields"]

_ENVELOPE_FIELDS = ("event_id", "event_time", "tenant", "source")
_READING_FIELDS = ("device_id", "metric", "unit", "location")


def topic_fields(topic: str, pattern: str) -> dict[str, str]:
    """The ``{name}`` levels of ``pattern`` read from ``topic``; empty when the topic does not match.

    >>> topic_fields("sensors/dev-1/temperature", "sensors/{device_id}/{metric}")
    {'device_id': 'dev-1', 'metric': 'temperature'}
    """
    levels, parts = topic.split("/"), pattern.split("/")
    if len(levels) != len(parts):
        return {}
    found: dict[str, str] = {}
    for level, part in zip(levels, parts, strict=True):
        if part.startswith("{") and part.endswith("}"):
            found[part[1:-1]] = level
        elif part not in (level, "+"):
            return {}
    return found


def map_payload(topic: str, payload: bytes, *, pattern: str, source: str, tenant: str,
                now: datetime) -> SensorEvent:
    """The sensor event of one MQTT message (pure).

    Raises:
        InvalidEvent: the payload is neither a number nor a JSON object, or the event it
            gives is invalid; ``reason`` names the topic and the failing fields.
    """
    value = _parse(topic, payload)
    fields = topic_fields(topic, pattern)
    if isinstance(value, dict) and ("payload" in value or "kind" in value):
        obj = dict(value)
    elif isinstance(value, dict):
        obj = _reading_envelope(value, fields)
    else:
        obj = {"payload": {**_reading_from_topic(fields), "value": value}}
    return _finish(obj, topic, payload, source=source, tenant=tenant, now=now, pattern=pattern)


def _parse(topic: str, payload: bytes) -> dict[str, Any] | float:
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _invalid(topic, "payload is not UTF-8 text") from None
    why = ""
    try:
        value = parse_json(text)
    except InvalidEvent as exc:  # not JSON; maybe a number JSON does not spell, like "+5"
        value, why = _number(text), f" ({exc.reason})"
    if isinstance(value, dict):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise _invalid(topic, f"expected a finite number or a JSON object, got {text[:60]!r}{why}")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except (ValueError, OverflowError):
        return text


def _reading_from_topic(fields: dict[str, str]) -> dict[str, Any]:
    reading: dict[str, Any] = {k: fields[k] for k in _READING_FIELDS if k in fields}
    extra = {k: v for k, v in fields.items() if k not in _READING_FIELDS and k not in _ENVELOPE_FIELDS}
    return reading | ({"tags": extra} if extra else {})


def _reading_envelope(obj: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    envelope = {k: obj[k] for k in _ENVELOPE_FIELDS if k in obj}
    reading = {k: v for k, v in obj.items() if k not in _ENVELOPE_FIELDS}
    return envelope | {"payload": _reading_from_topic(fields) | reading}


def _finish(obj: dict[str, Any], topic: str, payload: bytes, *, source: str, tenant: str, now: datetime,
            pattern: str) -> SensorEvent:
    if obj.setdefault("kind", "sensor") != "sensor":
        raise _invalid(topic, f"kind {obj['kind']!r}: the MQTT connector takes sensor events only")
    timed = "event_time" in obj
    obj.setdefault("event_time", now)
    obj.setdefault("source", source)
    obj.setdefault("tenant", tenant)
    obj.setdefault("event_id", _event_id(topic, payload, None if timed else now))
    try:
        event = validate_obj(obj)
    except InvalidEvent as exc:
        hint = "" if "device_id" in str(obj["payload"]) else f" (topic does not match pattern {pattern!r})"
        raise InvalidEvent(f"mqtt: topic {topic!r}: {exc.reason}{hint}", exc.errors) from None
    assert isinstance(event, SensorEvent)
    return event


def _event_id(topic: str, payload: bytes, received: datetime | None) -> str:
    digest = hashlib.sha256(topic.encode() + b"\0" + payload)
    if received is not None:
        digest.update(b"\0" + received.isoformat().encode())
    return f"mqtt-{digest.hexdigest()[:32]}"


def _invalid(topic: str, why: str) -> InvalidEvent:
    return InvalidEvent(f"mqtt: topic {topic!r}: {why}", [{"loc": "", "msg": why}])
