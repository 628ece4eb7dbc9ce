"""``headwater ingest`` against real Kafka: a folder becomes document events, bad files dead letters,
and the watcher turns creates, changes and deletes into upserts and deletes with rising versions."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connectors.files_source import FilesSource, event_id_for
from connectors.producer import Producer
from connectors.source import run_source
from streams.cli.ingest import ingest
from streams.settings import Settings
from tests.integration.kafka_kit import Consumed, count, fresh_topics, read
from tests.pdf_kit import minimal_pdf

pytestmark = pytest.mark.integration


@pytest.fixture
def s(settings: Settings, unique: str) -> Iterator[Settings]:
    with fresh_topics(settings, unique) as fresh:
        yield fresh


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "pump.txt").write_text("Pump 7 needs new seals every 2000 hours.")
    (root / "guide.md").write_text("# Valve guide\n\nClose valve 3 before opening valve 4.")
    (root / "sub" / "page.html").write_text(
        "<html><head><title>Boiler</title></head><body><p>Boiler pressure is 2 bar.</p><script>x()</script>"
        "</body></html>")
    (root / "sub" / "manual.pdf").write_bytes(minimal_pdf("Chiller 2 runs at 6 degrees"))
    (root / "scan.pdf").write_bytes(minimal_pdf(""))
    (root / "photo.jpg").write_bytes(b"\xff\xd8")
    return root


def by_doc(records: list[Consumed]) -> dict[str, dict[str, Any]]:
    return {r.value["payload"]["doc_id"]: r.value for r in records if r.value}


def test_folder_to_document_events(s: Settings, docs: Path) -> None:
    async def go() -> dict[str, int]:
        producer = Producer(s.kafka, client_id="test-files")
        try:
            source = FilesSource([docs], tenant="acme", source="files-test", id_root=docs)
            return await run_source(source, producer, s.topics)
        finally:
            producer.close()

    assert asyncio.run(go()) == {"produced": 4, "dead_lettered": 1}
    got = by_doc(read(s, s.topics.document, 4))
    assert set(got) == {"pump.txt", "guide.md", "sub/page.html", "sub/manual.pdf"}
    pump = got["pump.txt"]
    data = (docs / "pump.txt").read_bytes()
    assert pump["event_id"] == event_id_for("pump.txt", data)
    assert pump["payload"]["version"] == (docs / "pump.txt").stat().st_mtime_ns // 1_000_000
    assert pump["payload"]["uri"] == (docs / "pump.txt").as_uri()
    assert (pump["tenant"], pump["source"]) == ("acme", "files-test")
    assert got["guide.md"]["payload"]["title"] == "Valve guide"
    assert got["sub/page.html"]["payload"] | {"version": 0, "uri": ""} == {
        "doc_id": "sub/page.html", "title": "Boiler", "text": "Boiler pressure is 2 bar.", "version": 0,
        "uri": "", "content_type": "text/plain", "deleted": False}
    assert got["sub/manual.pdf"]["payload"]["text"] == "Chiller 2 runs at 6 degrees"
    dead = read(s, s.topics.dead_letter, 1)
    assert "no extractable text" in dead[0].headers["headwater.reason"]
    assert b"scan.pdf" in (dead[0].raw or b"")


def test_cli_ingest_is_idempotent(s: Settings, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in ("document", "dead_letter", "sensor", "app"):
        monkeypatch.setenv(f"HEADWATER_TOPICS__{kind.upper()}", getattr(s.topics, kind))
    monkeypatch.setenv("HEADWATER_KAFKA__BOOTSTRAP_SERVERS", s.kafka.bootstrap_servers)
    first = CliRunner().invoke(ingest, [str(docs / "pump.txt"), str(docs / "sub")])
    assert first.exit_code == 0, first.output
    assert "produced 3, dead-lettered 0" in first.output
    second = CliRunner().invoke(ingest, [str(docs / "pump.txt"), str(docs / "sub")])
    assert second.exit_code == 0, second.output
    records = read(s, s.topics.document, 6)
    assert len(records) == 6
    assert sorted(r.raw or b"" for r in records[:3]) == sorted(r.raw or b"" for r in records[3:])
    single = by_doc(records)[str((docs / "pump.txt").absolute())]  # a file given directly: absolute id
    assert single["payload"]["title"] == "pump.txt"


def test_cli_reports_unreachable_kafka(docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    result = CliRunner().invoke(ingest, [str(docs)])
    assert result.exit_code == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.output and "headwater stack up" in result.output


def test_watch_turns_changes_into_upserts_and_deletes(s: Settings, tmp_path: Path) -> None:
    root = tmp_path / "watched"
    root.mkdir()
    (root / "a.txt").write_text("first text of a")

    async def wait_records(n: int) -> list[Consumed]:
        records = await asyncio.to_thread(read, s, s.topics.document, n, 20.0)
        assert len(records) == n, [r.value for r in records]
        return records

    async def go() -> list[Consumed]:
        producer = Producer(s.kafka, client_id="test-watch")
        stop = asyncio.Event()
        source = FilesSource([root], watch=True, interval=0.1, stop=stop, id_root=root)
        task = asyncio.create_task(run_source(source, producer, s.topics))
        try:
            await wait_records(1)
            (root / "b.md").write_text("# B\nnew file")
            await wait_records(2)
            (root / "a.txt").write_text("second text of a")
            mtime = (root / "a.txt").stat().st_mtime + 5
            os.utime(root / "a.txt", (mtime, mtime))
            await wait_records(3)
            (root / "b.md").unlink()
            records = await wait_records(4)
            stop.set()
            assert await asyncio.wait_for(task, 10) == {"produced": 4, "dead_lettered": 0}
            return records
        finally:
            producer.close()

    records = [r.value for r in asyncio.run(go()) if r.value]
    a1, b1, a2, b_del = (r["payload"] for r in records)
    assert (a1["doc_id"], b1["doc_id"], a2["doc_id"], b_del["doc_id"]) == ("a.txt", "b.md", "a.txt", "b.md")
    assert a2["text"] == "second text of a" and a2["version"] > a1["version"]
    assert records[0]["event_id"] != records[2]["event_id"]
    assert b_del["deleted"] is True and b_del["version"] > b1["version"]
    assert count(s, s.topics.dead_letter) == 0
