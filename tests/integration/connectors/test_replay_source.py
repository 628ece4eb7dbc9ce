"""Replaying real files into the real broker: counts, order, dead letters, acks, the CLI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer, TopicPartition

from connectors.producer import Producer
from connectors.replay_source import ReplaySource, count_records, preset
from connectors.source import Incoming, run_source
from schemas import decode
from streams.cli.connect import connect
from streams.settings import Settings
from tests.integration.kafka_kit import consume, headers_of, offset_of

pytestmark = pytest.mark.integration


def record_count(settings: Settings, topic: str) -> int:
    """Records in ``topic``: the sum of its partitions' high watermarks."""
    c = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "count"})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts)
    finally:
        c.close()


@pytest.fixture
def routed(settings: Settings, topic: str) -> Settings:
    """Settings whose every topic, dead letters included, is this test's fresh topic."""
    return settings.model_copy(update={"topics": settings.topics.model_copy(update={
        "sensor": topic, "app": topic, "document": topic, "dead_letter": topic})})


@pytest.fixture
def producer(settings: Settings) -> Iterator[Producer]:
    p = Producer(settings.kafka, client_id="test-replay")
    yield p
    p.close()


def test_occupancy_per_row_gives_exactly_one_record_per_row_in_order(routed: Settings, topic: str,
                                                                     producer: Producer) -> None:
    path, mapping = preset("occupancy")
    rows = count_records(path)
    source = ReplaySource(path, mapping.per_row(), name="occupancy", tenant="replaytest")
    counts = asyncio.run(run_source(source, producer, routed.topics))
    assert counts == {"produced": rows, "dead_lettered": 0}
    msgs = consume(routed, topic, rows)
    assert len(msgs) == rows == record_count(routed, topic)
    assert {m.key() for m in msgs} == {b"replaytest/room-1"} and len({m.partition() for m in msgs}) == 1
    ids = [decode(m.value()).event_id for m in sorted(msgs, key=offset_of)]
    assert ids == [f"occupancy-{i}-temperature" for i in range(rows)]


def test_bad_rows_land_in_dead_letters_and_the_next_rows_still_arrive(
        routed: Settings, topic: str, producer: Producer, tmp_path: Path) -> None:
    path, mapping = preset("occupancy")
    lines = path.read_text().splitlines()
    bad = tmp_path / "occupancy-bad.csv"
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace(",", ",oops", 1), lines[3]]) + "\n")
    counts = asyncio.run(run_source(ReplaySource(bad, mapping, name="bad"), producer, routed.topics))
    assert counts == {"produced": 8, "dead_lettered": 1}
    msgs = consume(routed, topic, 9)
    dead = [m for m in msgs if m.headers()]
    assert len(msgs) == 9 == record_count(routed, topic) and len(dead) == 1
    headers = headers_of(dead[0])
    assert headers["headwater.stage"] == "source"
    assert headers["headwater.reason"].startswith("replay: bad row 1 (line 3): ")
    assert json.loads(dead[0].value() or b"")["V1"].startswith("oops")
    assert {decode(m.value()).event_id for m in msgs if not m.headers()} == {
        f"bad-{r}-{m}" for r in (0, 2) for m in ("temperature", "humidity", "light", "co2")}


def test_ack_runs_once_per_item_after_kafka_confirmed(routed: Settings, topic: str,
                                                      producer: Producer) -> None:
    path, mapping = preset("jeopardy")
    acked: list[str] = []

    async def ack(event_id: str) -> None:
        assert producer.counters()["produced"] > len(acked)  # its own record is confirmed by now
        acked.append(event_id)

    class Acking:
        def __aiter__(self) -> AsyncIterator[Incoming]:
            return self._items()

        async def _items(self) -> AsyncIterator[Incoming]:
            async for item in ReplaySource(path, mapping, name="jeopardy", tenant="acks", limit=50):
                assert item.event is not None
                yield Incoming(event=item.event, ack=partial(ack, item.event.event_id))

    counts = asyncio.run(run_source(Acking(), producer, routed.topics))
    assert counts == {"produced": 50, "dead_lettered": 0}
    assert sorted(acked, key=lambda e: int(e.split("-")[1])) == [f"jeopardy-{i}" for i in range(50)]


def test_cli_replay_reports_counters(routed: Settings, topic: str) -> None:
    env = {"HEADWATER_KAFKA__BOOTSTRAP_SERVERS": routed.kafka.bootstrap_servers,
           "HEADWATER_TOPICS__APP": topic, "HEADWATER_TOPICS__DEAD_LETTER": topic}
    args = ["replay", "--preset", "jeopardy", "--limit", "20", "--tenant", "cli"]
    result = CliRunner().invoke(connect, args, env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["produced"] == 20
    assert len(consume(routed, topic, 20)) == 20
    bad = CliRunner().invoke(connect, ["replay", "--preset", "jeopardy", "--tenant", "9 lives"], env=env)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: replay: tenant '9 lives'")
