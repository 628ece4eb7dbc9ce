"""The one Kafka producer of every connector: idempotent, acks=all, delivery awaited.

Input: bytes (or typed events) and a topic. Output: a :class:`Delivered` position once
the broker holds the record.

Semantics:
- ``send`` returns only after the broker confirmed the record (acks=all), so a
  connector acknowledges its own source only for data Kafka holds.
- Idempotent (``enable.idempotence``): librdkafka's internal retries never duplicate
  or reorder a record. Records handed over by one event loop reach librdkafka in the
  order ``send`` was called, so per key (= per partition) order is kept.
- At most ``max_in_flight`` records wait for confirmation. ``send`` then waits for
  room, first come first served (bounded memory while Kafka is down), or, with
  ``block=False``, raises :class:`QueueFull` at once (HTTP maps that to 503).
- A record not confirmed within ``message_timeout_ms`` (default 120 s) fails with
  :class:`DeliveryFailed` (``retriable=True``); until then a send simply waits, so
  a short Kafka outage only slows producers down.

Example::

    producer = Producer(settings.kafka)
    where = await producer.send_event(settings.topics.app, event)
    producer.close()
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka import Producer as _Kafka

from connectors.config import KafkaSettings, kafka_config
from connectors.inflight import Slots, resolve
from schemas import AnyEvent, encode, message_key

log = logging.getLogger(__name__)

__all__ = ["Delivered", "DeliveryFailed", "Producer", "QueueFull"]

# Errors after which the same record may well succeed later (broker down, leader moving).
_RETRIABLE = {
    KafkaError._MSG_TIMED_OUT, KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
    KafkaError._QUEUE_FULL, KafkaError.REQUEST_TIMED_OUT, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, KafkaError.NETWORK_EXCEPTION,
}


@dataclass(frozen=True)
class Delivered:
    """Where the broker stored a record."""

    topic: str
    partition: int
    offset: int


class DeliveryFailed(Exception):
    """The broker did not confirm a record. ``retriable`` says whether sending it again may work."""

    def __init__(self, topic: str, error: KafkaError | str) -> None:
        self.topic = topic
        self.retriable = isinstance(error, KafkaError) and (error.retriable() or error.code() in _RETRIABLE)
        super().__init__(f"delivery to topic {topic!r} failed: {error}")


class QueueFull(Exception):
    """Too many records await confirmation; retry later (HTTP: 503)."""


def producer_config(kafka: KafkaSettings, client_id: str, *, linger_ms: int = 5,
                    message_timeout_ms: int = 120_000) -> dict[str, Any]:
    """librdkafka settings of every Headwater producer: idempotent, acks=all, Java's partitioner."""
    return {
        **kafka_config(kafka, client_id), "enable.idempotence": True, "acks": "all",
        # Java's default partitioner (murmur2): Kafka Connect, Debezium and Java producers put
        # each key on the same partition as we do, so one entity's events stay in order.
        "partitioner": "murmur2_random",
        "linger.ms": linger_ms, "message.timeout.ms": message_timeout_ms,
        "message.max.bytes": kafka.message_max_bytes,  # max_event_bytes plus room for key and headers
    }


class Producer:
    """Idempotent, acks=all producer with awaited delivery and a bounded in-flight queue.

    Thread-safe; ``send`` may be awaited from any event loop, ``send_sync`` from any thread.
    A background thread polls librdkafka and settles each delivery report.
    """

    def __init__(self, kafka: KafkaSettings, *, max_in_flight: int = 10_000, client_id: str = "headwater",
                 message_timeout_ms: int = 120_000, linger_ms: int = 5) -> None:
        self._kafka = _Kafka(producer_config(kafka, client_id, linger_ms=linger_ms,
                                             message_timeout_ms=message_timeout_ms))
        self.max_event_bytes = kafka.max_event_bytes  # the doors check events against it before sending
        self._slots = Slots(max_in_flight)
        self._counts = {"produced": 0, "failed": 0, "in_flight": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-delivery", daemon=True)
        self._poller.start()

    async def send(self, topic: str, value: bytes | None, key: bytes | None = None,
                   headers: dict[str, str] | None = None, *, block: bool = True) -> Delivered:
        """Produce one record and wait until the broker confirmed it.

        Raises:
            QueueFull: ``block=False`` and ``max_in_flight`` records await confirmation.
            DeliveryFailed: the broker refused it or did not confirm it in time.
        """
        if block:
            await self._slots.take()
        elif not self._slots.try_take():
            raise QueueFull(f"{self._slots.used} records await confirmation from Kafka; retry later")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Delivered] = loop.create_future()
        self._produce(topic, value, key, headers, lambda result: _settle_threadsafe(loop, fut, result))
        return await fut

    async def send_event(self, topic: str, event: AnyEvent) -> Delivered:
        """``send`` the event's JSON, keyed by tenant and entity (one entity, one partition)."""
        return await self.send(topic, encode(event), message_key(event))

    def send_sync(self, topic: str, value: bytes | None, key: bytes | None = None,
                  headers: dict[str, str] | None = None, timeout: float = 30.0) -> Delivered:
        """Blocking ``send`` for scripts and tests; ``timeout`` bounds the whole call."""
        if not self._slots.take_sync(timeout):
            raise QueueFull(f"no room for a record within {timeout}s")
        box: list[Delivered | DeliveryFailed] = []
        ready = threading.Event()

        def done(result: Delivered | DeliveryFailed) -> None:
            box.append(result)
            ready.set()

        self._produce(topic, value, key, headers, done)
        if not ready.wait(timeout):
            raise DeliveryFailed(topic, f"no delivery report within {timeout}s (the record may still arrive)")
        if isinstance(box[0], DeliveryFailed):
            raise box[0]
        return box[0]

    def submit(self, topic: str, value: bytes | None, key: bytes | None = None,
               headers: dict[str, str] | None = None, timeout: float = 30.0) -> Future[Delivered]:
        """Hand one record over without waiting; the future settles with its delivery report.

        For scripts that produce many records and then wait for all of them (``result()``).
        """
        if not self._slots.take_sync(timeout):
            raise QueueFull(f"no room for a record within {timeout}s")
        fut: Future[Delivered] = Future()

        def done(result: Delivered | DeliveryFailed) -> None:
            if isinstance(result, DeliveryFailed):
                fut.set_exception(result)
            else:
                fut.set_result(result)

        self._produce(topic, value, key, headers, done)
        return fut

    def counters(self) -> dict[str, int]:
        """``produced`` and ``failed`` since start, ``in_flight`` now."""
        with self._lock:
            return dict(self._counts)

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for outstanding deliveries; returns how many are still outstanding."""
        return int(self._kafka.flush(timeout))

    def close(self) -> None:
        """Flush (up to 30 s), then stop the delivery thread. Idempotent."""
        if self._stop.is_set():
            return
        self.flush()
        self._stop.set()
        self._poller.join(timeout=5)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self._kafka.poll(0.1)
            except Exception:  # noqa: BLE001 - a failing callback must not stop all later deliveries
                log.exception("delivery report callback failed")

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, n in deltas.items():
                self._counts[name] += n

    def _produce(self, topic: str, value: bytes | None, key: bytes | None, headers: dict[str, str] | None,
                 on_done: Callable[[Delivered | DeliveryFailed], Any]) -> None:
        """Hand one record to librdkafka; the caller holds a slot, released on its report."""

        def report(err: KafkaError | None, msg: Message) -> None:
            self._finish(failed=err is not None)
            if err is not None:
                on_done(DeliveryFailed(topic, err))
            else:
                on_done(_delivered(msg))

        self._count(in_flight=1)
        while True:
            try:
                self._kafka.produce(topic, value, key, headers=list((headers or {}).items()),
                                    on_delivery=report)
                return
            except BufferError:  # librdkafka's own queue is full: let deliveries drain
                self._kafka.poll(0.1)
            except KafkaException as exc:
                self._finish(failed=True)
                raise DeliveryFailed(topic, exc.args[0]) from exc

    def _finish(self, *, failed: bool) -> None:
        self._count(in_flight=-1, **({"failed": 1} if failed else {"produced": 1}))
        self._slots.give()


def _delivered(msg: Message) -> Delivered:
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    assert topic is not None and partition is not None and offset is not None, "delivered, so positioned"
    return Delivered(topic, partition, offset)


def _settle_threadsafe(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Delivered],
                       result: Delivered | DeliveryFailed) -> None:
    try:
        loop.call_soon_threadsafe(resolve, fut, result)
    except RuntimeError:  # the loop is closed: nobody awaits this record any more
        pass
