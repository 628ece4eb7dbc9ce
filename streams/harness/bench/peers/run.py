"""``headwater bench --peers``: one job through Headwater and its peers, side by side, in one run.

The job: the first N wiki100 articles, cut into ~200-token chunks, embedded by the same
model (all-MiniLM-L6-v2, or the configured one) and upserted into the same Weaviate, one
fresh collection per system. How the peers run the model is a choice of the run
(``peer_backend``): ``torch``, the way their own documentation does it
(sentence-transformers' ``encode``, fp32), so that Headwater's ONNX backend counts as what
it is, part of Headwater; or ``same``, one embedder object shared with Headwater's backend,
which compares the pipelines alone. Headwater's worker always loads its configured backend. The clock
runs from "the documents are in a Kafka topic" (every record acknowledged; the system is
started, its model loaded and its consumer assigned) to "all chunks are searchable" (the
collection's count equals the expected count). LlamaIndex, not a Kafka system, gets the
documents in memory after they were read back from a topic, and is timed from there.

Systems: a hand-written confluent-kafka loop, LlamaIndex's ``IngestionPipeline``, Quix
Streams with a batching sink, a Headwater worker process, and, on the same articles plus
30 % copies under other ids, Headwater with curation against the hand-written loop.
Extra peers need ``pip install -e '.[bench]'``; missing ones are named and skipped.
"""

from __future__ import annotations

import importlib.util
import statistics
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from streams.embed.base import Embedder
from streams.harness.bench.peers import kafka as pk
from streams.harness.bench.peers.job import PARTITIONS, Job, SystemRun, articles, with_copies
from streams.observe.console import say
from streams.settings import Settings

EXTRA_PEERS = {"llamaindex": ("llama_index.core", "llama_index.vector_stores.weaviate"), "quix": ("quixstreams",)}


def quiet() -> None:
    """Keep the peers' library chatter off the terminal: call before they are imported."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    for name in ("quixstreams", "llama_index", "httpx", "weaviate"):
        logging.getLogger(name).setLevel(logging.ERROR)


def missing_peers() -> dict[str, list[str]]:
    """Extra peers whose packages are not installed: peer -> missing modules."""
    def absent(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except ModuleNotFoundError:
            return True

    gone = {peer: [m for m in modules if absent(m)] for peer, modules in EXTRA_PEERS.items()}
    return {peer: mods for peer, mods in gone.items() if mods}


def _kafka_peer(name: str, settings: Settings, client: Any, embedder: Embedder, job: Job) -> SystemRun:
    """One Kafka peer on ``job``, embedding with ``embedder``."""
    from connectors import kafka_admin

    suffix = uuid.uuid4().hex[:6]
    topic, collection = f"peers-{suffix}-{name}", f"Peers_{suffix}_{name}"
    cut = pk.chunker(embedder, settings)
    expected = sum(len(cut(e.payload.text)) for e in job.events)
    kafka_admin.create_topics(settings.kafka, [topic], PARTITIONS)
    try:
        pk.create_collection(client, collection)
        peer = _make(name, settings, topic, client, collection, embedder, cut)
        took = pk.race(peer, lambda: pk.assigned(settings, peer.group, topic, PARTITIONS),
                       lambda: pk.produce(settings, topic, job.events), lambda: pk.count(client, collection),
                       expected, name)
    except BaseException:
        client.collections.delete(collection)
        raise
    finally:
        kafka_admin.delete_topics(settings.kafka, [topic])
    return SystemRun(name, job.corpus, len(job.events), pk.count(client, collection), expected, job.mb, took,
                   collection, backend=embedder.model_id)


def _make(name: str, settings: Settings, topic: str, client: Any, collection: str, embedder: Embedder,
          cut: pk.Chunker) -> pk.KafkaPeer:
    if name == "quix":
        from streams.harness.bench.peers.quix import QuixPeer

        return QuixPeer(settings, topic, client, collection, embedder, cut)
    return pk.HandWritten(settings, topic, client, collection, embedder, cut)


def _llamaindex(settings: Settings, client: Any, embedder: Embedder, job: Job) -> SystemRun:
    from connectors import kafka_admin
    from streams.harness.bench.peers.llamaindex import ingest

    suffix = uuid.uuid4().hex[:6]
    topic, collection = f"peers-{suffix}-llamaindex", f"Peers_{suffix}_llamaindex"
    kafka_admin.create_topics(settings.kafka, [topic], PARTITIONS)
    try:
        pk.produce(settings, topic, job.events)
        docs = pk.read_back(settings, topic, len(job.events))
    finally:
        kafka_admin.delete_topics(settings.kafka, [topic])
    try:
        chunks, took = ingest(docs, client, collection, embedder, settings)
    except BaseException:
        client.collections.delete(collection)
        raise
    return SystemRun("llamaindex", job.corpus, len(docs), pk.count(client, collection), chunks, job.mb, took,
                   collection, backend=embedder.model_id)


def one_run(settings: Settings, client: Any, embedder: Embedder, docs: int, peers: Sequence[str],
            peer_embedder: Embedder | None = None) -> list[SystemRun]:
    """Every system once on the articles, then the hand-written loop and Headwater on the copies.

    ``embedder`` is Headwater's (the worker loads the same from the same settings; the bench predicts
    its count with it); the peers embed with ``peer_embedder``, or the same object where it is ``None``.
    Collections are kept (the caller checks or drops them: :func:`drop`); topics are deleted.
    """
    from streams.harness.bench.peers.headwater import headwater

    tenant = f"peers-{uuid.uuid4().hex[:6]}"
    plain = articles(docs, tenant)
    copied = with_copies(plain)
    theirs = peer_embedder or embedder
    steps: list[tuple[str, Callable[[], SystemRun]]] = []
    for name in peers:
        if name == "llamaindex":
            steps.append((name, lambda: _llamaindex(settings, client, theirs, plain)))
        elif name in ("handwritten", "quix"):
            steps.append((name, partial(_kafka_peer, name, settings, client, theirs, plain)))
    steps += [("headwater", lambda: headwater(settings, client, embedder, plain, "headwater")),
              ("handwritten", lambda: _kafka_peer("handwritten", settings, client, theirs, copied)),
              ("headwater", lambda: headwater(settings, client, embedder, copied, "headwater"))]
    out: list[SystemRun] = []
    try:
        for name, step in steps:
            out.append(step())
            o = out[-1]
            say(f"[peers] {name} ({o.corpus}): {o.chunks}/{o.expected} chunks searchable, {o.seconds:.1f} s")
    except BaseException:
        drop(client, out)
        raise
    return out


def drop(client: Any, outcomes: Sequence[SystemRun]) -> None:
    """Delete the outcomes' collections (and a Headwater worker's ledger beside its collection)."""
    names = [n for o in outcomes for n in (o.collection, f"{o.collection}Ledger")]
    client.collections.delete([n for n in names if client.collections.exists(n)])


def medians(runs: Sequence[Sequence[SystemRun]]) -> list[SystemRun]:
    """Per system and corpus, the run with the median seconds (the figures of one real run, not a blend)."""
    out = []
    for i, first in enumerate(runs[0]):
        same = sorted((r[i] for r in runs), key=lambda o: o.seconds)
        mid = statistics.median_low([o.seconds for o in same])
        out.append(replace(first, seconds=mid, chunks=next(o.chunks for o in same if o.seconds == mid)))
    return out


def table(outcomes: Sequence[SystemRun]) -> list[str]:
    """A markdown table; "x fastest" compares MB/s with the fastest system on the same corpus."""
    best = {c: max(o.mb_s for o in outcomes if o.corpus == c) for c in {o.corpus for o in outcomes}}
    head = ["system", "corpus", "model", "docs", "chunks stored", "s to searchable", "docs/s", "chunks/s", "MB/s",
            "x fastest"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for o in outcomes:
        lines.append(f"| {o.system} | {o.corpus} | {o.backend} | {o.docs} | {o.chunks} | {o.seconds:.1f} | "
                     f"{o.docs_s:.2f} | {o.chunks_s:.1f} | {o.mb_s:.4f} | {o.mb_s / best[o.corpus]:.2f}x |")
    return lines


def install_hint(missing: dict[str, list[str]]) -> str:
    names = ", ".join(f"{peer} ({' '.join(mods)})" for peer, mods in missing.items())
    note = (" (quixstreams caps confluent-kafka<2.13 and pydantic<2.14: the extra downgrades both)"
            if "quix" in missing else "")
    return f"[peers] not installed, skipped: {names}; install them with: pip install -e '.[bench]'{note}"


def peer_model(settings: Settings, backend: str, ours: Embedder) -> Embedder:
    """How the peers run the model: ``torch`` (sentence-transformers, as their documentation does) or ``same``.

    Without torch installed, ``torch`` falls back to ``same`` and says so.
    """
    from streams import embed
    from streams.embed.base import ModelUnavailable

    if backend == "same" or settings.embed.backend == "torch":
        return ours
    try:
        theirs = embed.load(settings.embed.model_copy(update={"backend": "torch"}))
    except (ModuleNotFoundError, ModelUnavailable):
        say("[peers] torch is not installed: the peers embed with Headwater's backend instead "
            "(pip install -e '.[bench]' brings sentence-transformers)")
        return ours
    theirs.warm_up()
    return theirs


def run(settings: Settings, docs: int = 8, runs: int = 1, peer_backend: str = "torch") -> list[SystemRun]:
    """Measure ``runs`` times, print the table of medians, drop everything it created; returns the medians."""
    from connectors.weaviate.client import connect
    from streams import embed

    missing = missing_peers()
    if missing:
        say(install_hint(missing))
    peers = ["handwritten", *(p for p in EXTRA_PEERS if p not in missing)]
    embedder = embed.load(settings.embed, settings.stack.cache_dir)
    embedder.warm_up()
    theirs = peer_model(settings, peer_backend, embedder)
    client = connect(settings.weaviate)
    done: list[list[SystemRun]] = []
    try:
        for i in range(runs):
            say(f"[peers] run {i + 1}/{runs}: {docs} wiki100 articles through {', '.join(peers)}, headwater")
            outcomes = one_run(settings, client, embedder, docs, peers, theirs)
            drop(client, outcomes)
            done.append(outcomes)
    finally:
        client.close()
    result = medians(done)
    print(f"\nheadwater bench --peers --docs {docs} ({f'median of {runs} runs' if runs > 1 else '1 run'})")
    if theirs is embedder:
        print(f"every system embeds with the same model and backend ({embedder.model_id}): one embedder object in "
              "this process, and the Headwater worker loads the same one from the same settings; this compares "
              "pipelines, not models.")
    else:
        print(f"the peers embed as their documentation does, with sentence-transformers on torch "
              f"({theirs.model_id}); Headwater with its configured backend ({embedder.model_id}). "
              "--peer-backend same gives the peers Headwater's embedder, to compare the pipelines alone.")
    print("Headwater runs with its defaults (curation on); the peers store every chunk.")
    print("\n".join(table(result)) + "\n", flush=True)
    return result
