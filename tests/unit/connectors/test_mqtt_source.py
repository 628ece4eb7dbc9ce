"""MqttSource's per-message step: any payload becomes an event or a dead letter, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.config import MqttSettings, MqttSourceSettings
from connectors.mqtt_source import MqttSource

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PATTERN = "sensors/{device_id}/{metric}"


def test_source_item_never_raises_and_names_oversize() -> None:
    """What paho's thread calls: any payload becomes an event or a dead-letter item, never an exception."""
    source = MqttSource(MqttSettings(), MqttSourceSettings(topic_pattern=PATTERN), clock=lambda: NOW)

    async def ack() -> None: ...

    items = [source._item("sensors/d/m", p, ack) for p in (b"[" * 200_000, b"1" * 5000, b" " * 4_000_001, b"2")]
    assert [i.event is None for i in items] == [True, True, True, False]
    assert "oversize: the payload is 4000001 bytes, more than the limit of 4000000 bytes" in str(items[2].error)
    assert "HEADWATER_KAFKA__MAX_EVENT_BYTES" in str(items[2].error)
