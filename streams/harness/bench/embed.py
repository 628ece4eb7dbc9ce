"""Embedding backends side by side: speed, agreement with torch, retrieval quality, peak memory.

Real data only: wiki100 chunks as the chunker cuts them (200 tokens, overlap 32) and a
jeopardy QA set (index "Category: .. Question: .. Answer: ..", query with the question).
The quality gate in ``tests/unit/streams/embed/test_onnx.py`` uses the same functions.

    python -m streams.harness.bench.embed [--chunks 1000] [--batch-size 32] [--cache-dir DIR]

Prints one row per backend: texts/s at the batch size (best of ``--rounds``, backends
alternating), ratio to torch, mean and min cosine to the torch vectors, QA recall@1 and MRR@5
(question -> its whole record, and the harder question -> "Category: .. Answer: .."), load
seconds (a fresh ``--cache-dir`` times the first export) and the peak RSS of a process that
only loads the backend and encodes 500 chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streams.embed.base import Embedder
from streams.observe.console import say, show
from streams.settings import EmbedSettings, StackSettings

BACKENDS = ("torch", "onnx", "onnx-int8")


def real_chunks(count_tokens: Callable[[str], int], n: int = 1000, max_tokens: int = 200,
                overlap_tokens: int = 32) -> list[str]:
    """The first ``n`` chunks of the wiki100 articles in file order, as the worker would cut them."""
    from connectors.datasets import wiki_article, wiki_files
    from streams.transforms.chunk import chunk_text

    texts: list[str] = []
    for i in range(len(wiki_files())):
        texts += [c.text for c in chunk_text(wiki_article(i), count_tokens, max_tokens, overlap_tokens)]
        if len(texts) >= n:
            break
    return texts[:n]


def qa_set() -> tuple[list[str], list[str]]:
    """Jeopardy records as (documents, queries): query ``i`` should find document ``i``."""
    from connectors.datasets import jeopardy

    records = jeopardy()
    docs = [f"Category: {r['Category']}. Question: {r['Question']} Answer: {r['Answer']}" for r in records]
    return docs, [r["Question"] for r in records]


def answer_set() -> tuple[list[str], list[str]]:
    """Harder than :func:`qa_set`: documents "Category: .. Answer: ..", so the question is not in its document."""
    from connectors.datasets import jeopardy

    records = jeopardy()
    return [f"Category: {r['Category']}. Answer: {r['Answer']}" for r in records], [r["Question"] for r in records]


@dataclass(frozen=True)
class Retrieval:
    recall_at_1: float
    mrr_at_5: float


def retrieval(doc_vecs: np.ndarray, query_vecs: np.ndarray) -> Retrieval:
    """Exact search by dot product (the vectors are unit length): where each query's own document ranks."""
    scores = query_vecs @ doc_vecs.T
    own = scores[np.arange(len(scores)), np.arange(len(scores))]
    rank = (scores > own[:, None]).sum(axis=1)  # 0 = first; ties count in the query's favour
    return Retrieval(float((rank == 0).mean()), float(np.where(rank < 5, 1.0 / (rank + 1), 0.0).mean()))


def cosines(vecs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two arrays of unit vectors."""
    return np.asarray((vecs * reference).sum(axis=1), dtype=np.float64)


def load(backend: str, batch_size: int, cache_dir: Path) -> tuple[Embedder, float]:
    """The backend and its load time in seconds (export included when its cache is fresh)."""
    from streams import embed

    start = time.perf_counter()
    embedder = embed.load(EmbedSettings.model_validate({"backend": backend, "batch_size": batch_size}), cache_dir)
    return embedder, time.perf_counter() - start


def peak_rss_mib(backend: str, cache_dir: Path, n: int = 500) -> float:
    """VmHWM of a fresh process that loads ``backend`` and encodes ``n`` chunks: a worker's embedding cost."""
    # noqa: S603 below: our own interpreter and module, arguments from a fixed choice list.
    out = subprocess.run([sys.executable, "-m", "streams.harness.bench.embed", "--rss-child", backend,  # noqa: S603
                          "--chunks", str(n), "--cache-dir", str(cache_dir)],
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["vm_hwm_mib"])


def _rss_child(backend: str, n: int, cache_dir: Path) -> None:
    embedder, _ = load(backend, 32, cache_dir)
    embedder.encode(real_chunks(embedder.token_counter(), n))
    status = Path("/proc/self/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"vm_hwm_mib": kib / 1024}))


def compare(chunks: int, batch_size: int, cache_dir: Path, rounds: int = 2) -> list[dict[str, float | str]]:
    """Every backend on the same texts, in one process; torch is the reference."""
    loaded = {b: load(b, batch_size, cache_dir) for b in BACKENDS}
    texts = real_chunks(loaded["torch"][0].token_counter(), chunks)
    qa = {"record": qa_set(), "answer": answer_set()}
    say(f"[embed-bench] {len(texts)} wiki100 chunks, {len(qa['record'][0])} jeopardy QA pairs, batch {batch_size}")
    # Alternate the backends round by round: a burst of load elsewhere then hurts them all alike.
    for embedder, _ in loaded.values():
        embedder.encode(list(texts[:64]))
    rates: dict[str, float] = dict.fromkeys(BACKENDS, 0.0)
    vecs: dict[str, np.ndarray] = {}
    for i in range(rounds):
        for backend, (embedder, _) in loaded.items():
            start = time.perf_counter()
            vecs[backend] = embedder.encode(texts)
            rates[backend] = max(rates[backend], len(texts) / (time.perf_counter() - start))
        say(f"[embed-bench] round {i + 1}/{rounds}: " + ", ".join(f"{b} {r:.1f}" for b, r in rates.items()))
    rows: list[dict[str, float | str]] = []
    for backend, (embedder, load_s) in loaded.items():
        cos = cosines(vecs[backend], vecs["torch"])
        row: dict[str, float | str] = {"backend": backend, "texts_s": rates[backend], "cos_mean": cos.mean(),
                                       "cos_min": cos.min(), "load_s": load_s}
        for name, (docs, queries) in qa.items():
            found = retrieval(embedder.encode(docs), embedder.encode(queries))
            row[f"{name}_recall_at_1"], row[f"{name}_mrr_at_5"] = found.recall_at_1, found.mrr_at_5
        row["rss_mib"] = peak_rss_mib(backend, cache_dir)
        rows.append(row)
    return rows


def table(rows: list[dict[str, float | str]]) -> list[str]:
    """A markdown table, as in the README."""
    torch_rate = float(next(r["texts_s"] for r in rows if r["backend"] == "torch"))
    lines = ["| backend | texts/s | x torch | cosine mean / min | QA recall@1 (q -> record / q -> answer) "
             "| MRR@5 q -> answer | load s | peak RSS |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        rate = float(r["texts_s"])
        lines.append(f"| {r['backend']} | {rate:.1f} | {rate / torch_rate:.2f}x | {r['cos_mean']:.4f} / "
                     f"{r['cos_min']:.4f} | {r['record_recall_at_1']:.3f} / {r['answer_recall_at_1']:.3f} | "
                     f"{r['answer_mrr_at_5']:.3f} | {r['load_s']:.1f} | {float(r['rss_mib']):.0f} MiB |")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    p = argparse.ArgumentParser(prog="python -m streams.harness.bench.embed", description=__doc__.split("\n")[0])
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=2, help="timed encodes per backend; the best counts")
    p.add_argument("--cache-dir", type=Path, default=StackSettings().cache_dir)
    p.add_argument("--rss-child", choices=BACKENDS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rss_child:
        _rss_child(args.rss_child, args.chunks, args.cache_dir)
        return
    for line in table(compare(args.chunks, args.batch_size, args.cache_dir, args.rounds)):
        show(line)


if __name__ == "__main__":
    main()
