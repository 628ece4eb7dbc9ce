"""``headwater bench``: throughput against the model's own ceiling, freshness, memory.

One run measures, on this machine:
1. the ceiling: raw ``model.encode`` of exactly the chunk texts the pipeline will embed;
2. the pipeline: documents (wiki100) produced to Kafka until every expected chunk is in
   Weaviate -> sustained events/s and chunks/s, and the ratio pipeline / ceiling;
3. freshness: short app events (jeopardy) offered at half and at 80 % of the pipeline's
   sustained app-event rate, each to a fresh worker; ingest-to-searchable p50/p95/p99 from
   the worker's own histogram; and how soon the first document chunks were searchable;
4. the worker's peak RSS.
Figures are medians where repeated; the machine is shared with Kafka and Weaviate.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from schemas import AnyEvent, encode, message_key
from streams.observe.console import say
from streams.settings import Settings


def ceiling(embedder: Any, texts: Sequence[str], repeats: int = 3) -> float:
    """Texts per second of plain ``encode`` at the configured batch size (median of repeats)."""
    embedder.encode(list(texts[:64]))  # warm-up: first call allocates
    rates = []
    for i in range(repeats):
        start = time.perf_counter()
        embedder.encode(list(texts))
        rates.append(len(texts) / (time.perf_counter() - start))
        say(f"[bench] ceiling run {i + 1}/{repeats}: {rates[-1]:.1f} texts/s")
    return statistics.median(rates)


def expected_records(events: Sequence[AnyEvent], embedder: Any, settings: Settings) -> list[Any]:
    """The objects the worker will store for ``events`` (uuid, event id, text to embed): what a benchmark
    waits for, predicted with the worker's own transforms (:mod:`streams.harness.bench.predict`, not the
    oracle: a benchmark times the worker, the tests judge it)."""
    from streams.harness.bench.predict import Curating, predict

    cur = settings.curate
    max_tokens = min(settings.chunk.max_tokens, embedder.max_tokens)
    curating = Curating(redact=cur.redact_pii, near_threshold=cur.near_threshold) if cur.enabled else None
    return predict(events, embedder.token_counter(), max_tokens=max_tokens,
                   overlap_tokens=min(settings.chunk.overlap_tokens, max_tokens // 2),
                   curating=curating, sensor_state=cur.enabled and cur.sensor_current_state)


def _count(client: Any, collection: str, tenant: str) -> int:
    if not client.collections.exists(collection):
        return 0
    try:
        agg = client.collections.use(collection).with_tenant(tenant).aggregate.over_all(total_count=True)
    except Exception:  # noqa: BLE001 - the tenant appears with the first write
        return 0
    return int(agg.total_count or 0)


def _complete(client: Any, collection: str, tenant: str, expected: dict[str, int]) -> bool:
    """Whether every object of at least one of the ``expected`` events (event id -> objects) is stored."""
    from weaviate.classes.aggregate import GroupByAggregate

    try:
        agg = client.collections.use(collection).with_tenant(tenant).aggregate.over_all(
            group_by=GroupByAggregate(prop="event_id", limit=len(expected)), total_count=True)
    except Exception:  # noqa: BLE001 - the tenant appears with the first write
        return False
    return any(g.total_count >= expected.get(str(g.grouped_by.value), 1 << 30) for g in agg.groups)


class Offered(NamedTuple):
    """What :func:`offer` measured, in seconds from the first record Kafka acknowledged."""

    took: float  # until every expected object existed
    first: float  # until every object of the first complete ``first`` event existed (else ``took``)
    setup: float  # the load generator's own start: from the first submit to the first acknowledgement


def offer(worker: Any, client: Any, tenant: str, events: Sequence[AnyEvent], expect: int,
          rate: float | None = None, label: str = "", first: dict[str, int] | None = None) -> Offered:
    """Produce events (at ``rate``/s or as fast as possible); seconds until ``expect`` objects exist,
    and seconds until every object of one of the ``first`` events (event id -> objects) did, the
    first to be complete, whichever it is (polled every 0.1 s: an upper bound).

    The clock starts when Kafka acknowledged the first record: a new idempotent producer first
    fetches metadata and a producer id (0.3-1 s on 2 busy cores), which is the load generator's
    start, not the pipeline's work; it is returned as ``setup``.
    """
    from connectors.producer import Producer

    topics = worker.settings.topics
    producer = Producer(worker.settings.kafka, client_id="headwater-bench", linger_ms=2)
    submitted = time.monotonic()
    acked: list[float] = []
    pending = []
    for i, e in enumerate(events):
        pending.append(producer.submit(topics.for_kind(e.kind.value), encode(e), message_key(e)))
        if i == 0:
            pending[0].add_done_callback(lambda _: acked.append(time.monotonic()))
        if rate:
            time.sleep(max(0.0, submitted + (i + 1) / rate - time.monotonic()))
    for future in pending:
        future.result(60)
    producer.close()
    start = acked[0] if acked else submitted
    collection = worker.settings.weaviate.collection
    last, first_s = start, None
    while (n := _count(client, collection, tenant)) < expect:
        if first and first_s is None and n and _complete(client, collection, tenant, first):
            first_s = time.monotonic() - start
        if time.monotonic() - last > 5:
            last = time.monotonic()
            say(f"[bench] {label}: {n}/{expect} chunks indexed after {last - start:.0f}s")
        time.sleep(0.1)
    took = time.monotonic() - start
    return Offered(took, took if first_s is None else first_s, start - submitted)


def fresh_worker(settings: Settings, logs: Path, **extra: str) -> Any:
    """A worker on fresh topics, collection and embedding cache: nothing is pre-computed."""
    from streams.harness.worker_process import Worker

    cache = logs.parent / "bench-cache" / uuid.uuid4().hex
    w = Worker.create(settings, f"bench{uuid.uuid4().hex[:6]}", logs,
                      overrides={"HEADWATER_STACK__DATA_DIR": str(cache), **extra})
    say(f"[bench] starting a worker on fresh topics (log: {w.log_path})")
    w.start()
    return w


def run(settings: Settings, docs: int = 8, app_events: int = 600, freshness_s: float = 30.0,
        min_ratio: float = 0.9, min_app_ratio: float = 0.85, max_p99_s: float = 1.0) -> dict[str, float]:
    """Run every phase and print the figures; returns them."""
    from connectors import datasets
    from connectors.weaviate.client import connect
    from streams import embed

    logs = settings.stack.data_dir / "logs"
    embedder = embed.load(settings.embed)
    doc_events = datasets.wiki_events("bench-docs", docs)
    app = datasets.jeopardy_events("bench-app", app_events)
    doc_expected = expected_records(doc_events, embedder, settings)
    doc_texts = [r.text for r in doc_expected]
    per_article = Counter(r.event_id for r in doc_expected)
    app_texts = [r.text for r in expected_records(app, embedder, settings)]
    say(f"[bench] workload: {docs} wiki100 articles -> {len(doc_texts)} chunks; {len(app)} jeopardy app events")
    f: dict[str, float] = {"doc_chunks": len(doc_texts), "app_events": len(app)}
    f["ceiling_doc_chunks_s"] = ceiling(embedder, doc_texts)
    f["ceiling_app_texts_s"] = ceiling(embedder, app_texts)

    client = connect(settings.weaviate)
    worker = fresh_worker(settings, logs)
    try:
        took, f["doc_first_s"], f["doc_setup_s"] = offer(worker, client, "bench-docs", doc_events, len(doc_texts),
                                                         label="documents", first=dict(per_article))
        f["doc_first_chunks"] = min(per_article.values())  # the model's time for the shortest: a lower bound
        f["pipeline_doc_chunks_s"] = len(doc_texts) / took
        f["pipeline_doc_events_s"] = docs / took
        f["doc_elapsed_s"] = took
        time.sleep(1)  # the last batch's counters land just after its objects
        f |= {f"doc_stage_{k}_s": v for k, v in worker.metrics()["seconds"].items()}
        before = worker.metrics()["seconds"]
        took, _, f["app_setup_s"] = offer(worker, client, "bench-app", app, len(app_texts), label="app events")
        f["pipeline_app_events_s"] = len(app) / took
        time.sleep(1)
        f |= {f"app_stage_{k}_s": v - before.get(k, 0.0) for k, v in worker.metrics()["seconds"].items()}
        f["worker_peak_rss_mb"] = worker.peak_rss_mb()
    finally:
        worker.kill(signal.SIGTERM)
        worker.drop()
    try:
        for share, name in ((0.5, "fresh"), (0.8, "fresh80")):
            f |= freshness(settings, client, logs, f["pipeline_app_events_s"] * share, freshness_s, name)
            f[f"{name}_share"] = share
    finally:
        client.close()
    shutil.rmtree(logs.parent / "bench-cache", ignore_errors=True)
    f["ratio_docs"] = f["pipeline_doc_chunks_s"] / f["ceiling_doc_chunks_s"]
    f["ratio_app"] = f["pipeline_app_events_s"] / f["ceiling_app_texts_s"]
    report(f, min_ratio, min_app_ratio, max_p99_s)
    return f


def freshness(settings: Settings, client: Any, logs: Path, rate: float, seconds: float, name: str) -> dict[str, float]:
    """App events offered at ``rate``/s to a fresh worker: its ingest-to-searchable percentiles, and RSS.

    A fresh worker has its own topics, collection and embedding cache: the same jeopardy records as
    an earlier phase are new to it.
    """
    from connectors import datasets

    events = datasets.jeopardy_events(f"bench-{name}", min(max(20, int(rate * seconds)), 1000))
    worker = fresh_worker(settings, logs)
    try:
        say(f"[bench] freshness: {len(events)} app events offered at {rate:.0f}/s")
        offer(worker, client, f"bench-{name}", events, len(events), rate=rate, label="freshness")
        lat = worker.metrics()["freshness_s"]
        return {f"{name}_rate_s": rate, f"{name}_p50_s": lat["p50"], f"{name}_p95_s": lat["p95"],
                f"{name}_p99_s": lat["p99"], f"{name}_rss_mb": worker.peak_rss_mb()}
    finally:
        worker.kill(signal.SIGTERM)
        worker.drop()


def report(f: dict[str, float], min_ratio: float = 0.9, min_app_ratio: float = 0.85, max_p99_s: float = 1.0,
           max_p99_80_s: float = 2.0, max_first_s: float = 2.0, max_rss_mb: float = 1024.0) -> None:
    """The figures beside the targets of issue 12 (documents, first chunks, app events, freshness at half
    and at 80 % of the sustained rate, RSS)."""
    def verdict(ok: bool) -> str:
        return "ok" if ok else "BELOW TARGET"

    def stages(workload: str) -> str:
        names = ("plan", "lookup", "embed", "write")
        return ", ".join(f"{k} {f.get(f'{workload}_stage_{k}_s', 0):.1f}s" for k in names)

    lines = [
        "headwater bench (medians; model ceiling measured in the same run on this machine)",
        f"  documents: {f['doc_chunks']:.0f} chunks; ceiling {f['ceiling_doc_chunks_s']:.1f} chunks/s; "
        f"pipeline {f['pipeline_doc_chunks_s']:.1f} chunks/s ({f['pipeline_doc_events_s']:.2f} docs/s)",
        f"    ratio pipeline/ceiling {f['ratio_docs']:.2f} (target >= {min_ratio}): "
        f"{verdict(f['ratio_docs'] >= min_ratio)}",
        f"    {f['doc_elapsed_s']:.1f}s in all; worker stages: {stages('doc')}",
        f"  app events: {f['app_events']:.0f}; ceiling {f['ceiling_app_texts_s']:.1f} texts/s; "
        f"pipeline {f['pipeline_app_events_s']:.1f} events/s; ratio {f['ratio_app']:.2f} (target >= {min_app_ratio}): "
        f"{verdict(f['ratio_app'] >= min_app_ratio)}",
        f"    {f['app_events'] / f['pipeline_app_events_s']:.1f}s in all; worker stages: {stages('app')}",
        f"    first article searchable {f['doc_first_s']:.1f}s after produce, whole (target ~{max_first_s:.0f}s: "
        f"{verdict(f['doc_first_s'] <= max_first_s)}); the model alone needs "
        f"{f['doc_first_chunks'] / f['ceiling_doc_chunks_s']:.1f}s for the shortest "
        f"({f['doc_first_chunks']:.0f} chunks)",
    ]
    lines.append(f"    clocks start at the first record Kafka acknowledged; the load generator's producer took "
                 f"{f.get('doc_setup_s', 0):.2f}s / {f.get('app_setup_s', 0):.2f}s to get there (not counted)")
    for name, limit in (("fresh", max_p99_s), ("fresh80", max_p99_80_s)):
        lines.append(
            f"  freshness at {f[f'{name}_rate_s']:.0f} app events/s ({f[f'{name}_share']:.0%} of the sustained rate): "
            f"p50 {f[f'{name}_p50_s']:.2f}s p95 {f[f'{name}_p95_s']:.2f}s p99 {f[f'{name}_p99_s']:.2f}s "
            f"(target p99 <= {limit:g}s): {verdict(f[f'{name}_p99_s'] <= limit)}")
    rss = max(f["worker_peak_rss_mb"], f["fresh_rss_mb"], f["fresh80_rss_mb"])
    lines.append(f"  worker peak RSS: {rss:.0f} MiB (target <= {max_rss_mb:.0f} MiB): {verdict(rss <= max_rss_mb)}")
    print("\n" + "\n".join(lines) + "\n", flush=True)
