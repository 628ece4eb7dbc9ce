"""Documents: intake (fingerprint each change), then, against the ledger, which change wins and what to write.

A document is planned up to its fingerprint when it arrives: which change wins is decided against
the indexed state (:mod:`streams.transforms.order`), and only the winner, if its content changed,
is chunked (:func:`chunk_document`), so an unchanged document costs a render and a hash, never a
chunking or an embedding.

Documents against the ledger: which change wins, which chunks to write, which to delete.

The ledger (one object per document in its own Weaviate collection, no vectors) holds
what is indexed: the winning version (deletes included), the document fingerprint and
one fingerprint per chunk. A document whose fingerprint is unchanged writes nothing;
otherwise only chunks whose fingerprint changed are embedded and written, and chunks
that no longer exist are deleted. The ledger entry is written last, after the chunks,
so a crash in between only repeats idempotent work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas import DocumentEvent
from schemas.chunk import ChunkRecord, DocState
from streams.plan.base import DocSource, Plan, curate, noted, redacted
from streams.transforms.chunk import chunk_text
from streams.transforms.curate.policy import Drop
from streams.transforms.enrich import chunk_uuid, enrich
from streams.transforms.fingerprint import chunk_fingerprint, document_fingerprint
from streams.transforms.order import DocChange, resolve
from streams.transforms.render import render
from streams.transforms.validate import Item


def doc_change(plan: Plan, key: tuple[str, str], change: DocChange, source: DocSource) -> None:
    plan.doc_changes[key].append(DocChange(change.version, change.deleted, change.content_hash, len(plan.sources)))
    plan.sources.append(source)


def add_document(plan: Plan, item: Item, event: DocumentEvent, skew: float) -> None:
    key = (event.tenant, event.payload.doc_id)
    if event.payload.deleted:
        doc_change(plan, key, DocChange(event.payload.version, True), DocSource(item, event, None, skew))
        return
    rendered = redacted(plan, event, render(event))
    c = plan.chunking
    digest = document_fingerprint(rendered.title, event.payload.uri, rendered.text, event.readers, c.max_tokens,
                                  c.overlap_tokens)
    doc_change(plan, key, DocChange(event.payload.version, False, digest), DocSource(item, event, rendered, skew))


def chunk_document(plan: Plan, change: DocChange) -> tuple[list[ChunkRecord], list[Drop]]:
    """Chunk, enrich and curate the document a winning change carries (pure)."""
    source = plan.sources[change.position]
    assert source.event is not None and source.rendered is not None, "only upserts are chunked"
    c = plan.chunking
    chunks = chunk_text(source.rendered.text, c.count_tokens, c.max_tokens, c.overlap_tokens)
    records = noted(enrich(source.event, source.rendered, chunks, source.item.position), source.clock_skew_s)
    drops: list[Drop] = []
    if c.curation is not None:
        records, drops = curate(c.curation, source.event, records)
    for rec in records:
        plan.origin[rec.uuid] = source.item
    return records, drops


@dataclass
class DocWork:
    """What one document needs: records to write, uuids to delete, the ledger entry to write after."""

    tenant: str
    doc_id: str
    state: DocState
    event_id: str
    records: list[ChunkRecord] = field(default_factory=list)
    delete_ids: list[str] = field(default_factory=list)
    delete_all: bool = False
    delete_from: int | None = None  # delete chunks at this index and above (shrinks; pre-ledger leftovers)

    def forget(self, uuids: Iterable[str], refused: bool = False) -> None:
        """These records will not be stored (duplicates, refused): mark their chunks absent.

        A chunk Weaviate ``refused`` also leaves the document's fingerprint unknown, so that the same
        content, replayed from its dead letter, is written rather than taken for unchanged.
        """
        gone = set(uuids)
        if not gone.intersection(r.uuid for r in self.records):
            return
        hashes = list(self.state.chunk_hashes)
        for rec in self.records:
            if rec.uuid in gone:
                hashes[rec.properties["chunk_index"]] = ""
                self.delete_ids.append(rec.uuid)
        self.records = [r for r in self.records if r.uuid not in gone]
        content_hash = "" if refused else self.state.content_hash
        self.state = DocState(self.state.version, self.state.deleted, content_hash, tuple(hashes), self.state.model_id)


@dataclass
class Documents:
    work: list[DocWork] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    superseded: int = 0  # changes that lost to a higher version, or were overtaken in the batch
    unchanged: int = 0  # winners whose content was already indexed: nothing written

    def records(self) -> list[ChunkRecord]:
        return [r for w in self.work for r in w.records]


def plan_documents(plan: Plan, indexed: dict[tuple[str, str], DocState], model_id: str) -> Documents:
    """Resolve every document of the batch against what is indexed (pure, given ``indexed``)."""
    out = Documents()
    for key, changes in plan.doc_changes.items():
        old = indexed.get(key)
        res = resolve(old, changes)
        out.superseded += res.superseded
        if res.winner is None or res.state is None:
            continue
        source = plan.sources[res.winner.position]
        event_id = source.event.event_id if source.event is not None else ""
        work = DocWork(key[0], key[1], res.state, event_id)
        if res.state.deleted:
            work.delete_all = True
        elif _same_content(old, res.state, model_id):
            assert old is not None
            out.unchanged += 1
            if old.version == res.state.version:
                continue
            work.state = DocState(res.state.version, False, old.content_hash, old.chunk_hashes, old.model_id)
        else:
            records, drops = chunk_document(plan, res.winner)
            out.drops += drops
            _diff(work, old, records, model_id)
        out.work.append(work)
    return out


def _same_content(old: DocState | None, new: DocState, model_id: str) -> bool:
    return old is not None and not old.deleted and old.content_hash == new.content_hash and old.model_id == model_id


def _diff(work: DocWork, old: DocState | None, records: list[ChunkRecord], model_id: str) -> None:
    count = max((r.properties["chunk_index"] + 1 for r in records), default=0)
    count = max(count, records[0].properties["chunk_count"] if records else 0)
    hashes = [""] * count
    for rec in records:
        hashes[rec.properties["chunk_index"]] = chunk_fingerprint(rec, model_id)
    before = old.chunk_hashes if old is not None and not old.deleted and old.model_id == model_id else ()
    work.records = [r for r in records if _changed(before, hashes, r.properties["chunk_index"])]
    work.delete_ids = [chunk_uuid(work.tenant, "document", work.doc_id, i)
                       for i, h in enumerate(before) if h and (i >= count or not hashes[i])]
    if old is None or old.deleted or len(before) > count or old.model_id != model_id:
        work.delete_from = count  # what the ledger may not know of: older layouts, another model
    work.state = DocState(work.state.version, False, work.state.content_hash, tuple(hashes), model_id)


def _changed(before: tuple[str, ...], after: list[str], index: int) -> bool:
    return index >= len(before) or before[index] != after[index]


def ledger_record(work: DocWork) -> ChunkRecord:
    s = work.state
    props = {"doc_id": work.doc_id, "version": s.version, "deleted": s.deleted, "content_hash": s.content_hash,
             "chunk_hashes": list(s.chunk_hashes), "model_id": s.model_id, "event_id": work.event_id}
    return ChunkRecord(chunk_uuid(work.tenant, "ledger", work.doc_id, 0), work.tenant, "", props)
