"""Weaviate lookups: indexed versions, duplicate candidates, nearest neighbours, hybrid search.

Read-only. A tenant that does not exist yet has nothing in it (an empty answer, not
an error); Weaviate being unreachable raises :class:`TargetUnavailable`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import weaviate
from weaviate.classes.query import Filter, HybridFusion, MetadataQuery
from weaviate.exceptions import WeaviateBaseError

from connectors.weaviate.client import TargetUnavailable, tenant_missing
from schemas.chunk import DocState


def indexed_version(client: weaviate.WeaviateClient, name: str, tenant: str, doc_id: str) -> int | None:
    """The version of a document currently indexed, or None."""
    try:
        col = client.collections.use(name).with_tenant(tenant)
        res = col.query.fetch_objects(filters=Filter.by_property("doc_id").equal(doc_id), limit=1,
                                      return_properties=["doc_version"])
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return None
        raise TargetUnavailable(f"weaviate query failed: {exc}") from exc
    return int(str(res.objects[0].properties["doc_version"])) if res.objects else None


def find_by_fingerprint(client: weaviate.WeaviateClient, name: str, tenant: str, hashes: list[str],
                        bands: list[str], near_limit: int = 200) -> list[dict[str, Any]]:
    """Objects of a tenant whose content hash or any LSH band matches (duplicate candidates).

    Two lookups: every exact match (an exact duplicate is never missed), and at most ``near_limit``
    objects sharing a band. Templated app events ("user N logged in") all share bands, and fetching
    every one of them with its text for each batch would make the lookup grow with the index.
    """
    if not (hashes or bands) or not client.collections.exists(name):
        return []
    found: dict[str, dict[str, Any]] = {}
    if hashes:
        found |= _candidates(client, name, tenant, Filter.by_property("content_hash").contains_any(hashes),
                             max(100, 4 * len(hashes)))
    if bands:
        found |= _candidates(client, name, tenant, Filter.by_property("lsh_bands").contains_any(bands), near_limit)
    return list(found.values())


def _candidates(client: weaviate.WeaviateClient, name: str, tenant: str, where: Any, limit: int
                ) -> dict[str, dict[str, Any]]:
    try:
        col = client.collections.use(name).with_tenant(tenant)
        res = col.query.fetch_objects(filters=where, limit=limit,
                                      return_properties=["content_hash", "doc_id", "text", "body", "lsh_bands"])
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return {}
        raise TargetUnavailable(f"weaviate duplicate lookup failed: {exc}") from exc
    return {str(o.uuid): {"uuid": str(o.uuid), "content_hash": o.properties.get("content_hash") or "",
                          "doc_id": o.properties.get("doc_id") or "",
                          "text": o.properties.get("body") or o.properties.get("text") or "",
                          "lsh_bands": o.properties.get("lsh_bands") or []} for o in res.objects}


def nearest(client: weaviate.WeaviateClient, name: str, tenant: str, vector: list[float]
            ) -> tuple[str, str, float] | None:
    """(uuid, doc_id, cosine distance) of the object nearest to ``vector`` in the tenant, or None."""
    try:
        res = client.collections.use(name).with_tenant(tenant).query.near_vector(
            vector, limit=1, return_metadata=MetadataQuery(distance=True), return_properties=["doc_id"])
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return None
        raise TargetUnavailable(f"weaviate nearest-neighbour lookup failed: {exc}") from exc
    if not res.objects:
        return None
    o = res.objects[0]
    return str(o.uuid), str(o.properties.get("doc_id") or ""), float(o.metadata.distance or 0.0)


def hybrid(client: weaviate.WeaviateClient, name: str, tenant: str, text: str, vector: list[float], *,
           alpha: float, limit: int, filters: Any, properties: list[str]) -> list[tuple[str, dict[str, Any], float]]:
    """(uuid, properties, score) of the best ``limit`` objects: BM25 over ``properties`` fused with vector search."""
    col = client.collections.use(name).with_tenant(tenant)
    return _scored(lambda: col.query.hybrid(query=text, vector=vector, alpha=alpha, limit=limit, filters=filters,
                                            fusion_type=HybridFusion.RELATIVE_SCORE, query_properties=properties,
                                            return_metadata=MetadataQuery(score=True)))


def keyword(client: weaviate.WeaviateClient, name: str, tenant: str, text: str, *, limit: int, filters: Any,
            properties: list[str]) -> list[tuple[str, dict[str, Any], float]]:
    """(uuid, properties, BM25 score) of the best ``limit`` objects holding any of ``text``'s terms."""
    col = client.collections.use(name).with_tenant(tenant)
    return _scored(lambda: col.query.bm25(query=text, limit=limit, filters=filters, query_properties=properties,
                                          return_metadata=MetadataQuery(score=True)))


def current_states(client: weaviate.WeaviateClient, name: str, tenant: str, devices: list[str], filters: Any
                   ) -> list[dict[str, Any]]:
    """Every property of the current-state objects of these devices (each metric) that ``filters`` pass."""
    where = Filter.all_of([Filter.by_property("record_type").equal("state"),
                           Filter.by_property("device_id").contains_any(devices),
                           *([filters] if filters is not None else [])])
    return [dict(o.properties) for o in _fetch(client, name, tenant, where, None, 10 * len(devices))]


def _scored(run: Any) -> list[tuple[str, dict[str, Any], float]]:
    try:
        res = run()
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return []
        raise
    return [(str(o.uuid), dict(o.properties), float(o.metadata.score or 0.0)) for o in res.objects]


def _fetch(client: weaviate.WeaviateClient, name: str, tenant: str, where: Any, properties: list[str] | None,
           limit: int) -> list[Any]:
    if not client.collections.exists(name):
        return []
    try:
        col = client.collections.use(name).with_tenant(tenant)
        return list(col.query.fetch_objects(filters=where, limit=limit, return_properties=properties).objects)
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return []
        raise TargetUnavailable(f"weaviate lookup failed: {exc}") from exc


def ledgers(client: weaviate.WeaviateClient, name: str, tenant: str, doc_ids: list[str]) -> dict[str, DocState]:
    """The ledger entries of these documents (absent: never indexed since the ledger exists)."""
    out: dict[str, DocState] = {}
    for i in range(0, len(doc_ids), 500):
        part = doc_ids[i:i + 500]
        for o in _fetch(client, name, tenant, Filter.by_property("doc_id").contains_any(part),
                        ["doc_id", "version", "deleted", "content_hash", "chunk_hashes", "model_id"], len(part)):
            p = o.properties
            out[str(p["doc_id"])] = DocState(int(p.get("version") or 0), bool(p.get("deleted")),
                                             str(p.get("content_hash") or ""), tuple(p.get("chunk_hashes") or ()),
                                             str(p.get("model_id") or ""))
    return out


def event_times(client: weaviate.WeaviateClient, name: str, tenant: str, uuids: list[str]) -> dict[str, datetime]:
    """The event time each of these objects holds now (absent: not stored)."""
    out: dict[str, datetime] = {}
    for i in range(0, len(uuids), 500):
        part = uuids[i:i + 500]
        for o in _fetch(client, name, tenant, Filter.by_id().contains_any(part), ["event_time"], len(part)):
            when = o.properties.get("event_time")
            if isinstance(when, datetime):
                out[str(o.uuid)] = when
    return out


def objects(client: weaviate.WeaviateClient, name: str, tenant: str, properties: list[str]) -> list[dict[str, Any]]:
    """Every object of a tenant with the given properties and its ``uuid`` (for audits and oracles)."""
    if not client.collections.exists(name):
        return []
    try:
        col = client.collections.use(name).with_tenant(tenant)
        return [{"uuid": str(o.uuid), **o.properties} for o in col.iterator(return_properties=properties)]
    except WeaviateBaseError as exc:
        if tenant_missing(exc):
            return []
        raise TargetUnavailable(f"weaviate scan failed: {exc}") from exc


def document(client: weaviate.WeaviateClient, name: str, tenant: str, doc_id: str,
             properties: list[str]) -> list[dict[str, Any]]:
    """The stored chunks of one document, with the given properties and their ``uuid``."""
    return [{"uuid": str(o.uuid), **o.properties}
            for o in _fetch(client, name, tenant, Filter.by_property("doc_id").equal(doc_id), properties, 10_000)]
