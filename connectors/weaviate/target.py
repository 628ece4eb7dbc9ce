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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.exceptions import WeaviateBaseError

from connectors.weaviate.client import TargetUnavailable, tenant_missing
from schemas.chunk import PROPERTIES, ChunkRecord, Prop

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
    exact = prop.exact and prop.type.startswith("text")
    return Property(name=key, data_type=DATA_TYPES[prop.type], tokenization=Tokenization.FIELD if exact else None,
                    skip_vectorization=True)


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
          vectors: Iterable[Iterable[float]]) -> list[Failure]:
    """Upsert records with their vectors; returns the objects Weaviate rejected."""
    by_tenant: dict[str, list[DataObject[Any, Any]]] = defaultdict(list)
    for rec, vec in zip(records, vectors, strict=True):
        by_tenant[rec.tenant].append(DataObject(properties=rec.properties, uuid=rec.uuid, vector=list(vec)))
    failures: list[Failure] = []
    for tenant, objs in by_tenant.items():
        col = client.collections.use(name).with_tenant(tenant)
        try:
            result = col.data.insert_many(objs)
        except WeaviateBaseError as exc:
            raise TargetUnavailable(f"weaviate insert failed: {exc}") from exc
        for index, err in result.errors.items():
            failures.append(Failure(str(objs[index].uuid), err.message))
    _raise_if_all_transport(failures, len(records))
    return failures


def _raise_if_all_transport(failures: list[Failure], total: int) -> None:
    # A transport failure marks every object failed; that is an outage, not bad data.
    if failures and len(failures) == total and all(_transport(f.reason) for f in failures):
        raise TargetUnavailable(f"weaviate rejected the whole batch: {failures[0].reason}")


def _transport(reason: str) -> bool:
    text = reason.lower()
    return any(s in text for s in ("unavailable", "connection", "deadline", "timeout", "transport"))


def delete_entity(client: weaviate.WeaviateClient, name: str, tenant: str, doc_id: str,
                  keep_version: int | None = None) -> int:
    """Delete a document's chunks; with ``keep_version``, only those of other versions."""
    where = Filter.by_property("doc_id").equal(doc_id)
    if keep_version is not None:
        where = where & Filter.by_property("doc_version").not_equal(keep_version)
    try:
        col = client.collections.use(name).with_tenant(tenant)
        return int(col.data.delete_many(where=where).successful)
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return 0
        raise TargetUnavailable(f"weaviate delete failed: {exc}") from exc


def delete_older_than(client: weaviate.WeaviateClient, name: str, field: str, value: str, cutoff: Any) -> int:
    """Delete, in every tenant, objects with ``field == value`` and an event time before ``cutoff``."""
    if not client.collections.exists(name):
        return 0
    col = client.collections.use(name)
    where = Filter.by_property(field).equal(value) & Filter.by_property("event_time").less_than(cutoff)
    try:
        return sum(int(col.with_tenant(t).data.delete_many(where=where).successful) for t in col.tenants.get())
    except WeaviateBaseError as exc:
        raise TargetUnavailable(f"weaviate expiry failed: {exc}") from exc
