"""Fixtures the MQTT tests share: a fresh MQTT/Kafka setup per test and a producer on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.producer import Producer
from streams.settings import Settings
from tests.integration.connectors.mqtt_kit import mqtt_settings


@pytest.fixture
def s(settings: Settings, unique: str) -> Iterator[Settings]:
    with mqtt_settings(settings, unique) as fresh:
        yield fresh


@pytest.fixture
def producer(s: Settings) -> Iterator[Producer]:
    p = Producer(s.kafka, client_id="test-mqtt")
    yield p
    p.close()
