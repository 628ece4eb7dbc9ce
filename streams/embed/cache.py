"""Stage embed, cache: a persistent embedding cache (a small feature store): (model id, text hash) -> vector.

SQLite in the data directory: survives restarts, bounded to ``max_entries`` (least
recently used go first), with hit and miss counters. Identical text is never
embedded twice by the same model.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from streams.embed.base import Embedder

_TOUCH_EVERY_S = 60.0
_RECENT_MAX = 20_000


class CachedEmbedder:
    """An :class:`Embedder` in front of another; only misses reach the model."""

    def __init__(self, embedder: Embedder, path: Path, max_entries: int = 1_000_000) -> None:
        self.inner = embedder
        self.dimension, self.max_tokens, self.model_id = embedder.dimension, embedder.max_tokens, embedder.model_id
        self.max_entries = max_entries
        self.hits = self.misses = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A lost tail after a power cut only costs re-embedding; a sync per write would cost a sensor fleet.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB, used REAL)")
        self._lock = threading.Lock()
        self._touched: dict[str, float] = {}  # key -> when its recency was last written
        # The hottest vectors in memory too (a fleet's descriptions, ~1.5 KB each): no SQLite read per hit.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_max = min(max_entries, _RECENT_MAX)
        self._count: int | None = None  # rows in the table, or more; None until first counted

    @property
    def forward_calls(self) -> int:
        return int(self.inner.forward_calls)

    def token_counter(self) -> Callable[[str], int]:
        return self.inner.token_counter()

    def warm_up(self) -> None:
        self.inner.warm_up()

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{text}".encode()).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        with self._lock:
            found = self._get(keys)
            missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
            self.hits += len(keys) - sum(1 for k in keys if k in missing)
            self.misses += sum(1 for k in keys if k in missing)
        if missing:
            # Outside the lock: the other lane's lookups must not wait for this lane's model call.
            fresh = dict(zip(missing, self.inner.encode(list(missing.values())), strict=True))
            with self._lock:
                self._put(fresh)
            found |= fresh
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def known(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """The cached vectors among ``texts``, by position (counted as hits); the rest go to :meth:`encode`."""
        keys = [self._key(t) for t in texts]
        with self._lock:
            found = self._get(keys)
        out = {i: found[k] for i, k in enumerate(keys) if k in found}
        self.hits += len(out)
        return out

    def _get(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        cold = []
        for k in unique:
            v = self._recent.get(k)
            if v is None:
                cold.append(k)
            else:
                self._recent.move_to_end(k)
                out[k] = v
        for i in range(0, len(cold), 500):
            part = cold[i:i + 500]
            marks = ",".join("?" * len(part))  # only placeholders are formatted in; values are bound
            rows = self._db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", part)  # noqa: S608
            read = {k: np.frombuffer(v, dtype=np.float32) for k, v in rows}
            self._remember(read)
            out |= read
        now = time.time()
        # Recency is kept to the minute: a sensor fleet hits the same keys every second, and a write
        # per hit would cost more than the lookup. One transaction: autocommit makes each row its own.
        stale = [k for k in out if now - self._touched.get(k, 0.0) > _TOUCH_EVERY_S]
        if stale:
            if len(self._touched) > 100_000:
                self._touched.clear()
            with self._db:
                self._db.executemany("UPDATE emb SET used=? WHERE key=?", [(now, k) for k in stale])
            self._touched |= dict.fromkeys(stale, now)
        return out

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        self._recent.update(vectors)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    def _put(self, fresh: dict[str, np.ndarray]) -> None:
        self._remember({k: np.asarray(v, dtype=np.float32) for k, v in fresh.items()})
        now = time.time()
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                                 [(k, np.asarray(v, dtype=np.float32).tobytes(), now) for k, v in fresh.items()])
        # COUNT(*) reads the whole table: it runs once, and again only when the bound may be passed.
        # Inserts are added to the count as if all were new (a replaced row counts twice), so it
        # only overestimates; eviction frees a tenth of the bound, so that it does not run on every put.
        self._count = self._rows() if self._count is None else self._count + len(fresh)
        if self._count > self.max_entries:
            count = self._rows()
            if count > self.max_entries:
                keep = self.max_entries - self.max_entries // 10
                self._db.execute("DELETE FROM emb WHERE key IN (SELECT key FROM emb ORDER BY used LIMIT ?)",
                                 (count - keep,))
                count = keep
            self._count = count

    def _rows(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM emb").fetchone()
        return int(count)

    def stats(self) -> dict[str, float]:
        """Counters for /metrics, read after every batch: the entries are the running count, since a
        COUNT(*) reads the whole table (a million vectors: a scan per batch)."""
        total = self.hits + self.misses
        with self._lock:
            if self._count is None:
                self._count = self._rows()
            size = self._count
        return {"hits": self.hits, "misses": self.misses, "hit_rate": self.hits / total if total else 0.0,
                "entries": size, "forward_calls": self.forward_calls}
