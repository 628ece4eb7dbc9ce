"""Replay mapping: rows to events, bad rows to errors, presets on the real datasets."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.replay_source import (
    Pacer,
    ProgressLine,
    ReplayMapping,
    ReplaySource,
    RowError,
    count_records,
    items_for,
    map_record,
    preset,
    read_records,
)
from connectors.source import Incoming
from schemas import AppEventEnvelope, DocumentEvent, Kind, SensorEvent, encode

pytestmark = pytest.mark.unit

WIDE = ReplayMapping(
    kind=Kind.SENSOR, event_id_template="{name}-{row}-{metric}", event_time_field="time",
    constants={"device_id": "room-1"}, melt=["V1", "V2"], metrics={"V1": "temperature"}, units={"V1": "C"})
ROW = {"time": "2015-02-04 17:51:00", "V1": "23.18", "V2": "27.27"}


def collect(source: ReplaySource) -> list[Incoming]:
    async def run() -> list[Incoming]:
        return [item async for item in source]

    return asyncio.run(run())


def test_melt_gives_one_reading_per_metric_column_in_column_order() -> None:
    events = map_record(WIDE, ROW, 7, name="occ", tenant="lab")
    assert [e.event_id for e in events] == ["occ-7-temperature", "occ-7-V2"]
    first, second = events
    assert isinstance(first, SensorEvent) and isinstance(second, SensorEvent)
    assert (first.payload.metric, first.payload.value, first.payload.unit) == ("temperature", 23.18, "C")
    assert (second.payload.metric, second.payload.value, second.payload.unit) == ("V2", 27.27, "")
    assert first.tenant == "lab" and first.source == "occ"
    assert first.event_time == datetime(2015, 2, 4, 17, 51, tzinfo=UTC)


def test_per_row_gives_exactly_one_event_of_the_chosen_column() -> None:
    mapping = WIDE.per_row("V1")
    assert mapping.mode == "per_row" and mapping.events_per_row == 1
    [event] = map_record(mapping, ROW, 3, name="occ")
    assert isinstance(event, SensorEvent)
    assert event.event_id == "occ-3-temperature"  # the same id as the melted reading: modes agree
    assert (event.payload.metric, event.payload.value, event.payload.unit) == ("temperature", 23.18, "C")
    with pytest.raises(ValueError, match="not one of the melted columns"):
        WIDE.per_row("V9")


@pytest.mark.parametrize(("row", "needle"), [
    ({**ROW, "V1": "n/a"}, "payload.value"),
    ({**ROW, "V2": ""}, "payload.value"),
    ({**ROW, "V1": "nan"}, "finite"),
    ({**ROW, "time": "yesterday"}, "cannot read time"),
    ({"time": ROW["time"], "V1": "1.0"}, "missing field 'V2'"),
])
def test_unreadable_rows_raise_row_error_naming_the_field(row: dict[str, str], needle: str) -> None:
    with pytest.raises(RowError, match=needle):
        map_record(WIDE, row, 0, name="occ")


@pytest.mark.parametrize(("fmt", "value", "expected"), [
    (None, "2024-03-01T10:00:00+02:00", datetime(2024, 3, 1, 8, tzinfo=UTC)),
    (None, "2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
    ("epoch_s", "1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ("epoch_ms", 1700000000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ("%d/%m/%Y %H:%M", "01/03/2024 10:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
])
def test_time_formats(fmt: str | None, value: object, expected: datetime) -> None:
    mapping = WIDE.model_copy(update={"time_format": fmt})
    [event, _] = map_record(mapping, {**ROW, "time": value}, 0, name="occ")
    assert event.event_time == expected


def test_app_event_without_template_lists_the_fields() -> None:
    mapping = ReplayMapping(kind=Kind.APP, event_id_template="{name}-{row}",
                            constants={"app": "shop", "action": "order"}, attributes={"sku": "sku"})
    [event] = map_record(mapping, {"sku": "A-1", "qty": "2"}, 0, name="orders")
    assert isinstance(event, AppEventEnvelope)
    assert event.payload.message == "sku: A-1; qty: 2"
    assert event.payload.attributes == {"sku": "A-1"}
    assert event.event_time == mapping.default_time


def test_template_with_unknown_field_is_a_row_error() -> None:
    mapping = ReplayMapping(kind=Kind.APP, event_id_template="{name}-{nope}",
                            constants={"app": "a", "action": "b"})
    with pytest.raises(RowError, match="nope"):
        map_record(mapping, {"x": 1}, 0, name="n")


def test_melt_is_for_sensors_only() -> None:
    with pytest.raises(ValidationError, match="melt"):
        ReplayMapping(kind=Kind.APP, event_id_template="x", melt=["a"])


def test_bad_rows_become_error_items_naming_row_and_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("time,V1,V2\n2015-02-04 17:51:00,1,2\n2015-02-04 17:52:00,oops,2\n"
                    "2015-02-04 17:53:00,1\n2015-02-04 17:54:00,3,4\n")
    items = collect(ReplaySource(path, WIDE, name="wide"))
    assert [i.event is not None for i in items] == [True, True, False, False, True, True]
    bad, short = items[2], items[3]
    assert bad.error is not None
    assert bad.error.startswith("replay: wide row 1 (line 3): schema: payload.value")
    assert json.loads(bad.raw or b"") == {"time": "2015-02-04 17:52:00", "V1": "oops", "V2": "2"}
    assert short.error is not None and "row 2 (line 4)" in short.error and "column count" in short.error


def test_jsonl_lines_are_numbered_by_file_line_and_bad_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n\n{not json}\n[1]\n{"a": 2}\n')
    records = list(read_records(path))
    assert [(r.row, r.where, r.data) for r in records] == [
        (0, "line 1", {"a": 1}), (1, "line 3", None), (2, "line 4", None), (3, "line 5", {"a": 2})]
    assert records[1].error is not None and records[1].error.startswith("not JSON")
    assert records[2].raw == b"[1]\n" and "got list" in (records[2].error or "")


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected .csv"):
        read_records(tmp_path / "data.parquet")


def test_occupancy_per_row_gives_one_event_per_row_with_stable_ids() -> None:
    path, mapping = preset("occupancy")
    rows = count_records(path)
    assert rows == len(path.read_text().splitlines()) - 1 == 509
    source = ReplaySource(path, mapping.per_row(), name="occupancy", tenant="t1")
    first, again = collect(source), collect(source)
    assert len(first) == source.total() == rows
    assert all(i.event is not None for i in first)
    ids = [i.event.event_id for i in first if i.event]
    assert len(set(ids)) == rows and ids[0] == "occupancy-0-temperature"
    assert [encode(i.event) for i in first if i.event] == [encode(i.event) for i in again if i.event]


def test_occupancy_melt_gives_four_metrics_per_row() -> None:
    path, mapping = preset("occupancy")
    source = ReplaySource(path, mapping, name="occupancy", limit=10)
    items = collect(source)
    assert len(items) == source.total() == 40
    metrics = [i.event.payload.metric for i in items[:4] if isinstance(i.event, SensorEvent)]
    assert metrics == ["temperature", "humidity", "light", "co2"]


def test_jeopardy_preset_reads_question_answer_and_attributes() -> None:
    path, mapping = preset("jeopardy")
    record = next(read_records(path))
    [item] = items_for(record, mapping, name="jeopardy", tenant="quiz")
    event = item.event
    assert isinstance(event, AppEventEnvelope) and event.event_id == "jeopardy-0"
    data = record.data or {}
    assert event.payload.message == (f"Category: {data['Category']}. Question: {data['Question']} "
                                     f"Answer: {data['Answer']}")
    assert event.payload.attributes == {"value": data["Value"], "round": data["Round"],
                                        "air_date": data["Air Date"]}
    assert event.event_time == datetime.fromisoformat(data["Air Date"]).replace(tzinfo=UTC)


def test_wiki100_preset_gives_one_document_per_file() -> None:
    path, mapping = preset("wiki100")
    items = collect(ReplaySource(path, mapping, name="wiki100", limit=2))
    docs = [i.event for i in items if isinstance(i.event, DocumentEvent)]
    files = sorted(path.glob("*.txt"))[:2]
    assert [d.payload.doc_id for d in docs] == [f.stem for f in files]
    assert [d.event_id for d in docs] == [f"wiki-{f.stem}-v1" for f in files]
    assert docs[0].payload.text == files[0].read_text() and docs[0].payload.title == files[0].stem
    assert count_records(path) == len(list(path.glob("*.txt"))) >= 100


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(KeyError, match="occupancy"):
        preset("nope")


def test_pacer_spaces_events_at_the_rate() -> None:
    async def run() -> float:
        pacer, start = Pacer(200), time.monotonic()
        for _ in range(21):
            await pacer.tick()
        return time.monotonic() - start

    assert asyncio.run(run()) >= 0.09
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)


def test_progress_line_shows_done_total_rate_and_dead_letters() -> None:
    out = io.StringIO()
    line = ProgressLine("replay", total=10, every_s=60, stream=out)
    line({"produced": 3, "dead_lettered": 1})
    assert out.getvalue() == "" and line.last == {"produced": 3, "dead_lettered": 1}
    line.show({"produced": 8, "dead_lettered": 2})
    shown = out.getvalue()
    assert shown.startswith("replay: 10/10 events, ") and shown.endswith(", 2 dead-lettered\n")
