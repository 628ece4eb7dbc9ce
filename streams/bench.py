"""``headwater bench``: throughput against the model's own ceiling, freshness, memory.

One run measures, on this machine:
1. the ceiling: raw ``model.encode`` of exactly the chunk texts the pipeline will embed;
2. the pipeline: documents (wiki100) produced to Kafka until every expected chunk is in
   Weaviate -> sustained events/s and chunks/s, and the ratio pipeline / ceiling;
3. freshness: short app events (jeopardy) offered at half the pipeline's sustained
   app-event rate; ingest-to-searchable p50/p95/p99 from the worker's own histogram;
4. the worker's peak RSS.
Figures are medians where repeated; the machine is shared with Kafka and Weaviate.
"""

from __future__ import annotations

import signal
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schemas import AnyEvent, encode, message_key
from streams.settings import Settings


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ceiling(embedder: Any, texts: Sequence[str], repeats: int = 3) -> float:
    """Texts per second of plain ``encode`` at the configured batch size (median of repeats)."""
    embedder.encode(list(texts[:64]))  # warm-up: first call allocates
    rates = []
    for i in range(repeats):
        start = time.perf_counter()
        embedder.encode(list(texts))
        rates.append(len(texts) / (time.perf_counter() - start))
        _say(f"[bench] ceiling run {i + 1}/{repeats}: {rates[-1]:.1f} texts/s")
    return statistics.median(rates)


def expected_records(events: Sequence[AnyEvent], embedder: Any, settings: Settings) -> list[Any]:
    from streams.pipeline import plan_batch
    from streams.transforms.enrich import KafkaPosition
    from streams.transforms.validate import Item

    items = [Item(encode(e), message_key(e), KafkaPosition("bench", 0, i)) for i, e in enumerate(events)]
    plan = plan_batch(items, embedder.token_counter(), document_topic="bench",
                      max_bytes=settings.chunk.max_event_bytes,
                      max_tokens=min(settings.chunk.max_tokens, embedder.max_tokens),
                      overlap_tokens=settings.chunk.overlap_tokens)
    return plan.all_records()


def _count(client: Any, collection: str, tenant: str) -> int:
    if not client.collections.exists(collection):
        return 0
    try:
        agg = client.collections.use(collection).with_tenant(tenant).aggregate.over_all(total_count=True)
    except Exception:  # noqa: BLE001 - the tenant appears with the first write
        return 0
    return int(agg.total_count or 0)


def drain(worker: Any, client: Any, tenant: str, events: Sequence[AnyEvent], expect: int,
          rate: float | None = None, label: str = "") -> float:
    """Produce events (at ``rate``/s or as fast as possible); seconds until ``expect`` objects exist."""
    topics = worker.settings.topics
    by_kind = {"sensor": topics.sensor, "app": topics.app, "document": topics.document}
    start = time.monotonic()
    for i, e in enumerate(events):
        worker.produce(by_kind[e.kind.value], [(message_key(e), encode(e))])
        if rate:
            time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
    last = 0.0
    while (n := _count(client, worker.settings.weaviate.collection, tenant)) < expect:
        if time.monotonic() - last > 5:
            last = time.monotonic()
            _say(f"[bench] {label}: {n}/{expect} chunks indexed, {last - start:.0f}s")
        time.sleep(0.2)
    return time.monotonic() - start


def run(settings: Settings, docs: int = 12, app_events: int = 600, freshness_s: float = 30.0,
        min_ratio: float = 0.8, max_p99_s: float = 2.0) -> dict[str, float]:
    from streams.embedder import Embedder
    from streams.weaviate_client import connect
    from streams.worker_process import Worker
    from tests_data import jeopardy_events, wiki_events  # noqa: F401  (replaced below)

    raise NotImplementedError
