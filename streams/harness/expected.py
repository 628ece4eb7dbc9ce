"""The independent oracle: what the index must hold after an event log, and how Weaviate differs.

Written apart from the worker's planner and indexer, from the rules in the README
("Updates, deletes and identity"), so that a test or a chaos run can compare the
real Weaviate with it. It shares only the pure text transforms (render, chunk,
PII redaction, quality rules and text fingerprints), each tested on its own;
ordering, versions, deletes, tombstones, ids, current state and the dedup decisions
are computed here again, in a few lines, by folding over the log in order.

Rules:
- documents: per (tenant, doc id) the highest version wins, deletes included; equal
  versions: the later event wins; a Kafka tombstone deletes at the current version;
- sensor readings and app events: one object per event (replays rewrite it);
- sensor current state: one object per (tenant, device, metric), the latest event time;
- with curation: trivial text is dropped, an exact or near copy of another entity's
  kept text is dropped unless the two differ in a number, date, name or code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent
from streams.transforms.chunk import chunk_text
from streams.transforms.curate.fingerprint import content_key, differs_in_facts, jaccard
from streams.transforms.curate.pii import redact
from streams.transforms.curate.quality import QualityRules, quality_issue
from streams.transforms.render import render

NAMESPACE = uuid.UUID("5b0c7b8e-7f8e-4a51-9a37-3c1c2f0d4e11")  # the documented id namespace


def object_id(tenant: str, kind: str, key: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{tenant}/{kind}/{key}/{index}"))


@dataclass(frozen=True)
class Tombstone:
    """A null Kafka value on the document topic, keyed ``tenant/doc_id``."""

    tenant: str
    doc_id: str


@dataclass(frozen=True)
class Expected:
    uuid: str
    tenant: str
    kind: str
    event_id: str  # for readings, app events and current states: which event the object must show
    text: str  # for document chunks: the text the object must hold


@dataclass
class Curating:
    """The curation the oracle applies: redaction, triviality, exact and near copies."""

    redact: bool = True
    rules: QualityRules = QualityRules()
    near_threshold: float = 0.7


@dataclass(frozen=True)
class _Doc:
    version: int
    deleted: bool
    event: DocumentEvent | None


@dataclass
class _Kept:
    """Texts already kept per tenant, for the copy rule: (entity, text)."""

    by_tenant: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def copy_of(self, tenant: str, entity: str, text: str, threshold: float) -> bool:
        for other_entity, other in self.by_tenant.get(tenant, []):
            if other_entity == entity:
                continue
            same = content_key(other) == content_key(text) or jaccard(other, text) >= threshold
            if same and not differs_in_facts(other, text):
                return True
        return False

    def add(self, tenant: str, entity: str, text: str) -> None:
        self.by_tenant.setdefault(tenant, []).append((entity, text))


def expected_index(log: Sequence[AnyEvent | Tombstone], count_tokens: Callable[[str], int], *,
                   max_tokens: int, overlap_tokens: int, curating: Curating | None = None,
                   sensor_state: bool = True, sensor_readings: bool = True) -> dict[str, Expected]:
    """uuid -> what that object must hold, for ``log`` consumed in order into an empty index."""
    docs: dict[tuple[str, str], _Doc] = {}
    out: dict[str, Expected] = {}
    states: dict[tuple[str, str, str], SensorEvent] = {}
    kept = _Kept()
    for e in log:
        if isinstance(e, Tombstone):
            cur = docs.get((e.tenant, e.doc_id))
            docs[(e.tenant, e.doc_id)] = _Doc(cur.version if cur else 0, True, None)
        elif isinstance(e, DocumentEvent):
            cur = docs.get((e.tenant, e.payload.doc_id))
            if cur is None or e.payload.version >= cur.version:
                docs[(e.tenant, e.payload.doc_id)] = _Doc(e.payload.version, e.payload.deleted, e)
        elif isinstance(e, SensorEvent):
            if sensor_readings:
                text = _text(render(e).text, curating)
                out[object_id(e.tenant, "sensor", e.event_id, 0)] = Expected(
                    object_id(e.tenant, "sensor", e.event_id, 0), e.tenant, "sensor", e.event_id, text)
            key = (e.tenant, e.payload.device_id, e.payload.metric)
            if key not in states or states[key].event_time <= e.event_time:
                states[key] = e
        else:
            out.update(_app(e, count_tokens, max_tokens, overlap_tokens, curating, kept))
    for (tenant, device, metric), e in states.items() if sensor_state else ():
        uid = object_id(tenant, "sensor-state", f"{device}/{metric}", 0)
        out[uid] = Expected(uid, tenant, "sensor", e.event_id, "")
    for d in docs.values():
        if not d.deleted and d.event is not None:
            out.update(_document(d.event, count_tokens, max_tokens, overlap_tokens, curating, kept))
    return out


def _text(text: str, curating: Curating | None) -> str:
    return redact(text)[0] if curating is not None and curating.redact else text


def _app(e: AppEventEnvelope, count_tokens: Callable[[str], int], max_tokens: int, overlap: int,
         curating: Curating | None, kept: _Kept) -> dict[str, Expected]:
    text = _text(render(e).text, curating)
    message = _text(e.payload.message, curating).strip()
    out = {}
    for c in chunk_text(text, count_tokens, max_tokens, overlap):
        judged = message or c.text
        if curating is not None:
            if quality_issue(judged, curating.rules) is not None:
                continue
            basis = judged if c.index == 0 else f"{judged} #{c.index}"
            if kept.copy_of(e.tenant, e.event_id, basis, curating.near_threshold):
                continue
            kept.add(e.tenant, e.event_id, basis)
        uid = object_id(e.tenant, "app", e.event_id, c.index)
        out[uid] = Expected(uid, e.tenant, "app", e.event_id, c.text)
    return out


def _document(e: DocumentEvent, count_tokens: Callable[[str], int], max_tokens: int, overlap: int,
              curating: Curating | None, kept: _Kept) -> dict[str, Expected]:
    out = {}
    for c in chunk_text(_text(e.payload.text, curating), count_tokens, max_tokens, overlap):
        if curating is not None:
            if quality_issue(c.text, curating.rules) is not None:
                continue
            if kept.copy_of(e.tenant, e.payload.doc_id, c.text, curating.near_threshold):
                continue
            kept.add(e.tenant, e.payload.doc_id, c.text)
        uid = object_id(e.tenant, "document", e.payload.doc_id, c.index)
        out[uid] = Expected(uid, e.tenant, "document", e.event_id, c.text)
    return out


@dataclass(frozen=True)
class Diff:
    """How the index differs from the oracle; all zero when it holds exactly what it must."""

    missing: list[str]
    stale: list[str]
    orphan: list[str]
    duplicate: list[str]

    def counts(self) -> dict[str, int]:
        return {"missing": len(self.missing), "stale": len(self.stale), "orphan": len(self.orphan),
                "duplicate": len(self.duplicate)}

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.orphan or self.duplicate)


def compare(expected: dict[str, Expected], stored: Iterable[dict[str, Any]]) -> Diff:
    """``stored``: every object of the tenants concerned, as ``{"uuid", "kind", "event_id", "text", ...}``.

    Stale: the object exists but holds an older fact (another event, or another text
    for a document chunk). Duplicate: one event or document chunk stored under two ids.
    """
    seen: dict[str, dict[str, Any]] = {}
    duplicate: list[str] = []
    by_fact: dict[tuple[str, str, int], str] = {}
    for obj in stored:
        if obj["uuid"] in seen:
            duplicate.append(obj["uuid"])
        seen[obj["uuid"]] = obj
        fact = (obj.get("record_type") or "chunk", obj.get("doc_id") or obj["event_id"], int(obj.get("chunk_index", 0)))
        if fact in by_fact and by_fact[fact] != obj["uuid"]:
            duplicate.append(obj["uuid"])
        by_fact[fact] = obj["uuid"]
    missing = [u for u in expected if u not in seen]
    orphan = [u for u in seen if u not in expected]
    stale = [u for u, want in expected.items() if u in seen and not _holds(seen[u], want)]
    return Diff(missing, stale, orphan, duplicate)


def _holds(obj: dict[str, Any], want: Expected) -> bool:
    if want.kind == "document":
        return bool(obj.get("text") == want.text)
    return bool(obj.get("event_id") == want.event_id)
