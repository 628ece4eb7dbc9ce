"""Stages embed and upsert: execute a :class:`~streams.plan.Plan` against Weaviate.

Semantics: idempotent (deterministic UUIDs; a replay rewrites the same objects or, for
documents whose content is indexed, writes nothing); documents follow the ordering
rules of :mod:`streams.transforms.order` against the ledger (:mod:`streams.ledger`),
written after their chunks; a device's current state only moves forward in event
time, and a stored state stamped beyond now + ``max_clock_skew_s`` (a wrong clock, written
before event times were clamped) never counts as newer (:func:`streams.transforms.clock.replaces`).
Raises :class:`~connectors.weaviate.client.TargetUnavailable` on an outage, so the caller
retries the whole plan; returns the objects Weaviate refused.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from connectors.weaviate import query, target
from schemas.chunk import ChunkRecord, DocState
from streams.embed.base import Embedder
from streams.embed.turns import Turns
from streams.plan import Documents, Plan, drop, ledger_record, newer_states, plan_documents
from streams.transforms.curate.dedup import Existing, find_duplicates, semantic_duplicates
from streams.transforms.curate.policy import Drop

STATES_REMEMBERED = 200_000  # series (about 50 MB); a larger fleet's states are read back again


@dataclass
class Outcome:
    written: list[ChunkRecord]
    deleted: int
    skipped_obsolete: int
    failures: list[target.Failure]
    embed_s: float = 0.0
    write_s: float = 0.0
    duplicates: list[Drop] = field(default_factory=list)
    lookup_s: float = 0.0  # ledger, current states and duplicate candidates, read before embedding
    unchanged: int = 0  # documents whose content was already indexed


class Indexer:
    def __init__(self, client: Any, embedder: Embedder, collection: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *, dedup: bool = True,
                 near: bool = True, near_threshold: float = 0.7, semantic_threshold: float | None = None,
                 upsert_batch_max: int = 256, max_clock_skew_s: float = 300.0) -> None:
        self.dedup, self.near, self.near_threshold = dedup, near, near_threshold
        self.semantic_threshold = semantic_threshold
        self.client, self.embedder, self.collection, self.clock = client, embedder, collection, clock
        self.ledger = f"{collection}Ledger"
        self.upsert_batch_max = upsert_batch_max
        self.max_clock_skew = timedelta(seconds=max_clock_skew_s)
        self.turns = Turns()
        # Event time of the current states this worker read or wrote, so that a fleet's next batch needs
        # no read-back. Right only while this worker alone writes those series: forget_states() on rebalance.
        self.state_times: dict[str, datetime] = {}
        self.count_tokens = embedder.token_counter()
        target.ensure_collection(client, collection)
        target.ensure_ledger(client, self.ledger)

    def execute(self, plan: Plan, urgent: bool = True) -> Outcome:
        started = time.perf_counter()
        docs = plan_documents(plan, self._ledgers(plan), self.embedder.model_id)
        candidates = self._forward_states(plan) + docs.records()
        gone = self._dedup(candidates, docs) if self.dedup else {}
        records = [r for r in candidates if r.uuid not in gone]
        t0 = time.perf_counter()
        vectors = self._encode([r.text for r in records], urgent)
        if self.semantic_threshold is not None:
            records, vectors, more = self._semantic_dedup(records, vectors, docs)
            gone |= more
        t1 = time.perf_counter()
        now = self.clock()
        stamped = [_stamp(r, now, self.embedder.model_id) for r in records]
        failures = target.write(self.client, self.collection, stamped, vectors, batch_max=self.upsert_batch_max)
        refused = {f.uuid for f in failures}
        self._remember_states(plan, {r.uuid for r in stamped} - refused)
        for w in docs.work:
            w.forget(refused, refused=True)  # its dead letter, replayed, writes it
        deleted = self._delete(docs)
        target.write_ledger(self.client, self.ledger, [ledger_record(w) for w in docs.work])
        dropped = [drop(r, gone[r.uuid]) for r in candidates if r.uuid in gone]
        return Outcome([r for r in stamped if r.uuid not in refused], deleted, docs.superseded, failures,
                       t1 - t0, time.perf_counter() - t1, dropped + docs.drops, lookup_s=t0 - started,
                       unchanged=docs.unchanged)

    def _encode(self, texts: list[str], urgent: bool) -> Any:
        # A backfill embeds in small slices and takes turns with the urgent lane, which goes first:
        # an app event waits for one slice of a backfill (4 chunks, ~0.15 s), not for its batch.
        # Slices of 4 cost a backfill nothing measurable on 2 cores (8, 16 and 32: within noise).
        # Slices of texts of like token counts, as the ceiling's one big sorted encode: a forward pass
        # pads to its longest text, and characters sort short texts too coarsely for that.
        # Cached vectors first, in one lookup: counting a fleet's 1,000 descriptions' tokens to sort
        # them for a model that never sees them cost ten times the lookup.
        known = getattr(self.embedder, "known", None)
        out: Any = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        hits: dict[int, Any] = known(texts) if known is not None else {}
        for j, vec in hits.items():
            out[j] = vec
        todo = [j for j in range(len(texts)) if j not in hits]
        step = 32 if urgent else 4
        count = self.count_tokens if len(todo) > step else len
        order = [todo[k] for k in np.argsort([count(texts[j]) for j in todo], kind="stable")]
        for i in range(0, len(order), step):
            idx = order[i:i + step]
            with self.turns.turn(urgent):
                out[idx] = self.embedder.encode([texts[j] for j in idx])
        return out

    def _ledgers(self, plan: Plan) -> dict[tuple[str, str], DocState]:
        by_tenant: dict[str, list[str]] = defaultdict(list)
        for tenant, doc_id in plan.doc_changes:
            by_tenant[tenant].append(doc_id)
        out: dict[tuple[str, str], DocState] = {}
        for tenant, doc_ids in by_tenant.items():
            out |= {(tenant, d): s for d, s in query.ledgers(self.client, self.ledger, tenant, doc_ids).items()}
        return out

    def _forward_states(self, plan: Plan) -> list[ChunkRecord]:
        """Readings, app events, and the current states that are newer than the stored ones."""
        states = [rec for _, rec in plan.states.values()]
        stored = self._stored_states(states)
        newer = newer_states(states, stored, self.clock(), self.max_clock_skew)
        self.state_times |= stored
        return plan.records + newer

    def _stored_states(self, states: list[ChunkRecord]) -> dict[str, datetime]:
        """Event times of these states as stored: from this worker's cache, else read back from Weaviate."""
        by_tenant: dict[str, list[str]] = defaultdict(list)
        for rec in states:
            by_tenant[rec.tenant].append(rec.uuid)
        stored: dict[str, datetime] = {}
        for tenant, uuids in by_tenant.items():
            unknown = [u for u in uuids if u not in self.state_times]
            stored |= query.event_times(self.client, self.collection, tenant, unknown) if unknown else {}
        return stored | {r.uuid: self.state_times[r.uuid] for r in states if r.uuid in self.state_times}

    def _remember_states(self, plan: Plan, written: set[str]) -> None:
        if len(self.state_times) > STATES_REMEMBERED:
            self.state_times = {}
        self.state_times |= {r.uuid: r.properties["event_time"] for _, r in plan.states.values() if r.uuid in written}

    def forget_states(self) -> None:
        """Read current states back from Weaviate again (another worker may have written them meanwhile)."""
        self.state_times = {}

    def _dedup(self, records: list[ChunkRecord], docs: Documents) -> dict[str, str]:
        found = find_duplicates(records, self._lookup, threshold=self.near_threshold, near=self.near)
        for w in docs.work:
            w.forget(found)
        return found

    def _semantic_dedup(self, records: list[ChunkRecord], vectors: Any, docs: Documents
                        ) -> tuple[list[ChunkRecord], Any, dict[str, str]]:
        """Drop records whose nearest indexed neighbour (another entity) is at least this cosine-similar."""
        assert self.semantic_threshold is not None
        nearest = [None if rec.properties.get("kind") == "sensor"
                   else query.nearest(self.client, self.collection, rec.tenant, vec.tolist())
                   for rec, vec in zip(records, vectors, strict=True)]
        gone = semantic_duplicates(records, nearest, self.semantic_threshold)
        if not gone:
            return records, vectors, {}
        for w in docs.work:
            w.forget(gone)
        keep = [i for i, r in enumerate(records) if r.uuid not in gone]
        return [records[i] for i in keep], vectors[keep], gone

    def _delete(self, docs: Documents) -> int:
        deleted = 0
        for w in docs.work:
            if w.delete_all:
                deleted += target.delete_entity(self.client, self.collection, w.tenant, w.doc_id)
                continue
            deleted += target.delete_ids(self.client, self.collection, w.tenant, w.delete_ids)
            if w.delete_from is not None:
                deleted += target.delete_entity(self.client, self.collection, w.tenant, w.doc_id, w.delete_from)
        return deleted

    def _lookup(self, tenant: str, hashes: list[str], bands: list[str]) -> list[Existing]:
        return [Existing(o["uuid"], o["doc_id"], o["content_hash"], o["text"], tuple(o["lsh_bands"]))
                for o in query.find_by_fingerprint(self.client, self.collection, tenant, hashes, bands)]

    def expire(self, now: datetime, ttl_by_kind: dict[str, float], ttl_by_source: dict[str, float]) -> int:
        """Delete chunks older than their kind's or source's TTL (by event time); returns how many."""
        self.forget_states()
        rules = [("kind", k, v) for k, v in ttl_by_kind.items()] + [("source", k, v) for k, v in ttl_by_source.items()]
        return sum(target.delete_older_than(self.client, self.collection, field_, value, now - timedelta(seconds=ttl))
                   for field_, value, ttl in rules)


def _stamp(rec: ChunkRecord, now: datetime, model_id: str) -> ChunkRecord:
    return ChunkRecord(rec.uuid, rec.tenant, rec.text, {**rec.properties, "index_time": now, "model_id": model_id})
