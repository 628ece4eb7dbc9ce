"""Hostile input at the MQTT and files doors, against real Mosquitto and Kafka: every valid record
arrives, every hostile one is dead-lettered exactly once with its reason, without personal data, and
the intake keeps going."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors import dead_letter_read
from connectors.files_source import FilesSource
from connectors.mqtt_source import MqttSource
from connectors.producer import Producer
from connectors.source import Incoming, run_source
from schemas import SensorEvent, validate_obj
from streams.agents.dead_letter import redactor
from streams.settings import Settings
from tests.integration.connectors.mqtt_kit import Running, pub, wait_for
from tests.integration.kafka_kit import count, read

pytestmark = pytest.mark.integration


# (payload, what its dead letter's reason says)
HOSTILE = [
    (b"[" * 200_000, "json: nesting too deep"),
    (b'{"value": ' + b"1" * 5000 + b"}", "json: number too large"),
    (b"1" * 5000, "expected a finite number or a JSON object"),
    (b"\xff\xfe\xfd", "not UTF-8"),
    (b"\x00\x00", "expected a finite number or a JSON object"),
    (b'{"value": 1}\x00', "expected a finite number or a JSON object"),
    (b'{"value": [1, 2]}', "payload.value"),
    (b'"21.5"', "expected a finite number or a JSON object"),
    (b'{"kind": "sensor", "schema_version": 2, "payload": {}}', "schema_version 2 is not supported"),
    (b"7" * 10_000_000, "oversize: the payload is 10000000 bytes"),
    (b'{"event_id": "h-1", "device_id": "dev-bad", "value": "jane.doe@example.com, +49 170 1234567"}',
     "payload.value"),
]
# What the dead letter of a payload with personal data holds: redacted field by field, ids kept.
REDACTED = {HOSTILE[-1][0]: b'{"event_id": "h-1", "device_id": "dev-bad", "value": "[EMAIL], [PHONE]"}'}


def test_mqtt_hostile_payloads_between_valid_readings(s: Settings, unique: str, producer: Producer) -> None:
    source = MqttSource(s.mqtt, s.mqtt_source, redact_text=redactor(s.curate))
    run = Running(source, producer, s)
    pub(s, unique, "dev-ok/temperature", b"0")
    for i, (payload, _) in enumerate(HOSTILE, start=1):
        pub(s, unique, "dev-bad/temperature", payload)
        pub(s, unique, "dev-ok/temperature", str(i).encode())
    total = 2 * len(HOSTILE) + 1
    readings = read(s, s.topics.sensor, len(HOSTILE) + 1, timeout_s=60)
    wait_for(lambda: source.counters()["acked"] == total, 60, "every message acknowledged")
    dead = dead_letters(s)
    pub(s, unique, "dev-ok/temperature", b"99")  # still taking messages after all of that
    assert len(read(s, s.topics.sensor, len(HOSTILE) + 2, timeout_s=30)) == len(HOSTILE) + 2
    counts = run.finish()

    values = sorted(r.value["payload"]["value"] for r in readings if r.value)
    assert values == [float(i) for i in range(len(HOSTILE) + 1)]
    assert len(dead) == len(HOSTILE), [d.reason for d in dead]
    _check_each_once(dead)
    assert all(d.stage == "mqtt" and d.headers["headwater.redacted"] == "true" for d in dead)
    assert not any(b"jane.doe" in (d.value or b"") or "jane.doe" in d.reason for d in dead)
    assert count(s, s.topics.dead_letter) == len(HOSTILE)  # exactly once each, even after the last reading
    assert counts["received"] == total + 1 and counts["dead_lettered"] == len(HOSTILE)
    assert not isinstance(counts, BaseException)


def dead_letters(s: Settings) -> list[dead_letter_read.DeadLetter]:
    """Everything on the dead-letter topic now (read with the production reader, which takes any bytes)."""
    return list(dead_letter_read.read(s.kafka, s.topics.dead_letter))


def _check_each_once(dead: list[dead_letter_read.DeadLetter]) -> None:
    """Each hostile payload has exactly one dead letter (its own bytes, redacted, or a reference), with its reason."""
    for payload, why in HOSTILE:
        mine = [d for d in dead if d.value == REDACTED.get(payload, payload) or _refers_to(d, payload)]
        assert len(mine) == 1, (payload[:40], len(mine))
        assert why in mine[0].reason, mine[0].reason


def _refers_to(d: dead_letter_read.DeadLetter, payload: bytes) -> bool:
    """Kafka cannot hold 10 MB, redaction cannot read bytes that are not UTF-8: a reference (size,
    sha256, head) stands in for the payload."""
    if d.headers.get("headwater.value") != "reference" or d.value is None:
        return False
    ref = json.loads(d.value)["reference"]
    return bool(ref["sha256"] == hashlib.sha256(payload).hexdigest() and ref["bytes"] == len(payload))


def test_files_over_the_event_limit_are_dead_letters_naming_file_and_fix(s: Settings, tmp_path: Path) -> None:
    limit = 100_000
    small = s.model_copy(update={"kafka": s.kafka.model_copy(update={"max_event_bytes": limit})})
    (tmp_path / "a-small.txt").write_text("Pump 7 needs new seals.")
    (tmp_path / "b-big.txt").write_text("word " * 30_000)
    (tmp_path / "c-big.html").write_text("<p>" + "text " * 30_000 + "</p>")
    (tmp_path / "d-small.md").write_text("# Valves\n\nClose valve 3 first.")

    async def go() -> dict[str, int]:
        producer = Producer(small.kafka, client_id="test-hostile-files")
        try:
            source = FilesSource([tmp_path], max_event_bytes=limit, id_root=tmp_path)
            return await run_source(source, producer, small.topics, redact_text=redactor(s.curate))
        finally:
            producer.close()

    assert asyncio.run(go()) == {"produced": 2, "dead_lettered": 2}
    docs = read(s, s.topics.document, 2)
    dead = read(s, s.topics.dead_letter, 2, quiet_s=2)
    assert sorted(d.value["payload"]["doc_id"] for d in docs if d.value) == ["a-small.txt", "d-small.md"]
    assert len(dead) == 2
    for d, name in zip(sorted(dead, key=lambda d: d.headers["headwater.reason"]), ["b-big.txt", "c-big.html"],
                       strict=True):
        reason = d.headers["headwater.reason"]
        assert f"the event of file {tmp_path / name} is " in reason and f"limit of {limit} bytes" in reason
        assert "split the file" in reason and "HEADWATER_KAFKA__MAX_EVENT_BYTES" in reason
        assert d.value is not None and d.value["path"] == str(tmp_path / name)  # the file's id, kept
        assert d.value["doc_id"] == name and d.headers["headwater.redacted"] == "true"


class _Events:
    """A source of events as given (a source that does not check sizes itself)."""

    def __init__(self, *events: SensorEvent) -> None:
        self.events = events

    async def _gen(self) -> AsyncIterator[Incoming]:
        for e in self.events:
            yield Incoming(event=e)

    def __aiter__(self) -> AsyncIterator[Incoming]:
        return self._gen()


def _reading(i: int, tag_bytes: int = 0) -> SensorEvent:
    event = validate_obj({"kind": "sensor", "event_id": f"big-{i}", "source": "t",
                          "event_time": "2026-01-01T00:00:00Z",
                          "payload": {"device_id": "d", "metric": "m", "value": i, "tags": {"t": "x" * tag_bytes}}})
    assert isinstance(event, SensorEvent)
    return event


def test_run_source_dead_letters_an_oversize_event_and_goes_on(s: Settings) -> None:
    """The last door: an event above the producer's limit from any source is a dead letter, not a stop."""
    kafka = s.kafka.model_copy(update={"max_event_bytes": 20_000})

    async def go() -> dict[str, int]:
        producer = Producer(kafka, client_id="test-hostile-run")
        try:
            return await run_source(_Events(_reading(1), _reading(2, 30_000), _reading(3)), producer, s.topics)
        finally:
            producer.close()

    assert asyncio.run(go()) == {"produced": 2, "dead_lettered": 1}
    [dead] = read(s, s.topics.dead_letter, 1, quiet_s=1)
    assert "oversize: event 'big-2' is" in dead.headers["headwater.reason"]
    assert dead.headers["headwater.value"] == "reference" and dead.raw is not None and len(dead.raw) < 2000
    ref = json.loads(dead.raw)["reference"]
    assert ref["why"] == "oversize" and ref["bytes"] > 30_000 and '"big-2"' in ref["head"]
    assert [r.value["event_id"] for r in read(s, s.topics.sensor, 2) if r.value] == ["big-1", "big-3"]
