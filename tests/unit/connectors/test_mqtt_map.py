"""map_payload / topic_fields: MQTT messages to sensor events (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.mqtt_map import map_payload, topic_fields
from schemas import InvalidEvent, SensorEvent

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PATTERN = "sensors/{device_id}/{metric}"


def _map(topic: str, payload: bytes, **kw: object) -> SensorEvent:
    args: dict[str, object] = {"pattern": PATTERN, "source": "mqtt", "tenant": "default", "now": NOW} | kw
    return map_payload(topic, payload, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("topic", "pattern", "expected"), [
    ("sensors/dev-1/temperature", PATTERN, {"device_id": "dev-1", "metric": "temperature"}),
    ("sensors/dev-1", PATTERN, {}),
    ("other/dev-1/temperature", PATTERN, {}),
    ("site/lab/dev-2/co2", "site/{location}/{device_id}/{metric}",
     {"location": "lab", "device_id": "dev-2", "metric": "co2"}),
    ("a/x/dev/m", "a/+/{device_id}/{metric}", {"device_id": "dev", "metric": "m"}),
])
def test_topic_fields(topic: str, pattern: str, expected: dict[str, str]) -> None:
    assert topic_fields(topic, pattern) == expected


@pytest.mark.parametrize("payload", [b"21.5", b" 21.5\n", b"2.15e1"])
def test_plain_number_takes_device_and_metric_from_topic(payload: bytes) -> None:
    e = _map("sensors/dev-1/temperature", payload)
    assert (e.payload.device_id, e.payload.metric, e.payload.value) == ("dev-1", "temperature", 21.5)
    assert (e.source, e.tenant, e.event_time) == ("mqtt", "default", NOW)


def test_integer_payload() -> None:
    assert _map("sensors/d/co2", b"415").payload.value == 415.0


def test_extra_pattern_fields_become_location_and_tags() -> None:
    e = _map("site/lab/b7/dev-2/co2", b"1", pattern="site/{location}/{building}/{device_id}/{metric}")
    assert e.payload.location == "lab"
    assert e.payload.tags == {"building": "b7"}


def test_json_reading_with_envelope_fields() -> None:
    payload = (b'{"device_id": "x", "metric": "humidity", "value": 40, "unit": "%", '
               b'"event_id": "given", "event_time": "2026-01-01T00:00:00Z", "tenant": "acme"}')
    e = _map("sensors/dev-1/temperature", payload)
    assert (e.payload.device_id, e.payload.metric, e.payload.unit) == ("x", "humidity", "%")
    assert (e.event_id, e.tenant) == ("given", "acme")
    assert e.event_time == datetime(2026, 1, 1, tzinfo=UTC)


def test_json_reading_fills_missing_fields_from_topic() -> None:
    e = _map("sensors/dev-1/temperature", b'{"value": 21.5, "unit": "C"}')
    assert (e.payload.device_id, e.payload.metric, e.payload.unit) == ("dev-1", "temperature", "C")


def test_full_envelope() -> None:
    payload = (b'{"kind": "sensor", "event_id": "e1", "source": "gw", "event_time": "2026-01-01T00:00:00Z", '
               b'"payload": {"device_id": "d", "metric": "m", "value": 1}}')
    e = _map("anything/else", payload)
    assert (e.event_id, e.source, e.payload.device_id) == ("e1", "gw", "d")


def test_event_id_is_deterministic() -> None:
    a = _map("sensors/d/m", b"1")
    assert a.event_id == _map("sensors/d/m", b"1").event_id
    assert a.event_id != _map("sensors/d/m", b"2").event_id
    assert a.event_id != _map("sensors/d/m2", b"1").event_id
    assert a.event_id != _map("sensors/d/m", b"1", now=datetime(2026, 3, 1, 12, 1, tzinfo=UTC)).event_id


def test_event_id_of_timed_payload_ignores_receipt_time() -> None:
    payload = b'{"value": 1, "event_time": "2026-01-01T00:00:00Z"}'
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert _map("sensors/d/m", payload).event_id == _map("sensors/d/m", payload, now=later).event_id


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    ("sensors/d/m", b"warm", "expected a finite number or a JSON object"),
    ("sensors/d/m", b"\xff\xfe", "not UTF-8"),
    ("sensors/d/m", b"[1, 2]", "expected a finite number or a JSON object"),
    ("sensors/d/m", b"true", "expected a finite number or a JSON object"),
    ("sensors/d/m", b"nan", "expected a finite number or a JSON object"),
    ("sensors/d/m", b'{"value": "hot"}', "payload.value"),
    ("sensors/d", b"1", "does not match pattern"),
    ("sensors/d/m", b'{"kind": "app", "payload": {}}', "sensor events only"),
    ("sensors/d/m", b"[" * 200_000, "json: nesting too deep"),
    ("sensors/d/m", b"1" * 5000, "expected a finite number or a JSON object"),
    ("sensors/d/m", b'{"value": ' + b"1" * 5000 + b"}", "json: number too large"),
    ("sensors/d/m", b"\x00", "expected a finite number or a JSON object"),
    ("sensors/d/m", b'{"value": 1}\x00', "expected a finite number or a JSON object"),
    ("sensors/d/m", b'"21.5"', "expected a finite number or a JSON object"),
    ("sensors/d/m", b'{"value": [1]}', "payload.value"),
    ("sensors/d/m", b'{"kind": "sensor", "schema_version": 2, "payload": {}}', "upgrade the worker"),
])
def test_malformed_payloads_raise_with_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        _map(topic, payload)
    assert info.value.reason.startswith(f"mqtt: topic {topic!r}")
    assert reason in info.value.reason


def test_an_added_field_is_ignored_not_refused() -> None:
    e = _map("sensors/d/m", b'{"value": 1, "battery": 0.8}')
    assert e.payload.value == 1.0
