"""``headwater bench --peers`` on 2 wiki100 articles against the real Kafka, Weaviate and model.

Every available system runs (the hand-written loop and Headwater always; LlamaIndex and
Quix Streams where the venv has them), the peers embedding with sentence-transformers on
torch, Headwater with its own backend. Outcomes, not timings: each collection holds
exactly what its system must store (Headwater's, on the plain corpus, by the independent
oracle), the table has a positive row per system, and on the
corpus with copies Headwater stores fewer chunks than the peer that embeds them.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.harness.bench.peers.job import articles
from streams.harness.bench.peers.kafka import chunker, count
from streams.harness.bench.peers.run import EXTRA_PEERS, drop, missing_peers, one_run, peer_model, table
from streams.harness.oracle import compare, expected, stored
from streams.settings import Settings

pytestmark = pytest.mark.integration


def _rows(lines: list[str]) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_each_system_stores_its_chunks_and_headwater_drops_the_copies(settings: Settings, weaviate_client: Any,
                                                                      embedder: Any) -> None:
    peers = ["handwritten", *(p for p in EXTRA_PEERS if p not in missing_peers())]
    theirs = peer_model(settings, "torch", embedder)  # the peers as their documentation runs the model
    assert theirs.model_id != embedder.model_id
    outcomes = one_run(settings, weaviate_client, embedder, 2, peers, theirs)
    try:
        plain = {o.system: o for o in outcomes if o.corpus == "wiki100"}
        copied = {o.system: o for o in outcomes if o.corpus != "wiki100"}
        assert set(plain) == {*peers, "headwater"} and set(copied) == {"handwritten", "headwater"}
        for o in outcomes:
            assert count(weaviate_client, o.collection, o.tenant) == o.expected == o.chunks, o

        # What each must store, from outside the bench: the chunker's cut for a peer, the oracle for Headwater.
        job = articles(2, plain["headwater"].tenant or "")
        cut = chunker(embedder, settings)
        assert plain["handwritten"].chunks == sum(len(cut(e.payload.text)) for e in job.events)
        ours = plain["headwater"]
        diff = compare(expected(job.events), stored(weaviate_client, ours.collection, [ours.tenant or ""]))
        assert diff.clean, diff.report()

        # The copies cost the peer embeddings and objects; Headwater drops them and stores nothing more (half of
        # them are near copies: the oracle, which knows exact copies only, is not asked about this corpus).
        assert copied["handwritten"].chunks > plain["handwritten"].chunks
        assert copied["headwater"].chunks < copied["handwritten"].chunks
        assert copied["headwater"].chunks == plain["headwater"].chunks

        rows = _rows(table(outcomes))
        assert [(r[0], r[1]) for r in rows] == [(o.system, o.corpus) for o in outcomes]
        assert {r[2] for r in rows if r[0] == "headwater"} == {embedder.model_id}
        assert {r[2] for r in rows if r[0] != "headwater"} == {theirs.model_id}
        for r in rows:
            figures = [float(c.rstrip("x")) for c in r[3:]]
            assert all(f > 0 for f in figures), r
    finally:
        drop(weaviate_client, outcomes)
    assert not any(weaviate_client.collections.exists(o.collection) for o in outcomes)
