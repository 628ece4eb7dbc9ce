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
