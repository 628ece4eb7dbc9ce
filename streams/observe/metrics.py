"""Worker counters and the ingest-to-searchable latency distribution."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from datetime import UTC, datetime


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, int(round(q / 100 * len(ordered) + 0.5 - 1e-9)))
    return ordered[min(rank, len(ordered)) - 1]


class Metrics:
    """Counters, seconds per stage, and freshness over the last ``window`` written objects.

    ``freshness_s`` covers every written object; ``freshness_s_live`` only those that reached
    Kafka after this worker started, so a restart's catch-up (records that waited while no
    worker ran) does not read as the worker being slow. ``counts["backlog"]`` counts the rest.
    """

    def __init__(self, window: int = 10_000, started: datetime | None = None) -> None:
        self.started = started or datetime.now(UTC)
        self.counts: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.cache: dict[str, float] = {}
        self.latencies: deque[float] = deque(maxlen=window)
        self.by_lane: defaultdict[str, deque[float]] = defaultdict(lambda: deque(maxlen=window))
        self.live: deque[float] = deque(maxlen=window)

    def observe_freshness(self, ingest_times: Iterable[datetime], indexed_at: datetime, lane: str = "") -> None:
        for t in ingest_times:
            seconds = max(0.0, (indexed_at - t).total_seconds())
            self.latencies.append(seconds)
            if t >= self.started:
                self.live.append(seconds)
            else:
                self.counts["backlog"] += 1
            if lane:
                self.by_lane[lane].append(seconds)

    def snapshot(self) -> dict[str, object]:
        lat = list(self.latencies)
        return {
            "counts": dict(self.counts),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "embedding_cache": self.cache,
            "freshness_s": _summary(lat),
            "freshness_s_live": _summary(list(self.live)),
            "freshness_s_by_lane": {lane: _summary(list(v)) for lane, v in self.by_lane.items()},
        }


def _summary(lat: list[float]) -> dict[str, float]:
    return {"n": len(lat), "p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
            "max": max(lat, default=0.0)}
