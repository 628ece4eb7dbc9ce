"""The embedding cache in front of a model: hits, persistence, and its bound."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from streams.embed.cache import CachedEmbedder

pytestmark = pytest.mark.unit


class Hashing:
    """A deterministic stand-in model: a text's vector is made from its hash; it counts what it embeds."""

    model_id, dimension, max_tokens = "hashing", 8, 256

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += texts
        out = np.array([np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.float32) for t in texts])
        return np.nan_to_num(out).reshape(len(texts), self.dimension)

    def token_counter(self) -> Callable[[str], int]:
        return lambda t: len(t.split())

    def warm_up(self) -> None:
        pass

    @property
    def forward_calls(self) -> int:
        return len(self.embedded)


def rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [k for (k,) in db.execute("SELECT key FROM emb")]


def test_a_text_is_embedded_once_across_restarts(tmp_path: Path) -> None:
    model, path = Hashing(), tmp_path / "c.sqlite"
    first = CachedEmbedder(model, path).encode(["a", "b", "a"])
    again = CachedEmbedder(model, path)  # a restarted worker
    second = again.encode(["b", "a", "c"])
    assert model.embedded == ["a", "b", "c"]
    assert np.array_equal(second[:2], first[[1, 0]])
    assert (again.hits, again.misses) == (2, 1)


def test_the_bound_keeps_the_most_recently_used_and_recounts_rarely(tmp_path: Path) -> None:
    model, path = Hashing(), tmp_path / "c.sqlite"
    cache = CachedEmbedder(model, path, max_entries=20)
    statements: list[str] = []
    cache._db.set_trace_callback(statements.append)
    for i in range(100):
        cache.encode([f"text {i}"])
        assert len(rows(path)) <= 20
    kept = rows(path)
    newest = {cache._key(f"text {i}") for i in range(95, 100)}
    assert newest <= set(kept) and len(kept) >= 18  # a tenth of the bound is freed at a time
    # The table is counted in full once, then only when the bound may be passed: not on every insert.
    assert sum("COUNT(*)" in q for q in statements) <= 40
    model.embedded.clear()
    cache.encode([f"text {i}" for i in range(95, 100)])
    assert model.embedded == []


def test_stats_count_the_entries_without_reading_the_table(tmp_path: Path) -> None:
    """The worker reads the stats after every batch: a COUNT(*) there would scan a million vectors each time."""
    model, path = Hashing(), tmp_path / "c.sqlite"
    CachedEmbedder(model, path).encode(["old"])
    for bound, most_counts in ((1000, 1), (20, 30)):  # without evictions: one count; with: one per eviction
        cache = CachedEmbedder(model, path, max_entries=bound)  # a restart: rows there already
        statements: list[str] = []
        cache._db.set_trace_callback(statements.append)
        for i in range(60):
            cache.encode([f"text {bound} {i}", f"text {bound} {i // 2}"])
            assert cache.stats()["entries"] == len(rows(path))
        assert sum("COUNT(*)" in q for q in statements) <= most_counts
