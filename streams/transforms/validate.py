"""Stage 1, validate: Kafka record -> typed event, or a rejection with its reason.

Input: the record's value, key and position. Output: an event, a document tombstone,
or a :class:`Rejected` bound for the dead-letter topic. :func:`stamped` gives an event its
ingest time, the record's Kafka timestamp: the planner stamps only the events it keeps
(of a sensor's readings in one batch, only the latest decides its state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schemas import AnyEvent, InvalidEvent, decode, stamp
from schemas.chunk import KafkaPosition


@dataclass(frozen=True)
class Item:
    """One consumed Kafka record."""

    value: bytes | None
    key: bytes | None
    position: KafkaPosition
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class Rejected:
    item: Item
    reason: str
    stage: str = "validate"


@dataclass(frozen=True)
class Tombstone:
    """A null value on the document topic: delete the document named by the key."""

    item: Item
    tenant: str
    doc_id: str


def validate(item: Item, document_topic: str, max_bytes: int) -> AnyEvent | Tombstone | Rejected:
    """Decode and validate; never raises."""
    if item.value is None and item.position.topic == document_topic:
        return _tombstone(item)
    try:
        return decode(item.value, max_bytes=max_bytes)
    except InvalidEvent as exc:
        return Rejected(item, exc.reason)


def stamped(event: AnyEvent, item: Item) -> AnyEvent:
    """``event`` with its ingest time: when Kafka took the record, unless the producer already set it."""
    if item.timestamp_ms is not None and item.timestamp_ms > 0:
        return stamp(event, datetime.fromtimestamp(item.timestamp_ms / 1000, tz=UTC))
    return event


def _tombstone(item: Item) -> Tombstone | Rejected:
    key = (item.key or b"").decode(errors="replace")
    tenant, sep, doc_id = key.partition("/")
    if not sep or not tenant or not doc_id:
        return Rejected(item, f"tombstone: key must be '<tenant>/<doc_id>', got {key!r}")
    return Tombstone(item, tenant, doc_id)
