"""Kafka administration, written once: topics, leaders, end offsets and consumer-group lag.

Every command, harness and test that creates topics or counts records goes through
here, with the same connection and security settings as the producers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from connectors.config import KafkaSettings, TopicSettings, kafka_config


class KafkaUnreachable(ConnectionError):
    """No broker answered at the configured address."""


def admin(kafka: KafkaSettings) -> AdminClient:
    return AdminClient(kafka_config(kafka, "headwater-admin") | {"log_level": 0})


def require(kafka: KafkaSettings, timeout_s: float = 5.0) -> None:
    """Raise :class:`KafkaUnreachable`, naming the address and the fix, when no broker answers."""
    client = admin(kafka)
    try:
        client.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        why = exc.args[0].str() if hasattr(exc.args[0], "str") else exc
        raise KafkaUnreachable(f"cannot reach Kafka at {kafka.bootstrap_servers} ({why}); start it "
                               "(`headwater stack up`) or set HEADWATER_KAFKA__BOOTSTRAP_SERVERS") from None


def create_topics(kafka: KafkaSettings, names: Iterable[str], partitions: int = 3, replication: int = 1,
                  *, exist_ok: bool = True, timeout_s: float = 30.0) -> None:
    """Create topics and wait until every partition has a leader (a new topic takes writes then)."""
    names = list(names)
    client = admin(kafka)
    futures = client.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=replication)
                                    for n in names])
    for future in futures.values():
        try:
            future.result(timeout_s)
        except KafkaException as exc:
            if not (exist_ok and "TOPIC_ALREADY_EXISTS" in str(exc)):
                raise
    _wait_for_leaders(client, names, timeout_s)


def delete_topics(kafka: KafkaSettings, names: Iterable[str], timeout_s: float = 30.0) -> None:
    client = admin(kafka)  # held until every future settled: a dropped client cancels them
    for future in client.delete_topics(list(names)).values():
        try:
            future.result(timeout_s)
        except KafkaException as exc:
            if "UNKNOWN_TOPIC" not in str(exc):
                raise


@contextmanager
def fresh_topics(kafka: KafkaSettings, topics: TopicSettings, prefix: str, partitions: int = 3
                 ) -> Iterator[TopicSettings]:
    """Topic names of their own for one run (inputs and dead letters), deleted afterwards."""
    names = {kind: f"{prefix}-{kind}" for kind in ("sensor", "app", "document", "dead_letter")}
    create_topics(kafka, names.values(), partitions)
    try:
        yield topics.model_copy(update=names)
    finally:
        delete_topics(kafka, names.values())


def _wait_for_leaders(client: AdminClient, topics: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meta = client.list_topics(timeout=10).topics
        if all(t in meta and not meta[t].error and meta[t].partitions
               and all(p.leader >= 0 for p in meta[t].partitions.values()) for t in topics):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topics {topics} got no partition leaders within {timeout_s} s")


def _consumer(kafka: KafkaSettings, group: str | None = None) -> Consumer:
    return Consumer(kafka_config(kafka, "headwater-offsets") | {
        "group.id": group or f"headwater-offsets-{uuid.uuid4().hex}", "enable.auto.commit": False,
        "log_level": 0})


def end_offsets(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    """The high watermark of every partition of ``topic`` (exact right after a confirmed produce)."""
    consumer = _consumer(kafka)
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: _high(consumer, topic, p) for p in partitions}
    finally:
        consumer.close()


def count(kafka: KafkaSettings, topic: str) -> int:
    """How many records ``topic`` holds now: the sum of its partitions' high watermarks."""
    return sum(end_offsets(kafka, topic).values())


def lag(kafka: KafkaSettings, group: str, topics: Iterable[str]) -> dict[str, int]:
    """Records not yet committed by consumer group ``group``, per topic."""
    consumer = _consumer(kafka, group)
    out: dict[str, int] = {}
    try:
        for topic in topics:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            ends = {p: _high(consumer, topic, p) for p in partitions}
            done = _committed(consumer, [(topic, p) for p in ends])
            out[topic] = sum(end - done.get((topic, p), 0) for p, end in ends.items())
    finally:
        consumer.close()
    return out


def committed(kafka: KafkaSettings, group: str, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The offsets group ``group`` committed for these (topic, partition)s; absent where it has none."""
    consumer = _consumer(kafka, group)
    try:
        return _committed(consumer, partitions)
    finally:
        consumer.close()


def _committed(consumer: Consumer, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    found = consumer.committed([TopicPartition(t, p) for t, p in partitions], timeout=10)
    return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}


def lags(kafka: KafkaSettings, groups: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Records not yet committed, per topic, where each group commits the topics it is given."""
    return {topic: n for group, topics in groups.items() for topic, n in lag(kafka, group, topics).items()}


def _high(consumer: Consumer, topic: str, partition: int) -> int:
    for attempt in range(50):  # a new topic's leader may still be moving in
        try:
            return int(consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1])
        except KafkaException:
            if attempt == 49:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


