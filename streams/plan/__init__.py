"""One batch of consumed records -> a complete write plan: validate -> render -> curate -> chunk -> enrich.

Pure: no I/O and no clock (the worker's ``now`` comes in). One module per kind of work:
:mod:`~streams.plan.events` (app events, readings as objects), :mod:`~streams.plan.sensors`
(current states), :mod:`~streams.plan.documents` (fingerprints at intake; against the ledger,
which change wins and which chunks to write and delete). The indexer reads what the plan needs
(ledger entries, stored states, dedup candidates), hands it to these functions, then embeds and
writes; the batch is acknowledged only once the plan is durable in Weaviate.

Every event is planned at its trusted event time (:mod:`streams.transforms.clock`): one stamped
further ahead of its record's Kafka timestamp than ``max_clock_skew_s`` is clamped to that
timestamp, and its objects store by how much (``clock_skew_s``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from schemas import AnyEvent, DocumentEvent, SensorEvent
from streams.plan.base import Chunking, DocSource, Plan, drop
from streams.plan.documents import (
    Documents,
    DocWork,
    add_document,
    chunk_document,
    doc_change,
    ledger_record,
    plan_documents,
)
from streams.plan.events import add_event
from streams.plan.sensors import latest_readings, newer_states, series
from streams.transforms.clock import EventClock
from streams.transforms.curate.policy import Curation
from streams.transforms.order import DocChange
from streams.transforms.validate import Item, Rejected, Tombstone, stamped, validate

__all__ = ["Chunking", "DocSource", "DocWork", "Documents", "Plan", "chunk_document", "drop", "ledger_record",
           "newer_states", "plan_batch", "plan_documents"]


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
    latest = latest_readings(plan.clock, items, results) if states_only else None
    for i, (item, result) in enumerate(zip(items, results, strict=True)):
        if result is None:
            continue
        if latest is not None and isinstance(result, SensorEvent) and latest[series(result)] != i:
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


def _add(plan: Plan, item: Item, result: AnyEvent | Tombstone | Rejected) -> None:
    if isinstance(result, Rejected):
        plan.rejected.append(result)
    elif isinstance(result, Tombstone):
        doc_change(plan, (result.tenant, result.doc_id), DocChange(None, True), DocSource(item, None, None))
    else:
        event, skew = plan.clock.clamped(stamped(result, item), item.timestamp_ms)
        if isinstance(event, DocumentEvent):
            add_document(plan, item, event, skew)
        else:
            add_event(plan, item, event, skew)


