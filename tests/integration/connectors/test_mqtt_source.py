"""MQTT connector against the real Mosquitto and Kafka: readings arrive, malformed payloads are
dead-lettered with their reason (personal data redacted), unacknowledged messages come again,
broker restarts are survived."""

from __future__ import annotations

import json

import pytest

from connectors.config import KafkaSettings
from connectors.mqtt_source import MqttSource
from connectors.producer import Producer
from streams.agents.dead_letter import redactor
from streams.settings import Settings
from streams.stack.mosquitto import Mosquitto
from streams.stack.process import port_open
from tests.integration.connectors.mqtt_kit import Running, pub, wait_for
from tests.integration.kafka_kit import read

pytestmark = pytest.mark.integration


def test_readings_and_dead_letters(s: Settings, unique: str, producer: Producer) -> None:
    """Dead letters carry no personal data (the reason neither), ids intact: fixable and replayable."""
    source = MqttSource(s.mqtt, s.mqtt_source, redact_text=redactor(s.curate))
    run = Running(source, producer, s)
    pub(s, unique, "dev-1/temperature", b"21.5")
    pub(s, unique, "dev-2/humidity", b'{"value": 40, "unit": "%", "event_time": "2026-01-01T00:00:00Z"}')
    pub(s, unique, "dev-3/temperature", b"warm, ask jane.doe@example.com")
    pub(s, unique, "dev-4/temperature", json.dumps({"event_id": "r-4", "device_id": "dev-4",
                                                    "value": "call +49 170 1234567"}))
    events = read(s, s.topics.sensor, 2)
    dead = read(s, s.topics.dead_letter, 2)
    wait_for(lambda: source.counters()["acked"] == 4, 15, "four acks")
    counts = run.finish()

    by_device = {e.value["payload"]["device_id"]: e.value for e in events if e.value}
    dev1, dev2 = by_device["dev-1"], by_device["dev-2"]
    assert (dev1["payload"]["metric"], dev1["payload"]["value"]) == ("temperature", 21.5)
    assert dev2["payload"]["unit"] == "%" and dev2["event_time"].startswith("2026-01-01")
    assert {e["tenant"] for e in by_device.values()} == {"lab"}
    assert all(e["event_id"].startswith("mqtt-") and e["source"] == "mqtt" for e in by_device.values())
    [warm] = [d for d in dead if d.value is None]  # not JSON
    [wrong] = [d for d in dead if d.value is not None]
    assert warm.raw == b"warm, ask [EMAIL]"
    assert "expected a finite number or a JSON object" in warm.headers["headwater.reason"]
    assert wrong.value == {"event_id": "r-4", "device_id": "dev-4", "value": "call [PHONE]"}
    assert "payload.value" in wrong.headers["headwater.reason"]
    for d in dead:
        assert d.headers["headwater.stage"] == "mqtt" and d.headers["headwater.redacted"] == "true"
        assert "jane" not in d.headers["headwater.reason"] and "1234567" not in d.headers["headwater.reason"]
    assert counts["received"] == 4 and counts["produced"] == 2 and counts["dead_lettered"] == 2


def test_message_is_redelivered_until_kafka_confirmed_it(s: Settings, unique: str,
                                                         producer: Producer) -> None:
    """The first connector cannot reach Kafka and dies without acking; the next one gets the message."""
    nowhere = Producer(KafkaSettings(bootstrap_servers="127.0.0.1:1"), message_timeout_ms=3000)
    first = MqttSource(s.mqtt, s.mqtt_source)
    run = Running(first, nowhere, s)
    pub(s, unique, "dev-9/temperature", b'{"value": 7, "event_time": "2026-01-01T00:00:00Z"}')
    wait_for(lambda: first.counters()["received"] == 1, 15, "the message at the first connector")
    run.cancel()
    assert first.counters()["acked"] == 0
    nowhere.close()

    second = MqttSource(s.mqtt, s.mqtt_source)
    run = Running(second, producer, s)
    events = read(s, s.topics.sensor, 1)
    wait_for(lambda: second.counters()["acked"] == 1, 15, "the ack of the redelivered message")
    run.finish()
    assert events[0].value and events[0].value["payload"]["device_id"] == "dev-9"


def test_survives_broker_restart(s: Settings, unique: str, producer: Producer) -> None:
    source = MqttSource(s.mqtt, s.mqtt_source)
    run = Running(source, producer, s)
    pub(s, unique, "dev-1/temperature", b"1")
    assert len(read(s, s.topics.sensor, 1)) == 1

    broker = Mosquitto(s)
    if broker.proc.pid() is not None:  # the native stack: restart the real broker
        broker.proc.stop()
        wait_for(lambda: source.counters()["disconnects"] >= 1, 15, "the client to notice")
        broker.start()
        wait_for(lambda: port_open("127.0.0.1", s.mqtt.port), 30, "mosquitto to listen again")
    else:  # a broker we cannot restart (containers): cut the connection under the client instead
        import socket

        source._client.socket().shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
    wait_for(lambda: source.counters()["connects"] >= 2 and source.subscribed.is_set(), 60, "reconnect")
    pub(s, unique, "dev-1/temperature", b"2")
    values = [e.value["payload"]["value"] for e in read(s, s.topics.sensor, 2) if e.value]
    run.finish()
    assert values == [1.0, 2.0]
