"""From a batch of consumed records to a write plan (validate -> render -> chunk -> enrich).

Pure: no I/O and no clock. The worker executes the plan (embed, upsert, delete)
and acks the batch only once the plan is durable in Weaviate.

Ordering: records of one document share a partition, so within a batch the last
version or delete of a document wins and earlier versions are dropped as obsolete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from schemas import AnyEvent, DocumentEvent
from streams.transforms.chunk import chunk_text
from streams.transforms.enrich import ChunkRecord, enrich
from streams.transforms.render import render
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
    obsolete: int = 0
    # uuid -> the record it came from, so rejected objects can be dead-lettered with their source
    origin: dict[str, Item] = field(default_factory=dict)

    def all_records(self) -> list[ChunkRecord]:
        return self.records + [r for w in self.doc_writes.values() for r in w.records]


def plan_batch(items: Sequence[Item], count_tokens: Callable[[str], int], *, document_topic: str,
               max_bytes: int, max_tokens: int, overlap_tokens: int) -> Plan:
    plan = Plan()
    for item in items:
        result = validate(item, document_topic, max_bytes)
        if isinstance(result, Rejected):
            plan.rejected.append(result)
        elif isinstance(result, Tombstone):
            _delete(plan, result.tenant, result.doc_id)
        else:
            try:
                _add_event(plan, item, result, count_tokens, max_tokens, overlap_tokens)
            except Exception as exc:  # noqa: BLE001 - a bug in one event must not stop the others
                plan.rejected.append(Rejected(item, f"{type(exc).__name__}: {exc}", stage="chunk"))
    return plan


def _delete(plan: Plan, tenant: str, doc_id: str) -> None:
    if plan.doc_writes.pop((tenant, doc_id), None) is not None:
        plan.obsolete += 1
    plan.doc_deletes.add((tenant, doc_id))


def _add_event(plan: Plan, item: Item, event: AnyEvent, count_tokens: Callable[[str], int],
               max_tokens: int, overlap_tokens: int) -> None:
    if isinstance(event, DocumentEvent) and event.payload.deleted:
        _delete(plan, event.tenant, event.payload.doc_id)
        return
    rendered = render(event)
    chunks = chunk_text(rendered.text, count_tokens, max_tokens, overlap_tokens)
    records = enrich(event, rendered, chunks, item.position)
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
