"""run_source's dead letters at the doors: redacted field by field as in the worker, ids kept; binary
payloads as references; the original bytes only when no redactor is given."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.config import MqttSettings, MqttSourceSettings, TopicSettings
from connectors.dead_letter import Redact
from connectors.files_source import FileState, file_item
from connectors.mqtt_source import MqttSource
from connectors.producer import Delivered
from connectors.source import Incoming, run_source
from streams.agents.dead_letter import redactor
from streams.settings import CurateSettings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REDACT = redactor(CurateSettings())
Sent = tuple[str, bytes | None, bytes | None, dict[str, str]]


class Producer:
    """Takes every record at once and remembers it."""

    max_event_bytes = 4_000_000

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def send(self, topic: str, value: bytes | None, key: bytes | None = None,
                   headers: dict[str, str] | None = None) -> Delivered:
        self.sent.append((topic, value, key, dict(headers or {})))
        return Delivered(topic, 0, len(self.sent) - 1)


async def _items(*items: Incoming) -> AsyncIterator[Incoming]:
    for item in items:
        yield item


def _dead_letters(items: list[Incoming], redact_text: Redact | None, stage: str) -> list[Sent]:
    producer, topics = Producer(), TopicSettings()
    counts = asyncio.run(run_source(_items(*items), producer, topics, stage=stage,  # type: ignore[arg-type]
                                    redact_text=redact_text))
    assert counts["dead_lettered"] == len(items)
    return [s for s in producer.sent if s[0] == topics.dead_letter]


def _mqtt_item(payload: bytes) -> Incoming:
    source = MqttSource(MqttSettings(), MqttSourceSettings(topic_pattern="sensors/{device_id}/{metric}"),
                        clock=lambda: NOW)

    async def ack() -> None: ...

    return source._item("sensors/dev-7/temperature", payload, ack)


INVALID_READING = json.dumps({"event_id": "r-1", "device_id": "dev-7", "value": "call jane.doe@example.com",
                              "location": "flat of +49 170 1234567"}).encode()


def test_an_invalid_mqtt_reading_is_dead_lettered_redacted_with_its_ids() -> None:
    [(_, value, key, headers)] = _dead_letters([_mqtt_item(INVALID_READING)], REDACT, "mqtt")
    out = json.loads(value or b"")
    assert (out["event_id"], out["device_id"]) == ("r-1", "dev-7")
    assert out["value"] == "call [EMAIL]" and out["location"] == "flat of [PHONE]"
    assert headers["headwater.redacted"] == "true" and headers["headwater.stage"] == "mqtt" and key is None
    assert "headwater.value" not in headers and "payload.value" in headers["headwater.reason"]


def test_a_reason_that_quotes_the_payload_is_redacted_too() -> None:
    [(_, value, _, headers)] = _dead_letters([_mqtt_item(b"warm, ask jane.doe@example.com")], REDACT, "mqtt")
    assert value == b"warm, ask [EMAIL]"
    assert "expected a finite number" in headers["headwater.reason"] and "jane" not in headers["headwater.reason"]


def test_a_binary_mqtt_payload_is_a_reference() -> None:
    [(_, value, _, headers)] = _dead_letters([_mqtt_item(b"\xff\xfe\xfd")], REDACT, "mqtt")
    assert headers["headwater.value"] == "reference" and json.loads(value or b"")["reference"]["bytes"] == 3


def test_without_a_redactor_the_door_keeps_the_original_bytes() -> None:
    [(_, value, _, headers)] = _dead_letters([_mqtt_item(INVALID_READING)], None, "mqtt")
    assert value == INVALID_READING and "headwater.redacted" not in headers


def test_a_files_dead_letter_keeps_path_and_document_id(tmp_path: Path) -> None:
    path = tmp_path / "jane.doe@example.com notes.pdf"  # the path is the file's identity: kept as is
    item = file_item(path, FileState(doc_id=str(path), size=9, mtime_ns=0), b"not a pdf", version=1,
                     source="files", tenant="default")
    [(_, value, _, headers)] = _dead_letters([item], REDACT, "files")
    out = json.loads(value or b"")
    assert out["path"] == str(path) and out["doc_id"] == str(path) and headers["headwater.redacted"] == "true"
