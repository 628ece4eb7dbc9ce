"""``headwater connect bench`` against the real Kafka and Mosquitto, shrunk to a smoke test:
every case moves events into Kafka and the HTTP ingest answers only 202s."""

from __future__ import annotations

import time

import pytest

from streams.harness.connect.bench import format_table, run
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_every_case_moves_events_and_http_answers_only_202(settings: Settings) -> None:
    started = time.monotonic()
    results = run(settings, seconds_per_case=1, small=True)

    assert {"producer", "replay-occupancy", "simulate", "files", "mqtt", "http"} <= set(results)
    assert any(name.startswith("replay-jeopardy") for name in results)
    for name, r in results.items():
        assert r["events"] > 0, f"{name} moved no events: {r}"
        assert r["events_per_s"] > 0 and r["ratio"] > 0, f"{name}: {r}"
    assert set(results["http"]["status"]) == {"202"}, results["http"]["status"]
    assert results["mqtt"]["events"] == results["mqtt"]["published"] and results["mqtt"]["lost"] == 0
    assert "x ceiling" in format_table(results)
    assert time.monotonic() - started < 60
