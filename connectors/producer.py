"""The one Kafka producer of every connector: idempotent, acks=all, delivery awaited.

Semantics:
- ``send`` returns only after the broker confirmed the record (acks=all), so a
  connector acknowledges its own source only for data Kafka holds.
- At most ``max_in_flight`` records wait for confirmation: ``send`` then waits for
  room (bounded memory while Kafka is down) or, with ``block=False``, raises
  :class:`QueueFull` at once (HTTP maps that to 503).
- Per key, order is kept (idempotence keeps it across retries).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka import Producer as _Kafka

from schemas import AnyEvent, encode, message_key
from connectors.config import KafkaSettings


@dataclass(frozen=True)
class Delivered:
    topic: str
    partition: int
    offset: int


class DeliveryFailed(Exception):
    def __init__(self, topic: str, error: KafkaError | str) -> None:
        self.retriable = bool(getattr(error, "retriable", lambda: False)())
        super().__init__(f"delivery to {topic} failed: {error}")


class QueueFull(Exception):
    """Too many records await confirmation; retry later."""


def kafka_config(kafka: KafkaSettings, client_id: str) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers, "client.id": client_id,
        "security.protocol": kafka.security_protocol,
    }
    if kafka.sasl_mechanism:
        conf |= {"sasl.mechanism": kafka.sasl_mechanism, "sasl.username": kafka.sasl_username or "",
                 "sasl.password": kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""}
    return conf


class Producer:
    def __init__(self, kafka: KafkaSettings, *, max_in_flight: int = 10_000, client_id: str = "headwater",
                 delivery_timeout_ms: int = 300_000) -> None:
        self._kafka = _Kafka({
            **kafka_config(kafka, client_id), "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "message.timeout.ms": delivery_timeout_ms, "message.max.bytes": 4_000_000,
        })
        self._room = threading.BoundedSemaphore(max_in_flight)
        self._counts = {"produced": 0, "failed": 0, "in_flight": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-delivery", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._kafka.poll(0.1)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def _produce(self, topic: str, value: bytes | None, key: bytes | None, headers: dict[str, str] | None,
                 on_done: Any) -> None:
        def report(err: KafkaError | None, msg: Message) -> None:
            self._room.release()
            self._count("in_flight", -1)
            self._count("failed" if err else "produced")
            on_done(DeliveryFailed(topic, err) if err else Delivered(msg.topic(), msg.partition(), msg.offset()))

        self._count("in_flight")
        while True:
            try:
                self._kafka.produce(topic, value, key, headers=list((headers or {}).items()), on_delivery=report)
                return
            except BufferError:  # librdkafka's own queue is full: let deliveries drain
                self._kafka.poll(0.1)
            except KafkaException as exc:
                self._room.release()
                self._count("in_flight", -1)
                self._count("failed")
                raise DeliveryFailed(topic, exc.args[0]) from exc

    async def send(self, topic: str, value: bytes | None, key: bytes | None = None,
                   headers: dict[str, str] | None = None, *, block: bool = True) -> Delivered:
        if not self._room.acquire(blocking=False):
            if not block:
                raise QueueFull(f"{self.counters()['in_flight']} records await confirmation")
            await asyncio.to_thread(self._room.acquire)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Delivered] = loop.create_future()

        def done(result: Delivered | DeliveryFailed) -> None:
            loop.call_soon_threadsafe(_settle, fut, result)

        self._produce(topic, value, key, headers, done)
        return await fut

    async def send_event(self, topic: str, event: AnyEvent) -> Delivered:
        return await self.send(topic, encode(event), message_key(event))

    def send_sync(self, topic: str, value: bytes | None, key: bytes | None = None,
                  headers: dict[str, str] | None = None, timeout: float = 30.0) -> Delivered:
        self._room.acquire()
        box: list[Delivered | DeliveryFailed] = []
        ready = threading.Event()

        def done(result: Delivered | DeliveryFailed) -> None:
            box.append(result)
            ready.set()

        self._produce(topic, value, key, headers, done)
        if not ready.wait(timeout):
            raise DeliveryFailed(topic, f"no delivery report within {timeout}s")
        if isinstance(box[0], DeliveryFailed):
            raise box[0]
        return box[0]

    def flush(self, timeout: float = 30.0) -> int:
        return int(self._kafka.flush(timeout))

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._poller.join(timeout=5)


def _settle(fut: asyncio.Future[Delivered], result: Delivered | DeliveryFailed) -> None:
    if fut.done():
        return
    if isinstance(result, DeliveryFailed):
        fut.set_exception(result)
    else:
        fut.set_result(result)
