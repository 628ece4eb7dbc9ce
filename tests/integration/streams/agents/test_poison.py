"""Poison never stops anything: hostile records between valid ones, on a real worker."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors import datasets
from connectors.weaviate import query
from schemas import Document, DocumentEvent, encode, message_key
from streams.harness.worker_process import Worker
from streams.settings import Settings

pytestmark = pytest.mark.integration

VALID = json.loads(encode(datasets.jeopardy_events("poison", 1)[0]))
HOSTILE = {
    "deep": b"[" * 200_000,
    "huge-number": b'{"kind": "app", "value": ' + b"9" * 5000 + b"}",
    "not-utf8": b"\xff\xfe\xfa\x00 not text",
    "empty-object": b"{}",
    "wrong-type": b'["an", "array"]',
    "nul-bytes": b'{"kind": "app",\x00\x00 "event_id": "n"}',
    "unknown-kind": json.dumps({**VALID, "kind": "telepathy", "event_id": "k"}).encode(),
    "future-schema": json.dumps({**VALID, "schema_version": 2, "event_id": "v2"}).encode(),
    "missing-fields": json.dumps({"kind": "app", "event_id": "m"}).encode(),
}


def test_every_valid_event_is_indexed_and_every_hostile_record_dead_lettered_once(worker: Worker,
                                                                                  client: Any) -> None:
    valid = datasets.jeopardy_events("poison", 3, offset=10)
    records: list[tuple[bytes | None, bytes | None]] = []
    for i, (name, raw) in enumerate(HOSTILE.items()):
        if i % 3 == 0:
            e = valid[i // 3]
            records.append((b"poison/jeopardy", encode(e)))
        records.append((f"poison/{name}".encode(), raw))
    worker.produce(worker.settings.topics.app, records)
    worker.settle(timeout_s=60)  # committed to the end: no record is stuck behind a poison one
    stored = {o["event_id"] for o in query.objects(client, worker.settings.weaviate.collection, "poison",
                                                    ["event_id"])}
    assert stored >= {e.event_id for e in valid}
    dead = worker.consume_dead_letters(len(HOSTILE) + 1, 15)  # one more than expected: a duplicate shows up
    keys = sorted((m.key() or b"").decode() for m in dead)
    assert keys == sorted(f"poison/{name}" for name in HOSTILE)
    assert all(dict(m.headers()).get("headwater.reason") for m in dead)


def test_the_document_lane_reading_ahead_keeps_every_valid_document_and_dead_letters_every_hostile_one(
        settings: Settings, client: Any, tmp_path: Path) -> None:
    """Hostile records between a backfill's articles and light documents, which the read-ahead reorders."""
    articles = datasets.wiki_events("pdoc", 3)
    light = [DocumentEvent(event_id=f"note-{i}", source="test", tenant="pdoc", event_time=datetime.now(UTC),
                           payload=Document(doc_id=f"note-{i}", title="note", text=f"Note {i}: gate code 40{i}7."))
             for i in range(3)]
    records: list[tuple[bytes | None, bytes | None]] = []
    for i, (name, raw) in enumerate(HOSTILE.items()):
        if i % 3 == 0:
            records += [(message_key(e), encode(e)) for e in (articles[i // 3], light[i // 3])]
        records.append((f"pdoc/{name}".encode(), raw))
    with Worker.started(settings, tmp_path) as w:
        w.produce(w.settings.topics.document, records)
        w.settle(timeout_s=120)
        stored = {o["doc_id"] for o in query.objects(client, w.settings.weaviate.collection, "pdoc", ["doc_id"])}
        assert stored == {e.payload.doc_id for e in [*articles, *light] if isinstance(e, DocumentEvent)}
        dead = w.consume_dead_letters(len(HOSTILE) + 1, 15)
        assert sorted((m.key() or b"").decode() for m in dead) == sorted(f"pdoc/{name}" for name in HOSTILE)
        assert all(dict(m.headers()).get("headwater.reason") for m in dead)


def test_the_readings_lane_keeps_every_valid_reading_and_dead_letters_every_hostile_one(worker: Worker,
                                                                                      client: Any) -> None:
    """The sensor topic has a lane of its own (a confluent-kafka consumer, not faust): same guarantees."""
    from datetime import UTC, datetime, timedelta

    from schemas import SensorEvent, SensorReading

    tenant = f"poisonr{time.time_ns() % 10**8}"
    start = datetime.now(UTC)
    valid = [SensorEvent(event_id=f"{tenant}-r{i}", source="poison", tenant=tenant,
                         event_time=start + timedelta(seconds=i),
                         payload=SensorReading(device_id=f"pump-{i}", metric="flow", value=float(i), unit="m3/h"))
             for i in range(len(HOSTILE))]
    records: list[tuple[bytes | None, bytes | None]] = []
    for e, (name, raw) in zip(valid, HOSTILE.items(), strict=True):
        records += [(f"{tenant}/{e.payload.device_id}".encode(), encode(e)), (f"{tenant}/{name}".encode(), raw)]
    worker.produce(worker.settings.topics.sensor, records)
    worker.settle(timeout_s=60)  # both groups committed to the end
    stored = query.objects(client, worker.settings.weaviate.collection, tenant, ["event_id", "record_type"])
    assert {o["event_id"] for o in stored if o["record_type"] == "state"} == {e.event_id for e in valid}
    dead = [m for m in worker.consume_dead_letters(10_000, 10)  # all of them: one extra would show up
            if (m.key() or b"").startswith(tenant.encode())]
    assert sorted((m.key() or b"").decode() for m in dead) == sorted(f"{tenant}/{name}" for name in HOSTILE)
    assert all(dict(m.headers()).get("headwater.reason") for m in dead)


def test_the_worker_keeps_serving_and_stops_cleanly_on_sigterm(worker: Worker, client: Any) -> None:
    later = datasets.jeopardy_events("poison", 1, offset=40)
    worker.send(later)
    worker.settle(timeout_s=60)
    assert worker.metrics()["counts"]["events"] >= len(HOSTILE) + 4
    assert worker.proc is not None
    start = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    worker.proc.wait(10)
    assert time.monotonic() - start < 10
