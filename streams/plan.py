"""One batch of consumed records -> a write plan: validate -> render -> curate -> chunk -> enrich.

Pure: no I/O and no clock. The worker executes the plan (embed, upsert, delete)
and acks the batch only once the plan is durable in Weaviate.

Ordering: records of one document share a partition, so within a batch the last
version or delete of a document wins and earlier versions are dropped as obsolete.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent
from schemas.chunk import ChunkRecord
from streams.transforms.chunk import chunk_text
from streams.transforms.curate.policy import Curation, Drop, dedup_text, state_record
from streams.transforms.enrich import enrich
from streams.transforms.render import Rendered, render
from streams.transforms.validate import Item, Rejected, Tombstone, validate


@dataclass
class DocWrite:
    tenant: str
    doc_id: str
    version: int
    records: list[ChunkRecord]


@dataclass
class Plan:
    records: list[ChunkRecord] = field(default_factory=list)        # sensor and app chunks
    doc_writes: dict[tuple[str, str], DocWrite] = field(default_factory=dict)
    doc_deletes: set[tuple[str, str]] = field(default_factory=set)
    rejected: list[Rejected] = field(default_factory=list)
    dropped: list[Drop] = field(default_factory=list)
    redactions: list[tuple[AnyEvent, Counter[str]]] = field(default_factory=list)
    states: dict[str, tuple[datetime, ChunkRecord]] = field(default_factory=dict)  # latest per device/metric
    obsolete: int = 0
    # uuid -> the record it came from, so rejected objects can be dead-lettered with their source
    origin: dict[str, Item] = field(default_factory=dict)

    def all_records(self) -> list[ChunkRecord]:
        states = [rec for _, rec in self.states.values()]
        return self.records + states + [r for w in self.doc_writes.values() for r in w.records]

    def drop_records(self, uuids: dict[str, str]) -> list[Drop]:
        """Remove records by uuid (decided after planning, e.g. duplicates in Weaviate)."""
        gone = [r for r in self.all_records() if r.uuid in uuids]
        self.records = [r for r in self.records if r.uuid not in uuids]
        for w in self.doc_writes.values():
            w.records = [r for r in w.records if r.uuid not in uuids]
        return [_drop(r, uuids[r.uuid]) for r in gone]


def plan_batch(items: Sequence[Item], count_tokens: Callable[[str], int], *, document_topic: str,
               max_bytes: int, max_tokens: int, overlap_tokens: int, curation: Curation | None = None) -> Plan:
    plan = Plan()
    for item in items:
        result = validate(item, document_topic, max_bytes)
        if isinstance(result, Rejected):
            plan.rejected.append(result)
        elif isinstance(result, Tombstone):
            _delete(plan, result.tenant, result.doc_id)
        else:
            try:
                _add_event(plan, item, result, count_tokens, max_tokens, overlap_tokens, curation)
            except Exception as exc:  # noqa: BLE001 - a bug in one event must not stop the others
                plan.rejected.append(Rejected(item, f"{type(exc).__name__}: {exc}", stage="chunk"))
    return plan


def _delete(plan: Plan, tenant: str, doc_id: str) -> None:
    if plan.doc_writes.pop((tenant, doc_id), None) is not None:
        plan.obsolete += 1
    plan.doc_deletes.add((tenant, doc_id))


def _drop(rec: ChunkRecord, reason: str) -> Drop:
    p = rec.properties
    return Drop(p["event_id"], p["kind"], p["source"], rec.tenant, reason, p["chunk_index"])


def _curate(plan: Plan, cur: Curation, event: AnyEvent, rendered: Rendered,
            records: list[ChunkRecord]) -> list[ChunkRecord]:
    message = event.payload.message if isinstance(event, AppEventEnvelope) else ""
    if message:
        message, _ = cur.redact_text(message)
    kept = []
    for rec in records:
        judged = message or rec.text
        reason = cur.issue(event, judged, rec.properties["language"])
        if reason:
            plan.dropped.append(_drop(rec, reason))
            continue
        kept.append(cur.fingerprint(event, rec, dedup_text(event, rec, message)))
    return kept


def _track_state(plan: Plan, item: Item, event: SensorEvent, reading: ChunkRecord) -> None:
    key = f"{event.tenant}/{event.payload.device_id}/{event.payload.metric}"
    if key not in plan.states or plan.states[key][0] <= event.event_time:
        state = state_record(event, reading)
        plan.states[key] = (event.event_time, state)
        plan.origin[state.uuid] = item


def _add_event(plan: Plan, item: Item, event: AnyEvent, count_tokens: Callable[[str], int],
               max_tokens: int, overlap_tokens: int, cur: Curation | None = None) -> None:
    if isinstance(event, DocumentEvent) and event.payload.deleted:
        _delete(plan, event.tenant, event.payload.doc_id)
        return
    rendered = render(event)
    if cur is not None:
        rendered, counts = cur.redact(rendered)
        if counts:
            plan.redactions.append((event, counts))
    chunks = chunk_text(rendered.text, count_tokens, max_tokens, overlap_tokens)
    records = enrich(event, rendered, chunks, item.position)
    if cur is not None:
        records = _curate(plan, cur, event, rendered, records)
        if isinstance(event, SensorEvent) and cur.sensor_state and records:
            _track_state(plan, item, event, records[0])
    for rec in records:
        plan.origin[rec.uuid] = item
    if not isinstance(event, DocumentEvent):
        plan.records.extend(records)
        return
    key = (event.tenant, event.payload.doc_id)
    previous = plan.doc_writes.get(key)
    if previous is not None:
        if previous.version > event.payload.version:
            plan.obsolete += 1
            return
        plan.obsolete += 1
    plan.doc_deletes.discard(key)
    plan.doc_writes[key] = DocWrite(event.tenant, event.payload.doc_id, event.payload.version, records)
