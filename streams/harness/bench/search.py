"""``headwater bench --search N``: search API latency over an index of N chunks.

The index: real texts (the jeopardy records and wiki100 chunks), embedded once by the model,
repeated until N objects, each repeat with its own id, a word of its own and its base vector
moved by a little noise (so that HNSW sees N distinct points and BM25 N documents). That is
what a search costs at that size; embedding N chunks for real would take this machine hours.

The clock: a real ``POST /v1/search`` under uvicorn, sequential, from request to parsed
answer, query embedding, hybrid search in Weaviate and the response included. Real questions
(jeopardy), k = 5; the first 20 are warm-up and not timed.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import numpy as np

from schemas.chunk import PROPERTIES, ChunkRecord
from streams.observe.console import say
from streams.observe.metrics import percentile
from streams.settings import Settings

TENANT = "bench-search"
DEFAULTS = {"text": "", "text[]": [], "int": 0, "number": 0.0, "date": datetime(2026, 1, 1, tzinfo=UTC),
            "bool": False}


def base_texts(wiki_articles: int = 10) -> list[tuple[str, str]]:
    """(kind, text) of real texts: the jeopardy records, then wiki100 chunks of ~200 tokens."""
    from connectors import datasets
    from streams.transforms.chunk import chunk_text

    out = [("app", f"Category: {r['Category']}. Question: {r['Question']} Answer: {r['Answer']}")
           for r in datasets.jeopardy()]
    for i in range(wiki_articles):
        text = datasets.wiki_article(i)
        out += [("document", c.text) for c in chunk_text(text, lambda s: len(s.split()), 150, 0)]
    return out


def records(base: list[tuple[str, str]], vectors: np.ndarray, n: int, seed: int = 7
            ) -> tuple[list[ChunkRecord], np.ndarray]:
    """N objects from the base texts and their vectors (pure, seeded)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n) % len(base)
    vecs = vectors[idx] + rng.normal(0.0, 0.02, (n, vectors.shape[1])).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    out = []
    for i, b in enumerate(idx):
        kind, text = base[b]
        text = text if i < len(base) else f"{text} (copy {i // len(base)})"
        props = {k: DEFAULTS[p.type] for k, p in PROPERTIES.items()}
        props |= {"text": text, "title": f"{kind} {b}", "kind": kind, "source": "bench", "readers": ["*"],
                  "event_id": f"search-{i}", "entity_id": f"search-{b}", "record_type": "chunk",
                  "content_hash": f"h{i}", "chunk_count": 1}
        out.append(ChunkRecord(str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-search/{i}")), TENANT, text, props))
    return out, vecs


def run(settings: Settings, n: int = 100_000, queries: int = 200, wiki_articles: int = 10) -> dict[str, float]:
    """Build the index, time ``queries`` searches through the API, drop the index; returns the figures."""
    import httpx

    from connectors import datasets
    from connectors.weaviate import target
    from connectors.weaviate.client import connect
    from streams import embed
    from streams.harness.serving import serving
    from streams.retrieve.api import create_api

    name = f"BenchSearch{uuid.uuid4().hex[:8]}"
    s = settings.model_copy(update={
        "weaviate": settings.weaviate.model_copy(update={"collection": name}),
        "auth": settings.auth.model_copy(update={"anonymous": True})})
    embedder = embed.load(s.embed, s.stack.cache_dir)
    base = base_texts(wiki_articles)
    say(f"[bench] search: embedding {len(base)} real texts once (jeopardy and wiki100 chunks)")
    vectors = embedder.encode([t for _, t in base])
    objs, vecs = records(base, vectors, n)
    client = connect(s.weaviate)
    f: dict[str, float] = {"search_chunks": float(n)}
    try:
        target.ensure_collection(client, name)
        started, step = time.monotonic(), 2_000
        for i in range(0, n, step):
            failures = target.write(client, name, objs[i:i + step], vecs[i:i + step], batch_max=500)
            if failures:
                raise RuntimeError(f"weaviate refused {len(failures)} objects: {failures[0].reason}")
            if (i + step) % 20_000 == 0 or i + step >= n:
                say(f"[bench] search: {min(i + step, n):,}/{n:,} chunks written")
        f["search_write_s"] = time.monotonic() - started
        asked = [f"{r['Question']} ({r['Category'].lower()})" for r in datasets.jeopardy()[:queries + 20]]
        lat: list[float] = []
        hits = 0
        with serving(create_api(s), name="search-api", lifespan="on") as url, httpx.Client(timeout=30) as http:
            for i, q in enumerate(asked):
                t0 = time.perf_counter()
                res = http.post(f"{url}/v1/search", json={"query": q, "tenant": TENANT, "k": 5})
                res.raise_for_status()
                found = res.json()
                if i >= 20:
                    lat.append(time.perf_counter() - t0)
                    hits += len(found) == 5
        f |= {"search_p50_ms": 1000 * percentile(lat, 50), "search_p99_ms": 1000 * percentile(lat, 99),
              "search_queries": float(len(lat)), "search_full_answers": float(hits)}
    finally:
        client.collections.delete(name)
        client.close()
    return f


def report(f: dict[str, float], max_p50_ms: float = 50.0, max_p99_ms: float = 200.0) -> None:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "BELOW TARGET"

    print(f"\nheadwater bench --search {f['search_chunks']:.0f} (sequential POST /v1/search, k = 5, "
          f"{f['search_queries']:.0f} real questions)\n"
          f"  index written in {f['search_write_s']:.0f} s; {f['search_full_answers']:.0f} answers with 5 hits\n"
          f"  latency p50 {f['search_p50_ms']:.1f} ms (target <= {max_p50_ms:.0f}): "
          f"{verdict(f['search_p50_ms'] <= max_p50_ms)}; p99 {f['search_p99_ms']:.1f} ms (target <= "
          f"{max_p99_ms:.0f}): {verdict(f['search_p99_ms'] <= max_p99_ms)}\n", flush=True)
