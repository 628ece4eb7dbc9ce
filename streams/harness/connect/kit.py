"""What the connector benchmark's cases share: bounds, fresh topics, warmed-up producers, counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connectors import kafka_admin
from connectors.producer import Producer
from connectors.simulate_source import SensorFleet
from schemas import encode, message_key

Result = dict[str, Any]
WINDOW = 1000  # awaited sends gathered at once by the ceiling case
SMALL = 300  # events per case with ``small=True``
HTTP_CLIENTS, HTTP_BATCH = 8, 100
# Published but not yet received by the source, at most. Mosquitto (2.0.11 here) dropped a few
# hundred QoS 1 messages in 2 of 3 runs at 500, though below its max_queued_messages (1,000);
# at 100 and 250 it lost none.
MQTT_AHEAD = 100
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class _Case:
    """One case's bounds: stop at ``deadline`` (monotonic) or after ``cap`` events (None: no cap)."""

    seconds: float
    cap: int | None

    def deadline(self) -> float:
        return time.monotonic() + self.seconds

    def more(self, deadline: float, done: int) -> bool:
        return time.monotonic() < deadline and (self.cap is None or done < self.cap)


# --- Kafka plumbing ---------------------------------------------------------------------------


@contextmanager
def _producer(s: Any, label: str, **options: Any) -> Iterator[Producer]:
    """A producer that already sent one warm-up record to each input topic (connection,
    producer id and topic metadata are set up before any timing starts)."""
    producer = Producer(s.kafka, client_id=f"headwater-bench-{label}", **options)
    try:
        warm_up = next(SensorFleet(seed=0).events())
        for topic in s.topics.inputs():
            producer.send_sync(topic, encode(warm_up), message_key(warm_up))
        yield producer
    finally:
        producer.close()


@contextmanager
def _fresh_topics(settings: Any, prefix: str) -> Iterator[Any]:
    """``settings`` whose sensor/app/document/dead-letter topics are new; deleted afterwards."""
    with kafka_admin.fresh_topics(settings.kafka, settings.topics, prefix, settings.kafka.partitions) as topics:
        yield settings.model_copy(update={"topics": topics})


def _count_once(s: Any, topic: str) -> int:
    return kafka_admin.count(s.kafka, topic)


