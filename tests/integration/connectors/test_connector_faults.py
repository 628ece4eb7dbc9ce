"""Kafka stopped and restarted under a running connector: every acknowledged event arrives once."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator

import pytest

from connectors.producer import Producer
from connectors.simulate_source import SensorFleet
from connectors.source import Incoming, run_source
from streams.settings import Settings
from streams.stack.kafka import Kafka
from tests.integration.kafka_kit import fresh_topics, read

pytestmark = pytest.mark.integration


class AckedFleet:
    """A simulated sensor fleet at ``rate``/s that remembers which events the connector acknowledged."""

    def __init__(self, n: int, rate: float) -> None:
        self.events = list(itertools.islice(SensorFleet(seed=11, devices=4).events(), n))
        self.rate = rate
        self.acked: list[str] = []

    def __aiter__(self) -> AsyncIterator[Incoming]:
        return self._items()

    async def _items(self) -> AsyncIterator[Incoming]:
        for e in self.events:
            await asyncio.sleep(1 / self.rate)

            async def ack(eid: str = e.event_id) -> None:
                self.acked.append(eid)

            yield Incoming(event=e, ack=ack)


async def _run_with_restart(s: Settings, kafka: Kafka, fleet: AckedFleet) -> dict[str, int]:
    producer = Producer(s.kafka, max_in_flight=200, client_id="restart-test")
    task = asyncio.create_task(run_source(fleet, producer, s.topics, window=200))
    while len(fleet.acked) < 100:
        await asyncio.sleep(0.05)
    assert await asyncio.to_thread(kafka.proc.stop), "the session's Kafka is not a native process"
    acked_while_down = len(fleet.acked)
    await asyncio.sleep(3)
    assert len(fleet.acked) - acked_while_down <= 5  # nothing new is acknowledged while Kafka is down
    await asyncio.to_thread(kafka.start)
    deadline = time.monotonic() + 90
    while not await asyncio.to_thread(kafka.ready) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    counts = await asyncio.wait_for(task, 180)
    await asyncio.to_thread(producer.close)
    return counts


def test_kafka_restart_under_a_running_connector(settings: Settings, unique: str) -> None:
    kafka = Kafka(settings)
    with fresh_topics(settings, unique) as s:
        fleet = AckedFleet(400, rate=100)
        try:
            counts = asyncio.run(_run_with_restart(s, kafka, fleet))
        finally:
            if not kafka.ready():
                kafka.start()
                for _ in range(180):
                    if kafka.ready():
                        break
                    time.sleep(0.5)
        assert counts["produced"] == 400 and len(fleet.acked) == 400
        records = read(s, s.topics.sensor, 400, timeout_s=60, quiet_s=3)
        ids = [json.loads(r.raw or b"{}")["event_id"] for r in records]
        assert len(ids) == len(set(ids)) == 400
        assert set(ids) == set(fleet.acked)
