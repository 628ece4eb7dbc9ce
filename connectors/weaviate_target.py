"""Weaviate target: the chunk collection, idempotent upserts, deletes by entity.

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
from typing import Any, Protocol

import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.exceptions import WeaviateBaseError

DATA_TYPES = {
    "text": DataType.TEXT, "text[]": DataType.TEXT_ARRAY, "int": DataType.INT,
    "number": DataType.NUMBER, "date": DataType.DATE, "bool": DataType.BOOL,
}
# Ids and enum-like values must match exactly in filters, not as analysed words.
FIELD_TOKENIZED = {"kind", "source", "entity_id", "event_id", "doc_id", "uri", "kafka_topic", "language",
                   "content_hash", "device_id", "app", "metric", "unit", "record_type", "lsh_bands"}


class TargetUnavailable(RuntimeError):
    """Weaviate did not answer; retry later, do not commit offsets."""


class Record(Protocol):
    @property
    def uuid(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def properties(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Failure:
    uuid: str
    reason: str


def _property(key: str, kind: str) -> Property:
    return Property(name=key, data_type=DATA_TYPES[kind],
                    tokenization=Tokenization.FIELD if key in FIELD_TOKENIZED and kind.startswith("text") else None,
                    skip_vectorization=True)


def ensure_collection(client: weaviate.WeaviateClient, name: str, property_types: Mapping[str, str]) -> None:
    """Create the collection, or add properties a newer Headwater declares (additive schema changes)."""
    if client.collections.exists(name):
        col = client.collections.use(name)
        have = {p.name for p in col.config.get().properties}
        for key, kind in property_types.items():
            if key not in have:
                col.config.add_property(_property(key, kind))
        return
    props = [_property(key, kind) for key, kind in property_types.items()]
    client.collections.create(
        name,
        properties=props,
        vector_config=Configure.Vectors.self_provided(
            vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)),
        multi_tenancy_config=Configure.multi_tenancy(enabled=True, auto_tenant_creation=True,
                                                     auto_tenant_activation=True),
        inverted_index_config=Configure.inverted_index(index_null_state=False),
    )


def write(client: weaviate.WeaviateClient, name: str, records: Sequence[Record],
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
        if "tenant not found" in str(exc).lower():
            return 0
        raise TargetUnavailable(f"weaviate delete failed: {exc}") from exc


def indexed_version(client: weaviate.WeaviateClient, name: str, tenant: str, doc_id: str) -> int | None:
    """The version of a document currently indexed, or None."""
    try:
        col = client.collections.use(name).with_tenant(tenant)
        res = col.query.fetch_objects(filters=Filter.by_property("doc_id").equal(doc_id), limit=1,
                                      return_properties=["doc_version"])
    except WeaviateBaseError as exc:
        if "tenant not found" in str(exc).lower() or "not found" in str(exc).lower():
            return None
        raise TargetUnavailable(f"weaviate query failed: {exc}") from exc
    return int(str(res.objects[0].properties["doc_version"])) if res.objects else None


def _tenant_missing(exc: Exception) -> bool:
    return "tenant" in str(exc).lower() and "not found" in str(exc).lower()


def find_by_fingerprint(client: weaviate.WeaviateClient, name: str, tenant: str, hashes: list[str],
                        bands: list[str], limit: int = 2000) -> list[dict[str, Any]]:
    """Objects of a tenant whose content hash or any LSH band matches (duplicate candidates)."""
    parts = []
    if hashes:
        parts.append(Filter.by_property("content_hash").contains_any(hashes))
    if bands:
        parts.append(Filter.by_property("lsh_bands").contains_any(bands))
    if not parts or not client.collections.exists(name):
        return []
    try:
        col = client.collections.use(name).with_tenant(tenant)
        res = col.query.fetch_objects(filters=Filter.any_of(parts), limit=limit,
                                      return_properties=["content_hash", "doc_id", "text", "body", "lsh_bands"])
    except WeaviateBaseError as exc:
        if _tenant_missing(exc):
            return []
        raise TargetUnavailable(f"weaviate duplicate lookup failed: {exc}") from exc
    return [{"uuid": str(o.uuid), "content_hash": o.properties.get("content_hash") or "",
             "doc_id": o.properties.get("doc_id") or "",
             "text": o.properties.get("body") or o.properties.get("text") or "",
             "lsh_bands": o.properties.get("lsh_bands") or []} for o in res.objects]


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


def nearest(client: weaviate.WeaviateClient, name: str, tenant: str, vector: list[float]
            ) -> tuple[str, str, float] | None:
    """(uuid, doc_id, cosine distance) of the object nearest to ``vector`` in the tenant, or None."""
    from weaviate.classes.query import MetadataQuery

    try:
        res = client.collections.use(name).with_tenant(tenant).query.near_vector(
            vector, limit=1, return_metadata=MetadataQuery(distance=True), return_properties=["doc_id"])
    except WeaviateBaseError as exc:
        if _tenant_missing(exc):
            return None
        raise TargetUnavailable(f"weaviate nearest-neighbour lookup failed: {exc}") from exc
    if not res.objects:
        return None
    o = res.objects[0]
    return str(o.uuid), str(o.properties.get("doc_id") or ""), float(o.metadata.distance or 0.0)
