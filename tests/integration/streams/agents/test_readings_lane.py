"""The readings lane's own consumer group: where it starts, and that it resumes a worker from before it."""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from connectors import kafka_admin
from connectors.config import kafka_config
from connectors.weaviate import query
from schemas import SensorEvent, SensorReading, encode, message_key
from streams.harness.worker_process import Worker
from streams.settings import Settings

pytestmark = pytest.mark.integration


def _readings(tenant: str, first: int, n: int) -> list[SensorEvent]:
    start = datetime.now(UTC) - timedelta(hours=1)
    return [SensorEvent(event_id=f"{tenant}-{i}", source="lane", tenant=tenant, event_time=start + timedelta(seconds=i),
                        payload=SensorReading(device_id=f"tank-{i % 4}", metric="level", value=float(i), unit="m"))
            for i in range(first, first + n)]


def test_an_upgraded_worker_resumes_where_its_faust_group_left_the_sensor_topic(
        settings: Settings, weaviate_client: Any, tmp_path: Any) -> None:
    """Before the readings lane, faust's group committed the sensor topic: a new lane group starts there,
    not at the topic's first record (which would replay a fleet's whole history before any new reading)."""
    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path)
    tenant = f"lane{uuid.uuid4().hex[:6]}"
    topic = w.settings.topics.sensor
    try:
        old = _readings(tenant, 0, 40)
        w.produce(topic, [(message_key(e), encode(e)) for e in old])
        # What a worker from before the split leaves behind: the sensor topic committed in faust's group.
        ends = kafka_admin.end_offsets(w.settings.kafka, topic)
        c = Consumer(kafka_config(w.settings.kafka, "test-old-worker") | {"group.id": w.settings.worker.app_id,
                                                                         "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition(topic, p, o) for p, o in ends.items()], asynchronous=False)
        c.close()
        new = _readings(tenant, 40, 8)
        w.produce(topic, [(message_key(e), encode(e)) for e in new])
        w.start()
        w.settle(timeout_s=120)
        assert w.metrics()["counts"]["events"] == len(new)  # the 40 old readings were not read again
        objects = query.objects(weaviate_client, w.settings.weaviate.collection, tenant, ["event_id"])
        stored = {o["event_id"] for o in objects}
        assert stored >= {e.event_id for e in new} and not stored & {e.event_id for e in old}
        # And the lane's own group now holds its offsets: a restart reads nothing twice.
        w.kill(signal.SIGTERM)
        w.start()
        w.settle(timeout_s=60)
        assert w.metrics()["counts"].get("events", 0) == 0
    finally:
        w.kill(signal.SIGTERM)
        w.drop()
