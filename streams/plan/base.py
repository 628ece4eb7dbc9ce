"""The plan's shape, and what planning every kind of record shares: redaction, curation, notes.

Pure: no I/O and no clock (the worker's ``now`` comes in through :class:`~streams.transforms.clock.EventClock`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent
from schemas.chunk import ChunkRecord
from streams.transforms.clock import EventClock
from streams.transforms.curate.policy import Curation, Drop, dedup_text
from streams.transforms.order import DocChange
from streams.transforms.render import Rendered
from streams.transforms.validate import Item, Rejected


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


def redacted(plan: Plan, event: AnyEvent, rendered: Rendered) -> Rendered:
    cur = plan.chunking.curation
    if cur is None:
        return rendered
    rendered, counts = cur.redact(rendered)
    if counts:
        plan.redactions.append((event, counts))
    return rendered


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


def noted(records: list[ChunkRecord], skew: float) -> list[ChunkRecord]:
    """``records`` noting that their event's own stamp was ``skew`` seconds ahead of its trusted time."""
    return [replace(r, properties={**r.properties, "clock_skew_s": skew}) for r in records] if skew else records


def drop(rec: ChunkRecord, reason: str) -> Drop:
    p = rec.properties
    return Drop(p["event_id"], p["kind"], p["source"], rec.tenant, reason, p["chunk_index"])
