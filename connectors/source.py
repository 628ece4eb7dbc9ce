"""Sources: anything that yields events, and the one loop that moves them into Kafka.

Input: a :class:`Source` (an async iterable of :class:`Incoming`). Output: each valid
event on its kind's topic (``topics.sensor`` / ``.app`` / ``.document``), each invalid
item on ``topics.dead_letter`` with its reason.

Semantics of :func:`run_source`:
- At least once: an item's ``ack`` runs only after Kafka confirmed its record (the event
  or its dead letter). A crash before that leaves the item unacknowledged, so a source
  that redelivers unacknowledged items loses nothing; deterministic event ids make the
  duplicate harmless downstream.
- Order: records are handed to the producer in source order, so events of one entity
  (same key, same partition) keep their order, except a record that had to be retried.
  Acks may run out of order.
- Errors: an event whose value is above ``producer.max_event_bytes`` is dead-lettered
  (as a reference: Kafka could not hold it) without trying; a retriable delivery failure is
  retried (``retries`` times, with backoff); a non-retriable one sends the event to the
  dead-letter topic. When even that fails, reading stops, in-flight records settle, and the
  error is raised.
- Personal data: with ``redact_text`` (the entry points pass
  :func:`streams.agents.dead_letter.redactor`), dead letters are redacted field by field, ids kept,
  as in the worker; without it they keep the original bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from connectors.config import TopicSettings
from connectors.dead_letter import Redact, send_dead_letter
from connectors.producer import Delivered, DeliveryFailed, Producer
from schemas import AnyEvent, encode, message_key, oversize_reason

__all__ = ["Incoming", "Progress", "Source", "run_source", "utcnow"]

Progress = Callable[[dict[str, int]], None]


def utcnow() -> datetime:
    """The default clock of every source: aware UTC (sources take a ``clock`` so tests can fix time)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Incoming:
    """What a source yields: an ``event``, or an ``error`` (one line) with the ``raw`` bytes it came from.

    ``ack``, when set, tells the source the item is safely in Kafka (e.g. commit a file
    position, ack an MQTT message).
    """

    event: AnyEvent | None = None
    raw: bytes | None = None
    error: str | None = None
    ack: Callable[[], Awaitable[None]] | None = None


class Source(Protocol):
    """Yields :class:`Incoming` s; ends when the source is exhausted (a live source never ends)."""

    def __aiter__(self) -> AsyncIterator[Incoming]: ...


async def run_source(source: Source, producer: Producer, topics: TopicSettings,
                     progress: Progress | None = None, *, window: int = 1000, retries: int = 3,
                     stage: str = "source", redact_text: Redact | None = None) -> dict[str, int]:
    """Produce every item of ``source``; return ``{"produced": n, "dead_lettered": m}``.

    At most ``window`` items are in flight at once (bounded memory for endless sources).
    ``progress`` is called with the counters after every settled item.

    Raises:
        DeliveryFailed: a record could be neither delivered nor dead-lettered.
    """
    counts = {"produced": 0, "dead_lettered": 0}
    room = asyncio.Semaphore(window)
    pending: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []
    dead = _DeadLetters(producer, topics.dead_letter, stage, redact_text)

    def settled(task: asyncio.Task[None]) -> None:
        pending.discard(task)
        room.release()
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())  # type: ignore[arg-type]
        if progress is not None:
            progress(dict(counts))

    try:
        async for item in source:
            await room.acquire()
            if failures:
                break
            task = asyncio.create_task(_deliver(item, producer, topics, counts, retries, dead))
            pending.add(task)
            task.add_done_callback(settled)
    except asyncio.CancelledError:  # unacknowledged items stay unacknowledged: nothing is lost
        for task in pending:
            task.cancel()
        raise
    finally:
        await asyncio.gather(*pending, return_exceptions=True)
    if failures:
        raise failures[0]
    return counts


@dataclass(frozen=True)
class _DeadLetters:
    """Where a run's dead letters go, and how they are redacted."""

    producer: Producer
    topic: str
    stage: str
    redact_text: Redact | None

    async def send(self, value: bytes | None, key: bytes | None, reason: str) -> None:
        await send_dead_letter(self.producer, self.topic, value, key, reason, self.stage,
                               redact_text=self.redact_text)


async def _deliver(item: Incoming, producer: Producer, topics: TopicSettings, counts: dict[str, int],
                   retries: int, dead: _DeadLetters) -> None:
    if item.event is None:
        await dead.send(item.raw, None, item.error or "source: item carries neither an event nor an error")
        counts["dead_lettered"] += 1
    else:
        value, key = encode(item.event), message_key(item.event)
        try:
            if len(value) > producer.max_event_bytes:  # every door refuses it; so must this last one
                why = oversize_reason(f"event {item.event.event_id!r}", len(value), producer.max_event_bytes)
                await dead.send(value, key, why)
                counts["dead_lettered"] += 1
            else:
                await _send_retrying(producer, topics.for_kind(item.event.kind.value), value, key, retries)
                counts["produced"] += 1
        except DeliveryFailed as exc:
            if exc.retriable:
                raise
            await dead.send(value, key, f"kafka: {exc}")
            counts["dead_lettered"] += 1
    if item.ack is not None:
        await item.ack()


async def _send_retrying(producer: Producer, topic: str, value: bytes, key: bytes, retries: int) -> Delivered:
    for attempt in range(retries + 1):
        try:
            return await producer.send(topic, value, key)
        except DeliveryFailed as exc:
            if not exc.retriable or attempt == retries:
                raise
            await asyncio.sleep(min(2.0**attempt, 30.0))
    raise AssertionError("unreachable")
