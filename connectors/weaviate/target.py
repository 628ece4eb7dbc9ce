"""Weaviate target: the chunk collection (from :data:`schemas.chunk.PROPERTIES`), upserts, deletes.

Semantics:
- Objects carry deterministic UUIDs, so writing the same record twice replaces it
  (replays and retries never duplicate).
- ``write`` returns the per-object failures Weaviate reported; it raises
  :class:`TargetUnavailable` when Weaviate could not be reached at all, so the
  caller retries the whole batch and does not move past it.
- One Weaviate tenant per Headwater tenant (native multi-tenancy, created on first write).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.exceptions import WeaviateBaseError, WeaviateInsertManyAllFailedError

from connectors.weaviate.client import TargetUnavailable, tenant_missing
from schemas.chunk import LEDGER_PROPERTIES, PROPERTIES, ChunkRecord, Prop

DATA_TYPES = {
    "text": DataType.TEXT, "text[]": DataType.TEXT_ARRAY, "int": DataType.INT,
    "number": DataType.NUMBER, "date": DataType.DATE, "bool": DataType.BOOL,
}


@dataclass(frozen=True)
class Failure:
    uuid: str
    reason: str


def _property(key: str, prop: Prop) -> Property:
    # Ids and enum-like values must match exactly in filters, not as analysed words.
    text = prop.type.startswith("text")
    return Property(name=key, data_type=DATA_TYPES[prop.type],
                    tokenization=Tokenization.FIELD if prop.exact and text else None, skip_vectorization=True,
                    index_searchable=prop.search if text else None, index_filterable=prop.filter)


def ensure_collection(client: weaviate.WeaviateClient, name: str, properties: Mapping[str, Prop] = PROPERTIES) -> None:
    """Create the collection, or add properties a newer Headwater declares (additive schema changes)."""
    if client.collections.exists(name):
        col = client.collections.use(name)
        have = {p.name for p in col.config.get().properties}
        for key, prop in properties.items():
            if key not in have:
                col.config.add_property(_property(key, prop))
        return
    props = [_property(key, prop) for key, prop in properties.items()]
    client.collections.create(
        name,
        properties=props,
        vector_config=Configure.Vectors.self_provided(
            vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)),
        multi_tenancy_config=Configure.multi_tenancy(enabled=True, auto_tenant_creation=True,
                                                     auto_tenant_activation=True),
        inverted_index_config=Configure.inverted_index(index_null_state=False),
    )


def write(client: weaviate.WeaviateClient, name: str, records: Sequence[ChunkRecord],
          vectors: Iterable[Iterable[float]] | None, *, batch_max: int = 256,
          batch_bytes: int = 4_000_000) -> list[Failure]:
    """Upsert records (with their vectors; ``None``: objects without vectors); returns what Weaviate refused.

    Sub-batched by ``batch_max`` objects and about ``batch_bytes`` per request (gRPC has a message
    limit). Failures are classified: a transient one (connection, timeout, unavailable) raises
    :class:`TargetUnavailable` so the caller retries everything, idempotently; a permanent one
    (validation, vector dimension, schema) is returned per object. A request refused as a whole
    for a permanent reason is split until the objects that cause it are found.
    """
    vecs = list(vectors) if vectors is not None else [None] * len(records)
    if len(vecs) != len(records):
        raise ValueError(f"{len(records)} records but {len(vecs)} vectors")
    # One object per id, the last one given (the later in the log): requests then never overlap.
    last = {(rec.tenant, rec.uuid): i for i, rec in enumerate(records)}
    by_tenant: dict[str, list[DataObject[Any, Any]]] = defaultdict(list)
    for i in sorted(last.values()):
        rec, vec = records[i], vecs[i]
        by_tenant[rec.tenant].append(DataObject(properties=rec.properties, uuid=rec.uuid,
                                                vector=list(vec) if vec is not None else None))
    requests = [(client.collections.use(name).with_tenant(tenant), part)
                for tenant, objs in by_tenant.items() for part in _parts(objs, batch_max, batch_bytes)]
    if len(requests) == 1:
        return _insert(*requests[0])
    # Two requests in flight: the client turns one into protobuf (Python, under the GIL) while
    # Weaviate stores the other. The parts hold distinct objects, so their order does not matter.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="weaviate-write") as pool:
        return [f for found in pool.map(lambda r: _insert(*r), requests) for f in found]


def _parts(objs: list[DataObject[Any, Any]], batch_max: int, batch_bytes: int) -> Iterable[list[DataObject[Any, Any]]]:
    part: list[DataObject[Any, Any]] = []
    size = 0
    for obj in objs:
        # Text dominates the size of a property map; a float32 vector travels as 4 bytes per dimension.
        cost = sum(len(str(v)) for v in (obj.properties or {}).values()) + 4 * len(obj.vector or ())
        if part and (len(part) >= batch_max or size + cost > batch_bytes):
            yield part
            part, size = [], 0
        part.append(obj)
        size += cost
    if part:
        yield part


def _insert(col: Any, objs: list[DataObject[Any, Any]]) -> list[Failure]:
    try:
        result = col.data.insert_many(objs)
    except WeaviateInsertManyAllFailedError as exc:
        return _refused(col, objs, str(exc))
    except WeaviateBaseError as exc:
        if transient(str(exc)):
            raise TargetUnavailable(f"weaviate insert failed: {exc}") from exc
        return _refused(col, objs, str(exc))
    failures = [Failure(str(objs[index].uuid), err.message) for index, err in result.errors.items()]
    if any(transient(f.reason) for f in failures):
        raise TargetUnavailable(f"weaviate refused objects for a passing reason: {failures[0].reason}")
    return failures


def _refused(col: Any, objs: list[DataObject[Any, Any]], reason: str) -> list[Failure]:
    """The whole request was refused: an outage is retried; otherwise find the objects that cause it."""
    if transient(reason):
        raise TargetUnavailable(f"weaviate refused the whole batch: {reason}")
    if len(objs) == 1:
        return [Failure(str(objs[0].uuid), _first_line(reason))]
    half = len(objs) // 2
    return _insert(col, objs[:half]) + _insert(col, objs[half:])


def _first_line(reason: str) -> str:
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    return " ".join(lines)[:1000]


TRANSIENT = ("unavailable", "connection", "deadline", "timeout", "timed out", "transport", "temporarily",
             "too many requests", "not ready", "shutting down",
             # The store, not the data: disk or memory pressure makes a shard read-only until it passes.
             "read-only", "read only", "readonly", "context canceled", "context cancelled", "memory pressure",
             "out of memory", "not enough memory", "disk usage", "no space left")
# A gateway status on its own, not digits inside a uuid or hex id that a refusal names ("...a8502-...").
GATEWAY_STATUS = re.compile(r"(?<![\w-])50[234](?![\w-])")


def transient(reason: str) -> bool:
    """Whether a Weaviate error passes by itself (retry) rather than being caused by the data (dead-letter)."""
    text = reason.lower()
    return any(s in text for s in TRANSIENT) or GATEWAY_STATUS.search(text) is not None


def delete_entity(client: weaviate.WeaviateClient, name: str, tenant: str, doc_id: str,
                  from_index: int = 0) -> int:
    """Delete a document's chunks; with ``from_index``, only those at that chunk index and above."""
    where = Filter.by_property("doc_id").equal(doc_id)
    if from_index > 0:
        where = where & Filter.by_property("chunk_index").greater_or_equal(from_index)
    return _delete_where(client, name, tenant, where)


def delete_ids(client: weaviate.WeaviateClient, name: str, tenant: str, uuids: Sequence[str]) -> int:
    if not uuids:
        return 0
    return _delete_where(client, name, tenant, Filter.by_id().contains_any(list(uuids)))


def _delete_where(client: weaviate.WeaviateClient, name: str, tenant: str, where: Any) -> int:
    try:
        col = client.collections.use(name).with_tenant(tenant)
        result = col.data.delete_many(where=where)
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return 0
        raise TargetUnavailable(f"weaviate delete failed: {exc}") from exc
    if result.failed:
        # A stale chunk left behind is a wrong answer later: the batch is retried, never counted as done.
        raise TargetUnavailable(f"weaviate deleted {result.successful} but failed {result.failed} of"
                                f" {result.matches} objects; retrying the batch")
    return int(result.successful)


def ensure_ledger(client: weaviate.WeaviateClient, name: str) -> None:
    """The document ledger: one object per document (versions, tombstones, chunk fingerprints), no vectors."""
    ensure_collection(client, name, LEDGER_PROPERTIES)


def write_ledger(client: weaviate.WeaviateClient, name: str, entries: Sequence[ChunkRecord]) -> list[Failure]:
    failures = write(client, name, entries, None)
    if failures:
        # A ledger entry is bookkeeping the worker wrote itself; refusing it is not bad input.
        raise TargetUnavailable(f"weaviate refused ledger entries: {failures[0].reason}")
    return failures


def delete_older_than(client: weaviate.WeaviateClient, name: str, field: str, value: str, cutoff: Any) -> int:
    """Delete, in every tenant, objects with ``field == value`` and an event time before ``cutoff``."""
    if not client.collections.exists(name):
        return 0
    col = client.collections.use(name)
    where = Filter.by_property(field).equal(value) & Filter.by_property("event_time").less_than(cutoff)
    return sum(_delete_where(client, name, t, where) for t in col.tenants.get())
