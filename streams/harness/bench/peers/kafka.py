"""Peers for ``headwater bench --peers``: what every Kafka peer shares (produce, the clock), the hand-written loop.

A peer reads the documents Headwater's producer wrote (the JSON envelope), cuts each
body with Headwater's chunker (so peer and Headwater embed the same texts), encodes with
the one shared embedder object and inserts into a collection of its own. Object ids are
uuid5 of document and chunk index, so a record read twice is written over, not added.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from schemas import DocumentEvent, encode, message_key
from streams.embed.base import Embedder
from streams.observe.console import say
from streams.settings import Settings
from streams.transforms.chunk import chunk_text


@dataclass(frozen=True)
class Piece:
    """One chunk a peer stores: its id, its text and where it came from."""

    uuid: str
    doc_id: str
    index: int
    text: str


Chunker = Callable[[str], list[str]]


def chunker(embedder: Embedder, settings: Settings) -> Chunker:
    """Headwater's chunker with Headwater's limits (200 tokens, 32 overlap), as a plain text -> texts function."""
    count = embedder.token_counter()
    max_tokens = min(settings.chunk.max_tokens, embedder.max_tokens)
    overlap = min(settings.chunk.overlap_tokens, max_tokens // 2)
    return lambda text: [c.text for c in chunk_text(text, count, max_tokens, overlap)]


def pieces(value: bytes, cut: Chunker) -> list[Piece]:
    """The chunks of one produced document event (``None`` values are tombstones: nothing to store)."""
    payload = json.loads(value)["payload"]
    doc_id = str(payload["doc_id"])
    return [Piece(str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc_id}#{i}")), doc_id, i, text)
            for i, text in enumerate(cut(payload["text"]))]


def create_collection(client: Any, name: str) -> None:
    """A plain single-tenant collection with self-provided vectors, as a peer's user would make it."""
    from weaviate.classes.config import Configure, DataType, Property, VectorDistances

    client.collections.create(
        name, properties=[Property(name="text", data_type=DataType.TEXT),
                          Property(name="doc_id", data_type=DataType.TEXT),
                          Property(name="chunk", data_type=DataType.INT)],
        vector_config=Configure.Vectors.self_provided(
            vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)))


def count(client: Any, name: str, tenant: str | None = None) -> int:
    """Objects in a collection (or one tenant of it); 0 while it or the tenant does not exist yet."""
    if not client.collections.exists(name):
        return 0
    col = client.collections.use(name)
    try:
        agg = (col.with_tenant(tenant) if tenant else col).aggregate.over_all(total_count=True)
    except Exception:  # noqa: BLE001 - a multi-tenant collection's tenant appears with its first write
        return 0
    return int(agg.total_count or 0)


def insert(client: Any, name: str, batch: Sequence[Piece], embedder: Embedder) -> None:
    """Encode and insert one batch; a refused object stops the peer (a benchmark must not lose chunks)."""
    from weaviate.classes.data import DataObject

    if not batch:
        return
    vectors = embedder.encode([p.text for p in batch])
    objs = [DataObject(properties={"text": p.text, "doc_id": p.doc_id, "chunk": p.index}, uuid=p.uuid,
                       vector=v.tolist()) for p, v in zip(batch, vectors, strict=True)]
    result = client.collections.use(name).data.insert_many(objs)
    if result.has_errors:
        first = next(iter(result.errors.values()))
        raise RuntimeError(f"weaviate refused {len(result.errors)} objects of {name}: {first.message}")


class KafkaPeer(Protocol):
    """A system under test that consumes a topic in the foreground until ``stop`` is called."""

    group: str

    def run(self) -> None: ...

    def stop(self) -> None: ...


def consumer_config(settings: Settings, group: str) -> dict[str, Any]:
    return {"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": group,
            "auto.offset.reset": "earliest", "enable.auto.commit": False}


class HandWritten:
    """confluent-kafka consume loop -> chunk -> one encode per poll -> insert_many -> commit."""

    def __init__(self, settings: Settings, topic: str, client: Any, collection: str, embedder: Embedder,
                 cut: Chunker, max_records: int = 64) -> None:
        from confluent_kafka import Consumer

        self.group = f"peer-loop-{uuid.uuid4().hex[:8]}"
        self.consumer = Consumer(consumer_config(settings, self.group))
        self.consumer.subscribe([topic])
        self.client, self.collection, self.embedder, self.cut = client, collection, embedder, cut
        self.max_records = max_records
        self._stop = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop.is_set():
                msgs = self.consumer.consume(self.max_records, timeout=0.2)
                good = [v for m in msgs if m.error() is None and (v := m.value()) is not None]
                batch = [p for v in good for p in pieces(v, self.cut)]
                insert(self.client, self.collection, batch, self.embedder)
                if good:  # offsets only after Weaviate took the batch: a crash re-reads, never loses
                    self.consumer.commit(asynchronous=False)
        finally:
            self.consumer.close()

    def stop(self) -> None:
        self._stop.set()


def assigned(settings: Settings, group: str, topic: str, partitions: int) -> bool:
    """Whether the group's members hold every partition of ``topic`` (the peer is ready to consume)."""
    from confluent_kafka import ConsumerGroupState

    from connectors import kafka_admin

    client = kafka_admin.admin(settings.kafka)
    try:
        desc = client.describe_consumer_groups([group])[group].result(5)
    except Exception:  # noqa: BLE001 - an unknown group is simply not ready yet
        return False
    if desc.state != ConsumerGroupState.STABLE:
        return False
    held = {tp.partition for m in desc.members for tp in m.assignment.topic_partitions if tp.topic == topic}
    return len(held) == partitions


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s:.0f} s")
        time.sleep(0.1)


def produce(settings: Settings, topic: str, events: Sequence[DocumentEvent]) -> None:
    """Every event handed to Headwater's producer, then every delivery awaited."""
    from connectors.producer import Producer

    producer = Producer(settings.kafka, client_id="headwater-bench-peers", linger_ms=2)
    try:
        for future in [producer.submit(topic, encode(e), message_key(e)) for e in events]:
            future.result(60)
    finally:
        producer.close()

def race(peer: KafkaPeer, ready: Callable[[], bool], send: Callable[[], None], searchable: Callable[[], int],
         expected: int, label: str, timeout_s: float = 900) -> float:
    """Seconds from the last acknowledged record to ``expected`` searchable; the peer runs in this thread."""
    took: list[float] = []
    failed: list[BaseException] = []
    quit_ = threading.Event()

    def clock() -> None:
        try:
            wait_until(lambda: quit_.is_set() or ready(), 120, f"{label}: consumer assignment")
            send()
            start = last = time.monotonic()
            while not quit_.is_set() and (n := searchable()) < expected:
                if time.monotonic() - start > timeout_s:
                    raise TimeoutError(f"{label}: {n}/{expected} chunks searchable after {timeout_s:.0f} s")
                if time.monotonic() - last > 10:
                    last = time.monotonic()
                    say(f"[peers] {label}: {n}/{expected} chunks searchable after {last - start:.0f} s")
                time.sleep(0.05)
            took.append(time.monotonic() - start)
        except BaseException as exc:  # noqa: BLE001 - handed to the peer's thread, raised there
            failed.append(exc)
        finally:
            peer.stop()

    watcher = threading.Thread(target=clock, name=f"clock-{label}", daemon=True)
    watcher.start()
    try:
        peer.run()
    finally:
        quit_.set()
        watcher.join(60)
    if failed:
        raise failed[0]
    return took[0]

def read_back(settings: Settings, topic: str, n: int, timeout_s: float = 60) -> list[tuple[str, str]]:
    """``(doc_id, text)`` of the first ``n`` records of ``topic``, as a consumer reads them."""
    import json

    from confluent_kafka import Consumer

    consumer = Consumer(consumer_config(settings, f"peer-read-{uuid.uuid4().hex[:8]}"))
    consumer.subscribe([topic])
    out: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < n and time.monotonic() < deadline:
            for m in consumer.consume(64, timeout=0.5):
                if m.error() is None and (value := m.value()) is not None:
                    payload = json.loads(value)["payload"]
                    out.append((payload["doc_id"], payload["text"]))
    finally:
        consumer.close()
    if len(out) < n:
        raise TimeoutError(f"read {len(out)}/{n} documents back from {topic} in {timeout_s:.0f} s")
    return out
