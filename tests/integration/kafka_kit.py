"""Per-test Kafka topics and read-back helpers (decoded records, or raw messages) for the connector tests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import Consumer, Message

from connectors import kafka_admin
from streams.settings import Settings


@dataclass(frozen=True)
class Consumed:
    topic: str
    key: bytes | None
    value: dict[str, Any] | None
    raw: bytes | None
    headers: dict[str, str]


@contextmanager
def fresh_topics(settings: Settings, unique: str, partitions: int = 1) -> Iterator[Settings]:
    """``settings`` whose sensor/app/document/dead-letter topics are new, deleted afterwards."""
    with kafka_admin.fresh_topics(settings.kafka, settings.topics, f"test-{unique}", partitions) as topics:
        yield settings.model_copy(update={"topics": topics})


def read(settings: Settings, topic: str, n: int, timeout_s: float = 30.0,
         quiet_s: float = 0.0) -> list[Consumed]:
    """The first ``n`` records of ``topic`` (fewer if ``timeout_s`` passes first); then keeps
    reading ``quiet_s`` more seconds so that extra records show up too."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": uuid.uuid4().hex,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list[Consumed] = []
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


def _poll_into(consumer: Consumer, out: list[Consumed]) -> None:
    msg = consumer.poll(0.2)
    if msg is None or msg.error():
        return
    raw, key = msg.value(), msg.key()
    assert not isinstance(raw, str) and not isinstance(key, str)
    try:
        value = json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # hostile tests produce bytes that are no JSON, or nested too deep
        value = None
    pairs = cast(list[tuple[str, bytes | None]], msg.headers() or [])
    headers = {k: (v or b"").decode() for k, v in pairs}
    out.append(Consumed(str(msg.topic()), key, value, raw, headers))


def count(settings: Settings, topic: str) -> int:
    """How many records ``topic`` holds now (sum of high watermarks; exact right after a produce)."""
    return kafka_admin.count(settings.kafka, topic)


def consume(settings: Settings, topic: str, n: int, timeout_s: float = 30) -> list[Message]:
    """The first ``n`` records of ``topic`` (all partitions, from the start)."""
    c = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers,
                  "group.id": f"check-{topic}-{time.time_ns()}", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    out: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < n and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append(msg)
    finally:
        c.close()
    return out


def headers_of(msg: Message) -> dict[str, str]:
    pairs: Any = msg.headers() or []  # list of (name, bytes) on a consumed record
    return {k: v.decode() for k, v in pairs}


def offset_of(msg: Message) -> int:
    return int(msg.offset() or 0)
