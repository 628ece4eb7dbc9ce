"""Retrieval: hybrid search (BM25 + vector) with filters; every hit carries a citation.

Semantics: searches one tenant (tenants are isolated in Weaviate); ``alpha`` 1.0
is pure vector, 0.0 pure BM25; filters combine with AND. Hits holding the question's identifiers
(ticket 54660, pump 523) come first, near-identical events about one entity newest first, and a
sensor's current state before its older readings (:mod:`streams.retrieve.rank`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from weaviate.classes.query import Filter

from connectors.weaviate import query
from streams.embed.base import Embedder
from streams.retrieve.rank import current_first, exact_first, identifiers, newest_twins_first, readings_series


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    tenant: str = "default"
    k: int = Field(default=5, ge=1, le=100)
    alpha: float | None = Field(default=None, ge=0.0, le=1.0)
    kind: Literal["sensor", "app", "document"] | None = None
    source: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class Citation(BaseModel):
    event_id: str
    doc_id: str
    doc_version: int
    uri: str
    title: str
    char_start: int
    char_end: int
    chunk_index: int
    event_time: datetime | None
    kafka_topic: str
    kafka_partition: int
    kafka_offset: int


class Hit(BaseModel):
    text: str
    score: float
    kind: str
    source: str
    entity_id: str
    section: str
    citation: Citation
    ingest_time: datetime | None = None
    index_time: datetime | None = None


def build_filters(req: SearchRequest, readers: list[str] | None = None) -> Any:
    """The request's filters, AND the caller's reader tags: inside Weaviate, so ``k`` hits stay ``k``."""
    parts = []
    if readers is not None:
        parts.append(Filter.by_property("readers").contains_any(readers))
    if req.kind:
        parts.append(Filter.by_property("kind").equal(req.kind))
    if req.source:
        parts.append(Filter.by_property("source").equal(req.source))
    if req.entity_id:
        parts.append(Filter.by_property("entity_id").equal(req.entity_id))
    if req.since:
        parts.append(Filter.by_property("event_time").greater_or_equal(req.since))
    if req.until:
        parts.append(Filter.by_property("event_time").less_or_equal(req.until))
    return Filter.all_of(parts) if parts else None


def search(client: Any, embedder: Embedder, collection: str, req: SearchRequest, default_alpha: float,
           readers: list[str] | None = None) -> list[Hit]:
    """The ``k`` best hits of one tenant that the caller may read; an unknown tenant has nothing (``[]``).

    ``readers`` are the caller's reader tags (:func:`schemas.access.reader_tags`): only chunks whose
    ``readers`` hold one of them are found. None searches every chunk (anonymous mode, local CLI).
    """
    vector = embedder.encode([req.query])[0].tolist()
    alpha = req.alpha if req.alpha is not None else default_alpha
    filters, names = build_filters(req, readers), identifiers(req.query)
    # A pool wider than k: the hits holding the question's identifiers are ordered by similarity, and
    # a newer twin just below the k-th place is found. A keyword pass over the identifiers alone adds
    # those the fusion pushed out of the pool.
    found = query.hybrid(client, collection, req.tenant, req.query, vector, alpha=alpha,
                         limit=min(3 * req.k, 300), filters=filters, properties=["text", "title^2"])
    if names:
        found += [(uuid, props, 0.0) for uuid, props, _ in query.keyword(
            client, collection, req.tenant, " ".join(names), limit=req.k, filters=filters,
            properties=["text", "title"])]
    ranked = newest_twins_first(exact_first(found, names), req.query)
    if shown := readings_series(ranked[:req.k]):
        states = query.current_states(client, collection, req.tenant, sorted({d for d, _ in shown}), filters)
        ranked = current_first(ranked, states)
    return [_hit(props, score) for props, score in ranked[:req.k]]


def _hit(p: dict[str, Any], score: float | None) -> Hit:
    cite = Citation(**{k: p.get(k) if p.get(k) is not None else _empty(k) for k in Citation.model_fields})
    return Hit(text=p["text"], score=float(score or 0.0), kind=p["kind"], source=p["source"],
               entity_id=p["entity_id"], section=p.get("section") or "", citation=cite,
               ingest_time=p.get("ingest_time"), index_time=p.get("index_time"))


def _empty(key: str) -> Any:
    return None if key == "event_time" else (0 if Citation.model_fields[key].annotation is int else "")
