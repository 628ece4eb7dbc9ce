"""One batch of consumed records -> a write plan: validate -> render -> curate -> chunk -> enrich.

Pure: no I/O and no clock (the worker's ``now`` comes in). The indexer executes the plan (embed,
upsert, delete) and the batch is acknowledged only once the plan is durable in Weaviate.

Every event is planned at its trusted event time (:mod:`streams.transforms.clock`): one stamped
further ahead of its record's Kafka timestamp than ``max_clock_skew_s`` is clamped to that
timestamp, and its objects store by how much (``clock_skew_s``).

Sensor readings and app events are planned to the end here. Documents are planned
up to their fingerprint: which change of a document wins is decided against the
indexed state (:mod:`streams.transforms.order`), and only the winner, if its content
changed, is chunked (:func:`chunk_document`), so that an unchanged document costs a
render and a hash, never a chunking or an embedding.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent
from schemas.chunk import ChunkRecord
from streams.transforms.chunk import Chunk, chunk_text
from streams.transforms.clock import EventClock
from streams.transforms.curate.policy import Curation, Drop, dedup_text
from streams.transforms.enrich import enrich
from streams.transforms.order import DocChange
from streams.transforms.render import Rendered, describe_sensor, render
from streams.transforms.state import SeriesFacts, state_record
from streams.transforms.validate import Item, Rejected, Tombstone, stamped, validate

# Part of every document fingerprint: bump it when chunking or enrichment changes what is stored,
# so that documents indexed before are chunked and written again.
LOGIC_VERSION = "2"


@dataclass(frozen=True)
class Chunking:
    count_tokens: Callable[[str], int]
    max_tokens: int
    overlap_tokens: int
    curation: Curation | None = None


@dataclass(frozen=True)
class DocSource:
    """What a document change was made from: its record, event and rendered (redacted) form."""

    item: Item
    event: DocumentEvent | None
    rendered: Rendered | None
    clock_skew_s: float = 0.0  # how far the event's own stamp was ahead of its trusted time


@dataclass
class Plan:
    chunking: Chunking
    clock: EventClock
    records: list[ChunkRecord] = field(default_factory=list)  # sensor readings and app events
    states: dict[str, tuple[datetime, ChunkRecord]] = field(default_factory=dict)  # latest per device/metric
    # per (tenant, doc id), its changes in log order; ``sources[change.position]`` is what each came from
    doc_changes: dict[tuple[str, str], list[DocChange]] = field(default_factory=lambda: defaultdict(list))
    sources: list[DocSource] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    dropped: list[Drop] = field(default_factory=list)
    redactions: list[tuple[AnyEvent, Counter[str]]] = field(default_factory=list)
    # uuid -> the record it came from, so rejected objects can be dead-lettered with their source
    origin: dict[str, Item] = field(default_factory=dict)
    coalesced: int = 0  # readings superseded within the batch by a later one of the same series

    def event_records(self) -> list[ChunkRecord]:
        return self.records + [rec for _, rec in self.states.values()]


def plan_batch(items: Sequence[Item], count_tokens: Callable[[str], int], *, document_topic: str,
               max_bytes: int, max_tokens: int, overlap_tokens: int, now: datetime, max_clock_skew_s: float,
               curation: Curation | None = None) -> Plan:
    """Plan every record; a record that fails anywhere is rejected alone, with its stage.

    ``now``: the worker's clock, which bounds every record's Kafka timestamp; an event stamped more
    than ``max_clock_skew_s`` after its record's is planned at the record's (see :mod:`streams.transforms.clock`).
    """
    plan = Plan(Chunking(count_tokens, max_tokens, overlap_tokens, curation), EventClock.of(now, max_clock_skew_s))
    results = [_validated(plan, item, document_topic, max_bytes) for item in items]
    states_only = curation is not None and not curation.sensor_readings
    latest = _latest_readings(plan.clock, items, results) if states_only else None
    for i, (item, result) in enumerate(zip(items, results, strict=True)):
        if result is None:
            continue
        if latest is not None and isinstance(result, SensorEvent) and latest[_series(result)] != i:
            plan.coalesced += 1
            continue
        try:
            _add(plan, item, result)
        except Exception as exc:  # noqa: BLE001 - a bug in one record must not stop the others
            plan.rejected.append(Rejected(item, f"{type(exc).__name__}: {exc}"[:500], stage="plan"))
    return plan


def _validated(plan: Plan, item: Item, document_topic: str, max_bytes: int) -> AnyEvent | Tombstone | Rejected | None:
    try:
        return validate(item, document_topic, max_bytes)
    except Exception as exc:  # noqa: BLE001 - a bug in one record must not stop the others
        plan.rejected.append(Rejected(item, f"{type(exc).__name__}: {exc}"[:500], stage="plan"))
        return None


def _series(event: SensorEvent) -> tuple[str, str, str]:
    return event.tenant, event.payload.device_id, event.payload.metric


def _latest_readings(clock: EventClock, items: Sequence[Item], results: Sequence[object]
                     ) -> dict[tuple[str, str, str], int]:
    """Per series, the position of the reading that decides its current state: the latest in trusted event
    time, and of equals the later in the log. Only it is rendered and written when readings are not objects
    of their own; the others cost a decode, which is what lets a fleet run at thousands of readings/s.
    """
    latest: dict[tuple[str, str, str], tuple[int, datetime]] = {}
    for i, (item, r) in enumerate(zip(items, results, strict=True)):
        if isinstance(r, SensorEvent):
            key, when = _series(r), clock.trusted(r.event_time, item.timestamp_ms)
            if key not in latest or latest[key][1] <= when:
                latest[key] = (i, when)
    return {key: i for key, (i, _) in latest.items()}


def _add(plan: Plan, item: Item, result: AnyEvent | Tombstone | Rejected) -> None:
    if isinstance(result, Rejected):
        plan.rejected.append(result)
    elif isinstance(result, Tombstone):
        _doc_change(plan, (result.tenant, result.doc_id), DocChange(None, True), DocSource(item, None, None))
    else:
        event, skew = plan.clock.clamped(stamped(result, item), item.timestamp_ms)
        if isinstance(event, DocumentEvent):
            _add_document(plan, item, event, skew)
        else:
            _add_event(plan, item, event, skew)


def _doc_change(plan: Plan, key: tuple[str, str], change: DocChange, source: DocSource) -> None:
    plan.doc_changes[key].append(DocChange(change.version, change.deleted, change.content_hash, len(plan.sources)))
    plan.sources.append(source)


def _add_document(plan: Plan, item: Item, event: DocumentEvent, skew: float) -> None:
    key = (event.tenant, event.payload.doc_id)
    if event.payload.deleted:
        _doc_change(plan, key, DocChange(event.payload.version, True), DocSource(item, event, None, skew))
        return
    rendered = _redacted(plan, event, render(event))
    c = plan.chunking
    digest = hashlib.sha256("\0".join((LOGIC_VERSION, str(c.max_tokens), str(c.overlap_tokens), rendered.title,
                                       event.payload.uri, rendered.text, *sorted(set(event.readers)))
                                      ).encode()).hexdigest()  # readers too: an ACL change rewrites at once
    _doc_change(plan, key, DocChange(event.payload.version, False, digest), DocSource(item, event, rendered, skew))


def _redacted(plan: Plan, event: AnyEvent, rendered: Rendered) -> Rendered:
    cur = plan.chunking.curation
    if cur is None:
        return rendered
    rendered, counts = cur.redact(rendered)
    if counts:
        plan.redactions.append((event, counts))
    return rendered


def _add_event(plan: Plan, item: Item, event: SensorEvent | AppEventEnvelope, skew: float) -> None:
    c = plan.chunking
    if c.curation is not None and isinstance(event, SensorEvent) and not c.curation.sensor_readings:
        # Only the current state is stored: curation never drops a reading, and what the state shows
        # besides value and time is its series' (worked out once per series).
        if c.curation.sensor_state:
            facts = c.curation.series(event)
            if facts.redactions:
                plan.redactions.append((event, Counter(dict(facts.redactions))))
            _track_state(plan, item, event, facts, skew)
        return
    rendered = _redacted(plan, event, render(event))
    if isinstance(event, SensorEvent):
        # A reading is one sentence, and its vector comes from a short description: nothing to cut,
        # and counting its tokens is most of what planning a reading would cost.
        text = rendered.text.strip()
        chunks = [Chunk(0, text, 0, len(text), "")]
    else:
        chunks = chunk_text(rendered.text, c.count_tokens, c.max_tokens, c.overlap_tokens)
    records = noted(enrich(event, rendered, chunks, item.position), skew)
    if isinstance(event, SensorEvent):
        # The vector comes from what the reading is about; the stored sentence keeps value and time.
        records = [replace(r, text=describe_sensor(rendered.properties)) for r in records]
    if c.curation is not None:
        records, drops = curate(c.curation, event, records)
        plan.dropped += drops
        if isinstance(event, SensorEvent) and c.curation.sensor_state and records:
            _track_state(plan, item, event, c.curation.series(event), skew)
    for rec in records:
        plan.origin[rec.uuid] = item
    plan.records.extend(records)


def _track_state(plan: Plan, item: Item, event: SensorEvent, facts: SeriesFacts, skew: float) -> None:
    key = f"{event.tenant}/{event.payload.device_id}/{event.payload.metric}"
    if key not in plan.states or plan.states[key][0] <= event.event_time:
        state = noted([state_record(event, item.position, facts)], skew)[0]
        plan.states[key] = (event.event_time, state)
        plan.origin[state.uuid] = item


def curate(cur: Curation, event: AnyEvent, records: list[ChunkRecord]) -> tuple[list[ChunkRecord], list[Drop]]:
    """Judge quality and fingerprint each record; returns what is kept and what was dropped."""
    message = event.payload.message if isinstance(event, AppEventEnvelope) else ""
    if message:
        message, _ = cur.redact_text(message)
    kept, drops = [], []
    for rec in records:
        reason = cur.issue(event, message or rec.text, rec.properties["language"])
        if reason:
            drops.append(drop(rec, reason))
        else:
            kept.append(cur.fingerprint(event, rec, dedup_text(event, rec, message)))
    return kept, drops


def chunk_document(plan: Plan, change: DocChange) -> tuple[list[ChunkRecord], list[Drop]]:
    """Chunk, enrich and curate the document a winning change carries (pure)."""
    source = plan.sources[change.position]
    assert source.event is not None and source.rendered is not None, "only upserts are chunked"
    c = plan.chunking
    chunks = chunk_text(source.rendered.text, c.count_tokens, c.max_tokens, c.overlap_tokens)
    records = noted(enrich(source.event, source.rendered, chunks, source.item.position), source.clock_skew_s)
    drops: list[Drop] = []
    if c.curation is not None:
        records, drops = curate(c.curation, source.event, records)
    for rec in records:
        plan.origin[rec.uuid] = source.item
    return records, drops


def noted(records: list[ChunkRecord], skew: float) -> list[ChunkRecord]:
    """``records`` noting that their event's own stamp was ``skew`` seconds ahead of its trusted time."""
    return [replace(r, properties={**r.properties, "clock_skew_s": skew}) for r in records] if skew else records


def chunk_fingerprint(rec: ChunkRecord, model_id: str) -> str:
    """What decides whether a stored chunk is still right: its text, place and titles, and the model.

    The event id, version and Kafka position are left out on purpose: an unchanged chunk keeps
    citing the event its text came from, and is neither embedded nor written again.
    """
    p = rec.properties
    parts = (model_id, rec.text, p["title"], p["uri"], p["section"], str(p["char_start"]), str(p["char_end"]),
             *p["readers"])  # an ACL change must reach the stored chunk as fast as a text change
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def drop(rec: ChunkRecord, reason: str) -> Drop:
    p = rec.properties
    return Drop(p["event_id"], p["kind"], p["source"], rec.tenant, reason, p["chunk_index"])
