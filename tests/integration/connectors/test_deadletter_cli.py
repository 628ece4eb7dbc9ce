"""``headwater deadletter`` against real Kafka: a record dead-lettered by a connector is listed with its
reason, shown, and a fixed version replayed from a file lands, valid, on its topic."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from connectors.dead_letter import send_dead_letter
from connectors.producer import Producer
from connectors.source import Incoming, run_source
from schemas import decode, validate_obj
from streams.cli import main
from streams.settings import Settings
from tests.integration.kafka_kit import count, fresh_topics, read

pytestmark = pytest.mark.integration

GOOD = {"kind": "sensor", "event_id": "good-1", "source": "test", "event_time": "2026-01-01T00:00:00Z",
        "payload": {"device_id": "p7", "metric": "temperature", "value": 21.5}}
BAD = GOOD | {"event_id": "bad-1", "payload": GOOD["payload"] | {"value": "hot"}}
APP = {"kind": "app", "event_id": "app-1", "source": "test", "event_time": "2026-01-01T00:00:00Z",
       "payload": {"app": "shop", "action": "refund"}}


@pytest.fixture
def s(settings: Settings, unique: str) -> Iterator[Settings]:
    with fresh_topics(settings, unique) as fresh:
        yield fresh


class _Items:
    def __init__(self, *items: Incoming) -> None:
        self.items = items

    async def _gen(self) -> Any:
        for item in self.items:
            yield item

    def __aiter__(self) -> Any:
        return self._gen()


def _dead_letter_bad_one(s: Settings) -> None:
    """The connector path: a good event produced, a bad one dead-lettered with its reason; plus a
    worker-style dead letter that names its source topic in headwater.topic."""
    good = validate_obj(GOOD)
    bad_reason = "schema: payload.value: Input should be a valid number"

    async def go() -> None:
        producer = Producer(s.kafka, client_id="test-deadletter")
        try:
            await run_source(_Items(Incoming(event=good), Incoming(raw=json.dumps(BAD).encode(),
                                                                      error=bad_reason)),
                             producer, s.topics, stage="http")
            await send_dead_letter(producer, s.topics.dead_letter, json.dumps(APP).encode(), b"default/shop",
                                   "embed: model not loaded", "index", source_topic=s.topics.app, partition=0,
                                   offset=7)
        finally:
            producer.close()

    asyncio.run(go())


def cli(s: Settings, *args: str) -> Result:
    env = {"HEADWATER_KAFKA__BOOTSTRAP_SERVERS": s.kafka.bootstrap_servers,
           **{f"HEADWATER_TOPICS__{k.upper()}": v for k, v in s.topics.model_dump().items()}}
    return CliRunner().invoke(main, ["deadletter", *args], env=env)


def test_list_show_and_replay_a_fixed_record(s: Settings, tmp_path: Path) -> None:
    _dead_letter_bad_one(s)
    listed = cli(s, "list")
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.stdout.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "  http  schema: payload.value: Input should be a valid number  -[-1]@-1" in lines[0]
    assert lines[0].startswith("0:0  ") and f"  index  embed: model not loaded  {s.topics.app}[0]@7" in lines[1]
    assert [x for x in cli(s, "list", "--reason", "VALID NUMBER").stdout.splitlines() if x] == lines[:1]
    assert cli(s, "list", "--stage", "index", "--topic", s.topics.app).stdout.splitlines() == lines[1:]
    assert cli(s, "list", "--since", "2999-01-01").stdout.strip() == ""

    shown = cli(s, "show", "0:0")
    assert shown.exit_code == 0 and "headwater.stage: http" in shown.stdout
    assert '"value": "hot"' in shown.stdout and '\n  "event_id": "bad-1"' in shown.stdout  # pretty JSON

    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(json.dumps(BAD | {"payload": BAD["payload"] | {"value": 30.5}}) + "\n\n")
    replayed = cli(s, "replay", "--from-file", str(fixed))
    assert replayed.exit_code == 0 and "replayed 1 records" in replayed.stdout, replayed.output
    on_topic = read(s, s.topics.sensor, 2)
    assert [r.value["event_id"] for r in on_topic if r.value] == ["good-1", "bad-1"]
    event = decode(on_topic[1].raw)
    assert event.payload.value == 30.5 and on_topic[1].key == b"default/p7"  # type: ignore[union-attr]


def test_replay_routes_by_header_or_kind_and_refuses_bad_lines(s: Settings, tmp_path: Path) -> None:
    _dead_letter_bad_one(s)
    bad_file = tmp_path / "still-bad.jsonl"
    bad_file.write_text(json.dumps(GOOD) + "\n" + json.dumps(BAD) + "\n")
    refused = cli(s, "replay", "--from-file", str(bad_file))
    assert refused.exit_code == 1 and f"{bad_file}:2: schema: payload.value" in refused.output
    assert count(s, s.topics.sensor) == 1  # all or nothing: the good line was not sent either

    assert cli(s, "replay").exit_code == 2  # no selection: a usage error, nothing sent
    app = cli(s, "replay", "--stage", "index")  # its headwater.topic header names the app topic
    assert app.exit_code == 0 and "replayed 1 records" in app.stdout
    assert [r.value["event_id"] for r in read(s, s.topics.app, 1) if r.value] == ["app-1"]
    sensor = cli(s, "replay", "--reason", "valid number")  # no header: the value's kind decides
    assert sensor.exit_code == 0 and "replayed 1 records" in sensor.stdout
    assert count(s, s.topics.sensor) == 2


def test_missing_topic_is_one_line(s: Settings) -> None:
    gone = s.model_copy(update={"topics": s.topics.model_copy(update={"dead_letter": s.topics.dead_letter + "-x"})})
    result = cli(gone, "list")
    assert result.exit_code == 1 and result.output.startswith("error: ") and "does not exist" in result.output
