"""``headwater bench --curation``: what curation costs, and what it gains on text with copies.

Cost: CPU seconds of the worker's own planner with curation on and off, per 1,000 events.
Gain: end-to-end events/s to searchable on a corpus where 30 % of the events repeat an
earlier text under another id, with curation (and the embedding cache) on, then off.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from schemas import AnyEvent
from streams.harness.bench.throughput import expected_records, fresh_worker, offer
from streams.observe.console import say
from streams.settings import Settings


def _plan(events: Sequence[AnyEvent], count: Any, settings: Settings, max_tokens: int) -> Any:
    """The worker's own planner over ``events`` as one batch (to measure its cost, not to check it)."""
    from schemas import encode, message_key
    from schemas.chunk import KafkaPosition
    from streams.agents.runtime import curation
    from streams.plan import plan_batch
    from streams.transforms.validate import Item

    cur = settings.curate
    items = [Item(encode(e), message_key(e), KafkaPosition("bench", 0, i)) for i, e in enumerate(events)]
    return plan_batch(items, count, document_topic="bench", max_bytes=settings.kafka.max_event_bytes,
                      max_tokens=max_tokens, overlap_tokens=min(settings.chunk.overlap_tokens, max_tokens // 2),
                      now=datetime.now(UTC), max_clock_skew_s=settings.worker.max_clock_skew_s,
                      curation=curation(cur) if cur.enabled else None)


def duplicate_corpus(n: int = 1000, dup_share: float = 0.3, seed: int = 7) -> list[AnyEvent]:
    """Real jeopardy records where ``dup_share`` of the events repeat an earlier text under a new id."""
    import random

    from connectors import datasets

    rnd = random.Random(seed)
    unique = datasets.jeopardy_events("bench-curate", int(n * (1 - dup_share)))
    copies = []
    for i in range(n - len(unique)):
        src = rnd.choice(unique)
        copies.append(src.model_copy(update={"event_id": f"copy-{i}-{src.event_id}"}))
    events = unique + copies
    rnd.shuffle(events)
    return events


def curation_cost(settings: Settings, embedder: Any, events: Sequence[AnyEvent]) -> dict[str, float]:
    """CPU seconds per 1,000 events of the pure curation work (plan with minus plan without)."""
    count = embedder.token_counter()
    off = settings.model_copy(update={"curate": settings.curate.model_copy(update={"enabled": False})})
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(3):
        for label, s in (("on", settings), ("off", off)):
            start = time.process_time()
            _plan(events, count, s, min(s.chunk.max_tokens, embedder.max_tokens))
            cpu[label].append(time.process_time() - start)
    per_k = 1000 / len(events)
    return {"plan_cpu_on_s_per_1k": statistics.median(cpu["on"]) * per_k,
            "plan_cpu_off_s_per_1k": statistics.median(cpu["off"]) * per_k}


def curation_gain(settings: Settings, events: Sequence[AnyEvent], expect_on: int) -> dict[str, float]:
    """End-to-end events/s with curation (and the embedding cache) on, then off."""
    from connectors.weaviate.client import connect

    logs = settings.stack.data_dir / "logs"
    client = connect(settings.weaviate)
    out: dict[str, float] = {}
    try:
        for label, extra, expect in (("on", {}, expect_on),
                                     ("off", {"HEADWATER_CURATE__ENABLED": "false",
                                              "HEADWATER_CURATE__CACHE_ENABLED": "false"}, len(events))):
            w = fresh_worker(settings, logs, **extra)
            try:
                took, _, _ = offer(w, client, "bench-curate", events, expect, label=f"curation {label}")
                out[f"curation_{label}_events_s"] = len(events) / took
            finally:
                w.kill(signal.SIGTERM)
                w.drop()
    finally:
        client.close()
    return out


def run(settings: Settings, n: int = 1000) -> dict[str, float]:
    """Curation cost (CPU of the pure stages) and gain (end-to-end events/s), printed; returns the figures."""
    from streams import embed

    embedder = embed.load(settings.embed)
    events = duplicate_corpus(n)
    expect_on = len(expected_records(events, embedder, settings))
    say(f"[bench] curation: {len(events)} jeopardy events, 30% repeated text; {expect_on} survive curation")
    f = curation_cost(settings, embedder, events) | curation_gain(settings, events, expect_on)
    shutil.rmtree(settings.stack.data_dir / "bench-cache", ignore_errors=True)
    f["gain"] = f["curation_on_events_s"] / f["curation_off_events_s"]
    on, off = f["plan_cpu_on_s_per_1k"], f["plan_cpu_off_s_per_1k"]
    lines = [
        f"headwater bench --curation ({len(events)} real jeopardy events, 30% duplicate text)",
        f"  CPU of the pure stages per 1,000 events (median of 3): {on:.2f}s with curation, {off:.2f}s without;"
        f" curation adds {on - off:.2f}s",
        f"  end to end: {f['curation_on_events_s']:.1f} events/s with curation, "
        f"{f['curation_off_events_s']:.1f} events/s without: gain {f['gain']:.2f}x",
        f"  objects indexed: {expect_on} instead of {len(events)}",
    ]
    print("\n" + "\n".join(lines) + "\n", flush=True)
    return f
