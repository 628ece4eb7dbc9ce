"""The demo's own judgements: does an answer state the expected value, what the status says, why late."""

from datetime import UTC, datetime

import pytest

from schemas import SensorEvent, SensorReading
from streams.harness.demo.live import explain_late, mentions, worker_line
from streams.transforms.render import render_sensor

pytestmark = pytest.mark.unit


def _reading(value: float, unit: str) -> str:
    event = SensorEvent(event_id="e1", source="plant", tenant="demo", event_time=datetime(2026, 1, 1, tzinfo=UTC),
                        payload=SensorReading(device_id="pump-7", metric="temperature", value=value, unit=unit,
                                              location="building A"))
    return render_sensor(event).text


def test_a_reading_rendered_with_its_unit_states_the_expected_value() -> None:
    text = _reading(81.0, "C")
    assert "81 °C" in text and "81.0" not in text  # what made the old substring check print "NO"
    assert mentions(text, "81.0")
    assert mentions(_reading(81.2, "C"), "81.2")
    assert not mentions(text, "81.2")
    assert not mentions(text, "7")  # the 7 of "pump-7" is part of a name, not a stated number


@pytest.mark.parametrize(("text", "expected", "found"), [
    ("The access code of vault 7 is now 4821.", "4821", True),
    ("The access code of vault 7 is now 4821.", "482", False),
    ("Outside it was -5 °C.", "-5.0", True),
    ("Ticket 12 was escalated because the checkout page timed out.", "The checkout page timed out", True),
    ("Ticket 12 was escalated because a refund was charged twice.", "the checkout page timed out", False),
])
def test_mentions(text: str, expected: str, found: bool) -> None:
    assert mentions(text, expected) is found


def test_status_line_reads_the_worker_counters_or_says_starting() -> None:
    assert worker_line(None) == "worker: starting"
    line = worker_line({"counts": {"events": 42, "chunks.written": 40}, "freshness_s": {"p50": 0.25, "p99": 1.5}})
    assert line == "worker: 42 events, 40 chunks, freshness p50 0.25s p99 1.50s"
    line = worker_line({"counts": {"events": 400, "chunks.written": 390, "backlog": 370},
                        "freshness_s": {"p50": 2.0, "p99": 29_668.0}, "freshness_s_live": {"p50": 0.3, "p99": 0.9}})
    assert line == ("worker: 400 events, 390 chunks, freshness p50 0.30s p99 0.90s "
                    "(and 370 objects from records older than the worker, left by an earlier run)")


def test_a_late_answer_names_the_backlog_and_what_the_worker_did_meanwhile() -> None:
    before = {"counts": {"events": 100}, "seconds": {"embed": 10.0, "write": 2.0, "plan": 1.0}}
    now = {"counts": {"events": 130, "upsert.retries": 2}, "seconds": {"embed": 36.5, "write": 3.0, "plan": 1.5}}
    why = explain_late({"headwater.document.v1": 412, "headwater.app.v1": 0}, before, now, 30.0)
    assert why == ("412 records wait for the worker (headwater.document.v1: 412); in the last 30 s it indexed "
                   "30 events, most time in embed (26.5 s); 2 Weaviate writes retried (see the worker log)")


def test_a_late_answer_without_kafka_or_metrics_says_so() -> None:
    assert explain_late(None, None, None, 30.0) == (
        "backlog unknown (Kafka did not answer the lag query); its metrics page does not answer "
        "(still loading the model?)")
    assert explain_late({"t": 0}, None, {"counts": {}, "seconds": {}}, 30.0) == (
        "0 records wait for the worker; in the last 30 s it indexed 0 events")
