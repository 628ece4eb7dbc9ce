"""A dead letter never passes the broker's limit: a 1.5 MB binary value (three times that once its bytes
were replacement characters) is one small reference, and the record after it is stored, on a real worker."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.weaviate import query
from schemas import Document, DocumentEvent, SensorEvent, SensorReading, encode, message_key
from streams.harness.worker_process import Worker, wait_for

pytestmark = pytest.mark.integration

BINARY = bytes(range(128, 256)) * 12_000  # 1.5 MB, not one character of it UTF-8


def test_a_binary_value_of_one_and_a_half_mb_is_one_reference_and_the_next_record_is_stored(
        worker: Worker, client: Any) -> None:
    tenant = f"binary{time.time_ns() % 10**8}"
    now = datetime.now(UTC)
    doc = DocumentEvent(event_id=f"{tenant}-doc", source="test", tenant=tenant, event_time=now,
                        payload=Document(doc_id="after-binary", title="Valves", text="Close valve 3 before pump 7."))
    reading = SensorEvent(event_id=f"{tenant}-reading", source="test", tenant=tenant, event_time=now,
                          payload=SensorReading(device_id="pump-7", metric="flow", value=3.5, unit="m3/h"))
    t = worker.settings.topics
    worker.produce(t.document, [(f"{tenant}/binary-doc".encode(), BINARY), (message_key(doc), encode(doc))])
    worker.produce(t.sensor, [(f"{tenant}/binary-reading".encode(), BINARY), (message_key(reading), encode(reading))])

    def stored() -> set[str]:
        return {o["event_id"] for o in query.objects(client, worker.settings.weaviate.collection, tenant,
                                                      ["event_id"])}

    assert wait_for(lambda: {doc.event_id, reading.event_id} <= stored(), 120, 0.5), stored()
    worker.settle(timeout_s=60)  # and committed past both: no lane is stuck on the binary record
    dead = [m for m in worker.consume_dead_letters(10_000, 10) if (m.key() or b"").startswith(tenant.encode())]
    assert sorted((m.key() or b"").decode() for m in dead) == [f"{tenant}/binary-doc", f"{tenant}/binary-reading"]
    for m in dead:
        headers = {k: v.decode() for k, v in m.headers()}
        ref = json.loads(m.value())["reference"]
        assert headers["headwater.value"] == "reference" and headers["headwater.redacted"] == "true"
        assert ref["bytes"] == len(BINARY) and ref["sha256"] == hashlib.sha256(BINARY).hexdigest()
        assert ref["why"] == "binary" and len(m.value()) < 4096
        assert headers["headwater.topic"] in (worker.settings.topics.document, worker.settings.topics.sensor)

