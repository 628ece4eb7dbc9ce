"""Reading the dead-letter topic back (``headwater deadletter``): every record, or the one at an offset.

Input: Kafka settings and the dead-letter topic. Output: :class:`DeadLetter` s, partition by
partition, up to the end of the topic at the time of the call; :func:`select` filters them
(pure). What a dead letter holds is written by :mod:`connectors.dead_letter`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition

from connectors.config import KafkaSettings, kafka_config


@dataclass(frozen=True)
class DeadLetter:
    """One record of the dead-letter topic, where it is there, and its headers."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers.get("headwater.reason", "")

    @property
    def stage(self) -> str:
        return self.headers.get("headwater.stage", "")

    @property
    def source_topic(self) -> str:
        return self.headers.get("headwater.topic", "")

    @property
    def time(self) -> datetime:
        """When it was dead-lettered: the ``headwater.time`` header, else the record's timestamp."""
        try:
            return datetime.fromisoformat(self.headers["headwater.time"])
        except (KeyError, ValueError):
            return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)


def select(letters: Iterator[DeadLetter] | list[DeadLetter], *, reason: str | None = None,
           stage: str | None = None, since: datetime | None = None, topic: str | None = None
           ) -> Iterator[DeadLetter]:
    """The dead letters whose reason contains ``reason`` (case-insensitive), of ``stage``, from
    source ``topic``, dead-lettered at or after ``since`` (pure)."""
    for d in letters:
        if reason is not None and reason.lower() not in d.reason.lower():
            continue
        if (stage is not None and d.stage != stage) or (topic is not None and d.source_topic != topic):
            continue
        if since is not None and d.time < since:
            continue
        yield d


def read(kafka: KafkaSettings, topic: str, *, partition: int | None = None, offset: int | None = None,
         timeout_s: float = 10.0) -> Iterator[DeadLetter]:
    """Every record of ``topic`` up to its end at the time of the call, partition by partition.

    With ``partition`` only that partition is read; with ``offset`` as well, reading starts there.

    Raises:
        KafkaException: the topic does not exist or Kafka did not answer within ``timeout_s``.
    """
    consumer = Consumer(kafka_config(kafka, "headwater-deadletter") | {
        "group.id": f"headwater-deadletter-{uuid.uuid4().hex}", "enable.auto.commit": False, "log_level": 0})
    try:
        for p in _partitions(consumer, topic, partition, timeout_s):
            yield from _read_partition(consumer, topic, p, offset, timeout_s)
    finally:
        consumer.close()


def read_at(kafka: KafkaSettings, topic: str, offset: int, partition: int | None = None,
            timeout_s: float = 10.0) -> list[DeadLetter]:
    """The record at ``offset`` of ``partition``, or of every partition that has one (0, 1 or more)."""
    consumer = Consumer(kafka_config(kafka, "headwater-deadletter") | {
        "group.id": f"headwater-deadletter-{uuid.uuid4().hex}", "enable.auto.commit": False, "log_level": 0})
    found: list[DeadLetter] = []
    try:
        for p in _partitions(consumer, topic, partition, timeout_s):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
            if low <= offset < high:
                found += [d for d in _read_partition(consumer, topic, p, offset, timeout_s, 1) if d.offset == offset]
    finally:
        consumer.close()
    return found


def _partitions(consumer: Consumer, topic: str, partition: int | None, timeout_s: float) -> list[int]:
    meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if meta is None or meta.error is not None or not meta.partitions:
        raise KafkaException(f"topic {topic!r} does not exist (nothing was dead-lettered there yet?)")
    found = sorted(meta.partitions)
    return found if partition is None else [p for p in found if p == partition]


def _read_partition(consumer: Consumer, topic: str, partition: int, start: int | None,
                    timeout_s: float, most: int | None = None) -> Iterator[DeadLetter]:
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
    first = OFFSET_BEGINNING if start is None else max(start, low)
    if high <= (low if start is None else max(start, low)):
        return
    consumer.assign([TopicPartition(topic, partition, first)])
    while True:
        msg = consumer.poll(timeout_s)
        if msg is None:
            raise KafkaException(f"no record from {topic}[{partition}] within {timeout_s} s")
        if msg.error():
            continue  # partition EOF and transient errors: poll on until the end offset
        letter = _letter(msg)
        yield letter
        most = None if most is None else most - 1
        if letter.offset >= high - 1 or most == 0:
            return


def _letter(msg: Message) -> DeadLetter:
    value, key = msg.value(), msg.key()
    pairs = cast(list[tuple[str, bytes | None]], msg.headers() or [])
    return DeadLetter(partition=msg.partition() or 0, offset=msg.offset() or 0, timestamp_ms=msg.timestamp()[1],
                      key=key if isinstance(key, bytes) else None, value=value if isinstance(value, bytes) else None,
                      headers={k: (v or b"").decode("utf-8", errors="replace") for k, v in pairs})
