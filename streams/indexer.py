"""Stages 5-6, embed and upsert: execute a :class:`~streams.plan.Plan` against Weaviate.

Semantics: idempotent (deterministic UUIDs; a replay rewrites the same objects),
a document's new version replaces its old chunks (written first, old ones deleted
after, so the document never disappears in between), a delete removes every chunk,
an older version than the one indexed is skipped. Raises
:class:`~connectors.weaviate.client.TargetUnavailable` on an outage, so the caller
retries the whole plan; returns the objects Weaviate rejected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.weaviate import query, target
from schemas.chunk import ChunkRecord
from streams.embed.base import Embedder
from streams.plan import Plan
from streams.transforms.curate.dedup import Existing, find_duplicates
from streams.transforms.curate.policy import Drop


@dataclass
class Outcome:
    written: int
    deleted: int
    skipped_obsolete: int
    failures: list[target.Failure]
    embed_s: float = 0.0
    write_s: float = 0.0
    duplicates: list[Drop] = field(default_factory=list)
    lookup_s: float = 0.0  # indexed versions and duplicate candidates, read from Weaviate before embedding


class Indexer:
    def __init__(self, client: Any, embedder: Embedder, collection: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *, dedup: bool = True,
                 near: bool = True, near_threshold: float = 0.7, semantic_threshold: float | None = None) -> None:
        self.dedup, self.near, self.near_threshold = dedup, near, near_threshold
        self.semantic_threshold = semantic_threshold
        self.client = client
        self.embedder = embedder
        self.collection = collection
        self.clock = clock
        target.ensure_collection(client, collection)

    def execute(self, plan: Plan) -> Outcome:
        started = time.perf_counter()
        skipped = self._drop_obsolete_versions(plan)
        dups = plan.drop_records(find_duplicates(plan.all_records(), self._lookup, threshold=self.near_threshold,
                                                 near=self.near)) if self.dedup else []
        records = plan.all_records()
        t0 = time.perf_counter()
        vectors = self.embedder.encode([r.text for r in records])
        if self.semantic_threshold is not None:
            records, vectors, more = self._semantic_dedup(plan, records, vectors)
            dups += more
        t1 = time.perf_counter()
        now = self.clock()
        stamped = [_stamp(r, now, self.embedder.model_id) for r in records]
        failures = target.write(self.client, self.collection, stamped, vectors) if stamped else []
        deleted = 0
        for w in plan.doc_writes.values():
            deleted += target.delete_entity(self.client, self.collection, w.tenant, w.doc_id, w.version)
        for tenant, doc_id in plan.doc_deletes:
            deleted += target.delete_entity(self.client, self.collection, tenant, doc_id)
        return Outcome(len(stamped) - len(failures), deleted, skipped, failures, t1 - t0, time.perf_counter() - t1,
                       dups, lookup_s=t0 - started)

    def _semantic_dedup(self, plan: Plan, records: list[ChunkRecord], vectors: Any
                        ) -> tuple[list[ChunkRecord], Any, list[Drop]]:
        """Drop records whose nearest indexed neighbour (another entity) is at least this cosine-similar."""
        assert self.semantic_threshold is not None
        gone: dict[str, str] = {}
        for rec, vec in zip(records, vectors, strict=True):
            if rec.properties.get("kind") == "sensor":
                continue
            hit = query.nearest(self.client, self.collection, rec.tenant, vec.tolist())
            if hit is not None and hit[0] != rec.uuid and not (rec.properties.get("doc_id") and
                                                               rec.properties["doc_id"] == hit[1]):
                similarity = 1.0 - hit[2]
                if similarity >= self.semantic_threshold:
                    gone[rec.uuid] = f"duplicate:semantic of {hit[0]} (cosine {similarity:.3f})"
        if not gone:
            return records, vectors, []
        keep = [i for i, r in enumerate(records) if r.uuid not in gone]
        return [records[i] for i in keep], vectors[keep], plan.drop_records(gone)

    def _lookup(self, tenant: str, hashes: list[str], bands: list[str]) -> list[Existing]:
        return [Existing(o["uuid"], o["doc_id"], o["content_hash"], o["text"], tuple(o["lsh_bands"]))
                for o in query.find_by_fingerprint(self.client, self.collection, tenant, hashes, bands)]

    def expire(self, now: datetime, ttl_by_kind: dict[str, float], ttl_by_source: dict[str, float]) -> int:
        """Delete chunks older than their kind's or source's TTL (by event time); returns how many."""
        rules = [("kind", k, v) for k, v in ttl_by_kind.items()] + [("source", k, v) for k, v in ttl_by_source.items()]
        return sum(target.delete_older_than(self.client, self.collection, field_, value, now - timedelta(seconds=ttl))
                   for field_, value, ttl in rules)

    def _drop_obsolete_versions(self, plan: Plan) -> int:
        skipped = 0
        for key, w in list(plan.doc_writes.items()):
            current = query.indexed_version(self.client, self.collection, w.tenant, w.doc_id)
            if current is not None and current > w.version:
                del plan.doc_writes[key]
                skipped += 1
        return skipped


def _stamp(rec: ChunkRecord, now: datetime, model_id: str) -> ChunkRecord:
    return ChunkRecord(rec.uuid, rec.tenant, rec.text, {**rec.properties, "index_time": now, "model_id": model_id})
