"""Per-test Kafka topics and a read-back helper for the connector tests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import Consumer, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streams.settings import Settings


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: dict[str, Any] | None
    raw: bytes | None
    headers: dict[str, str]


@contextmanager
def fresh_topics(settings: Settings, unique: str, partitions: int = 1) -> Iterator[Settings]:
    """``settings`` whose sensor/app/document/dead-letter topics are new, deleted afterwards."""
    names = {kind: f"test-{unique}-{kind}" for kind in ("sensor", "app", "document", "dead_letter")}
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    futures = admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1)
                                   for n in names.values()])
    for f in futures.values():
        f.result(30)
    _wait_for_leaders(admin, list(names.values()))
    try:
        yield settings.model_copy(update={"topics": settings.topics.model_copy(update=names)})
    finally:
        admin.delete_topics(list(names.values()))


def _wait_for_leaders(admin: AdminClient, topics: list[str], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meta = admin.list_topics(timeout=10).topics
        if all(t in meta and not meta[t].error and meta[t].partitions
               and all(p.leader >= 0 for p in meta[t].partitions.values()) for t in topics):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topics {topics} got no partition leaders within {timeout_s}s")


def read(settings: Settings, topic: str, n: int, timeout_s: float = 30.0,
         quiet_s: float = 0.0) -> list[Record]:
    """The first ``n`` records of ``topic`` (fewer if ``timeout_s`` passes first); then keeps
    reading ``quiet_s`` more seconds so that extra records show up too."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": uuid.uuid4().hex,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list[Record] = []
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(out) < n:
            _poll_into(consumer, out)
        deadline = time.monotonic() + quiet_s
        while time.monotonic() < deadline:
            _poll_into(consumer, out)
    finally:
        consumer.close()
    return out


def _poll_into(consumer: Consumer, out: list[Record]) -> None:
    msg = consumer.poll(0.2)
    if msg is None or msg.error():
        return
    raw, key = msg.value(), msg.key()
    assert not isinstance(raw, str) and not isinstance(key, str)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = None
    pairs = cast(list[tuple[str, bytes | None]], msg.headers() or [])
    headers = {k: (v or b"").decode() for k, v in pairs}
    out.append(Record(str(msg.topic()), key, value, raw, headers))


def count(settings: Settings, topic: str) -> int:
    """How many records ``topic`` holds now (sum of high watermarks; exact right after a produce)."""
    from confluent_kafka import TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": uuid.uuid4().hex})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for attempt in range(50):  # a new topic's leader may still be moving in
            try:
                return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                           for p in partitions)
            except KafkaException:
                if attempt == 49:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")
    finally:
        consumer.close()
