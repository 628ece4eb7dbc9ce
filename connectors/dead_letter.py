"""Dead-letter records: the original bytes plus why, where and when they failed; and reading them back.

Input: a record some stage could not handle. Output: the same bytes and key on the
dead-letter topic, with headers ``headwater.reason`` (one line: ``<category>: <detail>``),
``headwater.stage``, ``headwater.topic``, ``headwater.partition``, ``headwater.offset``
and ``headwater.time``. The original is never re-encoded, so it can be fixed and replayed;
only a value larger than the event limit (which Kafka could not hold) is replaced by a small
JSON reference (size, sha256, first bytes), marked ``headwater.value: reference``.

:func:`redact_value` scrubs personal data from a value field by field, keeping the ids a
fix-and-replay needs; :func:`read` and :func:`select` read the topic back (``headwater deadletter``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition

from connectors.config import KafkaSettings, kafka_config
from connectors.producer import Delivered, Producer

MAX_REASON = 1000
HEAD_BYTES = 512  # how much of an oversize original its reference keeps, to recognise it by

# Identity and routing fields: they survive redaction so that a dead letter can be fixed and replayed.
KEEP_FIELDS = frozenset({
    "schema_version", "kind", "event_id", "source", "tenant", "event_time", "ingest_time", "doc_id", "version",
    "deleted", "device_id", "metric", "unit", "app", "action", "content_type", "uri"})


def dead_letter_headers(*, reason: str, stage: str, source_topic: str = "", partition: int = -1,
                        offset: int = -1, now: datetime | None = None) -> dict[str, str]:
    """The headers of one dead-letter record (pure; ``now`` defaults to the current UTC time).

    ``reason`` is folded to one line and cut at ``MAX_REASON`` characters; ``partition`` and
    ``offset`` are -1 when the record never was in Kafka (a source or HTTP rejected it).
    """
    return {
        "headwater.reason": " ".join(reason.split())[:MAX_REASON],
        "headwater.stage": stage,
        "headwater.topic": source_topic,
        "headwater.partition": str(partition),
        "headwater.offset": str(offset),
        "headwater.time": (now or datetime.now(UTC)).isoformat(),
    }


def oversize_reference(original: bytes) -> bytes:
    """What stands in for an original too large for Kafka: its size, sha256 and first bytes (pure)."""
    head = original[:HEAD_BYTES].decode("utf-8", errors="replace")
    ref = {"oversize": {"bytes": len(original), "sha256": hashlib.sha256(original).hexdigest(), "head": head}}
    return json.dumps(ref).encode()


async def send_dead_letter(producer: Producer, topic: str, original: bytes | None, key: bytes | None,
                           reason: str, stage: str, source_topic: str = "", partition: int = -1,
                           offset: int = -1) -> Delivered:
    """Write ``original`` (unchanged) and ``key`` to the dead-letter ``topic``; wait for the broker.

    An ``original`` above ``producer.max_event_bytes`` is sent as :func:`oversize_reference`,
    so that a dead letter never fails for its size.

    Raises:
        DeliveryFailed: the dead-letter record itself could not be written; the caller
            must not acknowledge the original then.
    """
    headers = dead_letter_headers(reason=reason, stage=stage, source_topic=source_topic,
                                  partition=partition, offset=offset)
    if original is not None and len(original) > producer.max_event_bytes:
        original, headers["headwater.value"] = oversize_reference(original), "reference"
    return await producer.send(topic, original, key, headers)


# --- redaction (pure) -------------------------------------------------------------------------


def redact_value(value: bytes | None, redact_text: Callable[[str], str]) -> bytes:
    """``value`` with every JSON string leaf passed through ``redact_text``, except :data:`KEEP_FIELDS`.

    The result is valid JSON of the same structure (object keys are kept as they are). A value
    that is not JSON (or not UTF-8, or too deep to walk) comes back as ``redact_text`` over its
    text, decoded with ``errors="replace"``; ``None`` comes back as ``b""``.
    """
    if value is None:
        return b""
    text = value.decode("utf-8", errors="replace")
    try:
        redacted = _redact(json.loads(value.decode("utf-8")), redact_text, None)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, a number past the digit limit, too deep
        return redact_text(text).encode()
    return json.dumps(redacted, ensure_ascii=False).encode()


def _redact(node: Any, redact_text: Callable[[str], str], key: str | None) -> Any:
    if isinstance(node, str):
        return node if key in KEEP_FIELDS else redact_text(node)
    if isinstance(node, dict):
        return {k: _redact(v, redact_text, k) for k, v in node.items()}
    if isinstance(node, list):  # items of a list belong to the list's field
        return [_redact(v, redact_text, key) for v in node]
    return node


# --- reading the topic back -------------------------------------------------------------------


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
