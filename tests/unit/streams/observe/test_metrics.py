from datetime import UTC, datetime, timedelta

import pytest

from streams.observe.metrics import Metrics, percentile

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([], 50, 0.0),
    ([3.0], 99, 3.0),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10),
    ([10, 1, 5], 50, 5),
])
def test_percentile_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_freshness_is_index_minus_ingest_never_negative() -> None:
    m = Metrics()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    m.observe_freshness([now - timedelta(seconds=2), now + timedelta(seconds=1)], now)
    snap = m.snapshot()["freshness_s"]
    assert snap == {"n": 2, "p50": 0.0, "p95": 2.0, "p99": 2.0, "max": 2.0}


def test_records_older_than_the_worker_are_backlog_not_live_freshness() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    m = Metrics(started=started)
    now = started + timedelta(seconds=10)
    m.observe_freshness([started - timedelta(hours=8), started + timedelta(seconds=9.5)], now, "urgent")
    snap = m.snapshot()
    assert snap["freshness_s"]["n"] == 2 and snap["freshness_s"]["max"] == pytest.approx(8 * 3600 + 10)
    assert snap["freshness_s_live"] == {"n": 1, "p50": 0.5, "p95": 0.5, "p99": 0.5, "max": 0.5}
    assert snap["counts"]["backlog"] == 1
