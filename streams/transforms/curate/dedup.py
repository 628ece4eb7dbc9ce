"""Exact and near-duplicate detection for records about to be written.

The index is Weaviate itself: every chunk stores its ``content_hash`` (exact key)
and ``lsh_bands`` (MinHash LSH band keys), so duplicate state is persistent,
shared by all workers and per tenant, with no second store. Rules:

- a record duplicates another object when their content keys are equal (exact) or
  they share an LSH band and their shingle Jaccard similarity is at least
  ``threshold`` (near);
- an object never duplicates itself (same UUID: a replay or retry), and a document
  chunk never duplicates a chunk of the same document (its own older version is
  about to be replaced, not kept: a near copy of the same entity is an update);
- a near copy that states another fact (a number, date, code or name only one of
  them has) is not a duplicate: "code changed to 4471" and "... to 9902" both stay;
- the first of several equal records in one batch wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from schemas.chunk import ChunkRecord
from streams.transforms.curate.facts import differs_in_facts
from streams.transforms.fingerprint import jaccard


@dataclass(frozen=True)
class Existing:
    uuid: str
    doc_id: str
    content_hash: str
    text: str  # what similarity is measured on: an app event's message, else the chunk text
    lsh_bands: tuple[str, ...]


# (tenant, hashes, bands) -> objects already indexed that match any hash or band
Lookup = Callable[[str, list[str], list[str]], list[Existing]]


def _basis(rec: ChunkRecord) -> str:
    return rec.properties.get("body") or rec.text


def _same_entity(rec: ChunkRecord, other_uuid: str, other_doc: str) -> bool:
    doc = rec.properties.get("doc_id", "")
    return other_uuid == rec.uuid or (bool(doc) and doc == other_doc)


def _match(rec: ChunkRecord, others: Sequence[Existing], threshold: float, near: bool) -> str | None:
    h = rec.properties["content_hash"]
    bands = set(rec.properties.get("lsh_bands") or ())
    for o in others:
        if _same_entity(rec, o.uuid, o.doc_id):
            continue
        if o.content_hash == h:
            return f"duplicate:exact of {o.uuid}"
        if near and bands & set(o.lsh_bands) and jaccard(_basis(rec), o.text) >= threshold \
                and not differs_in_facts(_basis(rec), o.text):
            return f"duplicate:near of {o.uuid}"
    return None


def find_duplicates(records: Sequence[ChunkRecord], lookup: Lookup, *, threshold: float = 0.7,
                    near: bool = True) -> dict[str, str]:
    """uuid -> reason for every record that must not be written."""
    out: dict[str, str] = {}
    by_tenant: dict[str, list[ChunkRecord]] = {}
    for r in records:
        if r.properties.get("content_hash") and r.properties.get("kind") != "sensor":
            by_tenant.setdefault(r.tenant, []).append(r)
    for tenant, recs in by_tenant.items():
        hashes = sorted({r.properties["content_hash"] for r in recs})
        bands = sorted({b for r in recs for b in (r.properties.get("lsh_bands") or ())}) if near else []
        seen: list[Existing] = list(lookup(tenant, hashes, bands))
        for r in recs:
            reason = _match(r, seen, threshold, near)
            if reason:
                out[r.uuid] = reason
            else:
                seen.append(Existing(r.uuid, r.properties.get("doc_id", ""), r.properties["content_hash"],
                                     _basis(r), tuple(r.properties.get("lsh_bands") or ())))
    return out


# (uuid, doc_id, cosine distance) of a record's nearest indexed neighbour, or None
Nearest = tuple[str, str, float] | None


def semantic_duplicates(records: Sequence[ChunkRecord], nearest: Sequence[Nearest],
                        threshold: float) -> dict[str, str]:
    """uuid -> reason for records whose nearest indexed neighbour, of another entity, is at least
    ``threshold`` cosine-similar; ``nearest[i]`` is what the index returned for ``records[i]``."""
    out: dict[str, str] = {}
    for rec, hit in zip(records, nearest, strict=True):
        if hit is None or rec.properties.get("kind") == "sensor" or _same_entity(rec, hit[0], hit[1]):
            continue
        similarity = 1.0 - hit[2]
        if similarity >= threshold:
            out[rec.uuid] = f"duplicate:semantic of {hit[0]} (cosine {similarity:.3f})"
    return out
