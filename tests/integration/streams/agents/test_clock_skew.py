"""A device with a wrong clock: its reading from 2099 never freezes its current state.

A real worker, real Kafka, real Weaviate: a reading stamped 2099-01-01 is indexed at the time
Kafka received it (``clock_skew_s`` says by how much its stamp was ahead), and the next correctly
stamped reading becomes the device's current state; so does one after a state from 2099 that a
worker stored before event times were clamped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.weaviate import query, target
from schemas import SensorEvent, SensorReading
from schemas.chunk import ChunkRecord, KafkaPosition
from streams.agents.runtime import curation
from streams.embed import Embedder
from streams.harness.worker_process import Worker
from streams.settings import CurateSettings
from streams.transforms.state import state_record

pytestmark = [pytest.mark.integration, pytest.mark.worker(own_data=True)]

Y2099 = datetime(2099, 1, 1, tzinfo=UTC)
PROPS = ["event_id", "value", "event_time", "clock_skew_s", "record_type", "text"]


def reading(tenant: str, event_id: str, when: datetime, value: float) -> SensorEvent:
    return SensorEvent(event_id=event_id, source="plant", tenant=tenant, event_time=when,
                       payload=SensorReading(device_id="pump-7", metric="temperature", value=value, unit="C"))


def stored(client: Any, worker: Worker, tenant: str) -> dict[str, dict[str, Any]]:
    """The tenant's objects by record type and event id: ``state`` and ``chunk:<event id>``."""
    objects = query.objects(client, worker.settings.weaviate.collection, tenant, PROPS)
    return {o["record_type"] if o["record_type"] == "state" else f"chunk:{o['event_id']}": o for o in objects}


def test_a_reading_from_2099_is_clamped_and_the_next_right_one_becomes_the_state(
        worker: Worker, client: Any) -> None:
    tenant = f"skew{uuid.uuid4().hex[:8]}"
    sent = datetime.now(UTC)
    worker.send([reading(tenant, "bogus", Y2099, 99.0)])
    worker.settle()
    after_bogus = stored(client, worker, tenant)
    bogus = after_bogus["chunk:bogus"]
    assert after_bogus["state"]["event_id"] == "bogus"  # its value is real: it is the state for now
    assert sent - timedelta(seconds=5) <= bogus["event_time"] <= datetime.now(UTC)  # when Kafka received it
    assert bogus["clock_skew_s"] == pytest.approx((Y2099 - bogus["event_time"]).total_seconds(), abs=0.01)
    assert "2099" not in bogus["text"] and "2099" not in after_bogus["state"]["text"]

    worker.send([reading(tenant, "right", datetime.now(UTC), 21.5)])  # the device's clock is right again
    worker.settle()
    state = stored(client, worker, tenant)["state"]
    assert (state["event_id"], state["value"], state["clock_skew_s"]) == ("right", 21.5, 0.0)


def test_a_state_from_2099_stored_before_clamping_is_replaced_by_the_next_right_reading(
        worker: Worker, client: Any, embedder: Embedder) -> None:
    """What a worker from before this rule left behind: a current state stamped 2099, without ``clock_skew_s``."""
    tenant = f"prefix{uuid.uuid4().hex[:8]}"
    old = reading(tenant, "pre-fix", Y2099, 99.0)
    rec = state_record(old, KafkaPosition(worker.settings.topics.sensor, 0, 0), curation(CurateSettings()).series(old))
    props = {k: v for k, v in rec.properties.items() if k != "clock_skew_s"} | {
        "index_time": datetime.now(UTC), "model_id": embedder.model_id}
    collection = worker.settings.weaviate.collection
    assert not target.write(client, collection, [ChunkRecord(rec.uuid, tenant, rec.text, props)],
                            embedder.encode([rec.text]).tolist())
    assert stored(client, worker, tenant)["state"]["event_time"] == Y2099

    worker.send([reading(tenant, "right", datetime.now(UTC) - timedelta(minutes=1), 21.5)])
    worker.settle()
    state = stored(client, worker, tenant)["state"]
    assert (state["event_id"], state["value"], state["clock_skew_s"]) == ("right", 21.5, 0.0)
    assert state["event_time"] < datetime.now(UTC)
