"""Headwater's producers put each key on the partition a Java producer (Kafka Connect, Debezium) would."""

from __future__ import annotations

import pytest

from connectors.producer import Producer
from streams.settings import Settings

pytestmark = pytest.mark.integration


def java_partition(key: bytes, partitions: int) -> int:
    """org.apache.kafka.common.utils.Utils.murmur2, then toPositive(hash) % partitions: Java's default."""
    m, r, length = 0x5BD1E995, 24, len(key)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(key[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = key[length - length % 4:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def test_1000_entity_keys_land_where_java_puts_them(settings: Settings, topic: str) -> None:
    producer = Producer(settings.kafka, client_id="partitioner-test")
    try:
        keys = [f"acme/doc-{i}".encode() for i in range(1000)]
        futures = [producer.submit(topic, b"{}", key) for key in keys]
        placed = [f.result(30).partition for f in futures]
    finally:
        producer.close()
    wrong = sum(p != java_partition(k, 3) for k, p in zip(keys, placed, strict=True))
    assert wrong == 0
