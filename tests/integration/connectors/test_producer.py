"""The producer wrapper and dead letters against the real broker."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from connectors.dead_letter import send_dead_letter
from connectors.producer import Delivered, DeliveryFailed, Producer, QueueFull
from schemas import AppEvent, AppEventEnvelope, decode, message_key
from streams.settings import Settings
from tests.integration.kafka_kit import consume, headers_of, offset_of

pytestmark = pytest.mark.integration


@pytest.fixture
def producer(settings: Settings) -> Iterator[Producer]:
    p = Producer(settings.kafka, client_id="test-producer")
    yield p
    p.close()


def test_send_round_trip_keeps_key_value_and_headers(settings: Settings, topic: str,
                                                     producer: Producer) -> None:
    where = asyncio.run(producer.send(topic, b"hello", b"k1", {"origin": "test", "n": "1"}))
    [msg] = consume(settings, topic, 1)
    assert (msg.key(), msg.value(), headers_of(msg)) == (b"k1", b"hello", {"origin": "test", "n": "1"})
    assert where == Delivered(topic, int(msg.partition() or 0), offset_of(msg))
    assert producer.counters() == {"produced": 1, "failed": 0, "in_flight": 0}


def test_send_sync_and_send_event(settings: Settings, topic: str, producer: Producer) -> None:
    event = AppEventEnvelope(event_id="e-1", source="test", tenant="t1",
                             event_time=datetime.now().astimezone(),
                             payload=AppEvent(app="shop", action="order", message="one coffee grinder"))
    first = producer.send_sync(topic, b"raw", None)
    second = asyncio.run(producer.send_event(topic, event))
    by_position = {(m.partition(), m.offset()): m for m in consume(settings, topic, 2)}
    got = by_position[(second.partition, second.offset)]
    assert got.key() == message_key(event) == b"t1/shop" and decode(got.value()) == event
    assert first.topic == topic and first.offset >= 0


def test_order_per_key_is_kept_when_sends_wait_for_room(settings: Settings, topic: str) -> None:
    p = Producer(settings.kafka, max_in_flight=3)

    async def run() -> list[Delivered]:
        return await asyncio.gather(*(p.send(topic, str(i).encode(), b"same-key") for i in range(60)))

    try:
        delivered = asyncio.run(run())
    finally:
        p.close()
    assert len({d.partition for d in delivered}) == 1
    assert [d.offset for d in delivered] == sorted(d.offset for d in delivered)
    values = [m.value() for m in sorted(consume(settings, topic, 60), key=offset_of)]
    assert values == [str(i).encode() for i in range(60)]
    assert p.counters() == {"produced": 60, "failed": 0, "in_flight": 0}


def test_full_queue_without_blocking_raises_queue_full(settings: Settings, topic: str) -> None:
    p = Producer(settings.kafka, max_in_flight=1, linger_ms=200)

    async def run() -> Delivered:
        first = asyncio.ensure_future(p.send(topic, b"first"))
        await asyncio.sleep(0)  # the first send holds the only slot until the broker confirms
        with pytest.raises(QueueFull, match="await confirmation"):
            await p.send(topic, b"second", block=False)
        await first
        return await p.send(topic, b"third", block=False)

    try:
        assert asyncio.run(run()).topic == topic
    finally:
        p.close()


def test_oversized_record_fails_not_retriable_and_frees_its_slot(settings: Settings, topic: str) -> None:
    p = Producer(settings.kafka, max_in_flight=1)
    try:
        with pytest.raises(DeliveryFailed, match=topic) as info:
            asyncio.run(p.send(topic, b"x" * 5_000_000))
        assert not info.value.retriable
        assert p.counters() == {"produced": 0, "failed": 1, "in_flight": 0}
        assert p.send_sync(topic, b"small").topic == topic
    finally:
        p.close()


def test_kafka_unreachable_fails_retriable_after_the_message_timeout(settings: Settings) -> None:
    down = settings.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:1"})
    p = Producer(down, message_timeout_ms=1500)
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryFailed, match="timed out") as info:
            asyncio.run(p.send("nowhere", b"x"))
    finally:
        p.close()
    assert info.value.retriable and 1.0 < time.monotonic() - started < 15


def test_dead_letter_keeps_original_bytes_and_says_why_where_when(settings: Settings, topic: str,
                                                                  producer: Producer) -> None:
    original = b'{"not": "an event"'
    reason = "json: Expecting ',' delimiter\n at 1"  # folded to one line in the header
    where = asyncio.run(send_dead_letter(producer, topic, original, b"k", reason, "validate",
                                         source_topic="headwater.app.v1", partition=2, offset=41))
    [msg] = consume(settings, topic, 1)
    headers: dict[str, Any] = headers_of(msg)
    assert (msg.value(), msg.key(), msg.offset()) == (original, b"k", where.offset)
    assert datetime.fromisoformat(headers.pop("headwater.time")).tzinfo is not None
    assert headers == {"headwater.reason": "json: Expecting ',' delimiter at 1",
                       "headwater.stage": "validate", "headwater.topic": "headwater.app.v1",
                       "headwater.partition": "2", "headwater.offset": "41"}


def test_sends_wait_while_kafka_is_away_and_resume_when_it_returns(settings: Settings, topic: str) -> None:
    """Kafka away at first (nothing on the bootstrap port), then a forwarder to the real broker appears."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host, real_port = settings.kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)
    p = Producer(settings.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{port}"}),
                 max_in_flight=3, message_timeout_ms=60_000)

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(real_port))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def run() -> list[Delivered]:
        sends = [asyncio.ensure_future(p.send(topic, str(i).encode(), b"k")) for i in range(3)]
        await asyncio.sleep(1.5)
        assert not any(s.done() for s in sends) and p.counters()["in_flight"] == 3
        with pytest.raises(QueueFull):  # bounded: no fourth record while three wait
            await p.send(topic, b"3", b"k", block=False)
        server = await asyncio.start_server(forward, "127.0.0.1", port)
        try:
            return await asyncio.wait_for(asyncio.gather(*sends), 45)
        finally:
            server.close()

    try:
        delivered = asyncio.run(run())
    finally:
        p.close()
    assert [d.offset for d in delivered] == sorted(d.offset for d in delivered)
    assert p.counters() == {"produced": 3, "failed": 0, "in_flight": 0}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
