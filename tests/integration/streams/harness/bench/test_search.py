"""``headwater bench --search``: a real index, real API requests, figures printed, nothing left behind."""

from __future__ import annotations

from typing import Any

import pytest

from streams.harness.bench import search as bench_search
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_search_bench_times_real_requests_and_drops_its_index(settings: Settings, weaviate_client: Any,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = {c for c in weaviate_client.collections.list_all()}
    f = bench_search.run(settings, n=1_500, queries=10, wiki_articles=1)
    bench_search.report(f)
    assert f["search_chunks"] == 1_500 and f["search_queries"] == 10
    assert f["search_full_answers"] == 10  # every question found k = 5 hits in the index it built
    assert 0 < f["search_p50_ms"] <= f["search_p99_ms"]
    assert "latency p50" in capsys.readouterr().out
    assert {c for c in weaviate_client.collections.list_all()} == before


def test_the_index_repeats_real_texts_as_distinct_objects() -> None:
    import numpy as np

    base = [("app", "alpha beta"), ("document", "gamma delta")]
    recs, vecs = bench_search.records(base, np.eye(2, 384, dtype=np.float32), 5)
    assert len({r.uuid for r in recs}) == 5 and len({r.text for r in recs}) == 5
    assert recs[0].text == "alpha beta" and recs[2].text.startswith("alpha beta (copy")
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0) and len({v.tobytes() for v in vecs}) == 5
