"""Simulators: seeded, deterministic, shaped as asked."""

from __future__ import annotations

import asyncio
import statistics
from datetime import timedelta
from itertools import islice

import pytest

from connectors.simulate_source import METRICS, AppStream, SensorFleet, SimulateSource, interleave
from connectors.source import Incoming
from schemas import AnyEvent, AppEventEnvelope, SensorEvent, decode, encode

pytestmark = pytest.mark.unit


def take(fleet: SensorFleet | AppStream, n: int) -> list[bytes]:
    events: list[AnyEvent] = list(islice(fleet.events(), n))
    return [encode(e) for e in events]


def test_same_seed_same_events_other_seed_other_values() -> None:
    assert take(SensorFleet(seed=3), 200) == take(SensorFleet(seed=3), 200)
    assert take(SensorFleet(seed=3), 200) != take(SensorFleet(seed=4), 200)
    assert take(AppStream(seed=3), 100) == take(AppStream(seed=3), 100)


def test_a_tick_is_every_device_times_every_metric_device_major() -> None:
    fleet = SensorFleet(seed=1, devices=3, metrics=("temperature", "co2"), interval_s=10)
    events = list(islice(fleet.events(), 12))
    assert [(e.payload.device_id, e.payload.metric) for e in events[:6]] == [
        (f"device-{d:03d}", m) for d in range(3) for m in ("temperature", "co2")]
    assert {e.event_time for e in events[:6]} == {fleet.start}
    assert {e.event_time for e in events[6:]} == {fleet.start + timedelta(seconds=10)}
    assert [e.event_id for e in events] == [f"sim-1-{i}" for i in range(12)]
    assert all(decode(encode(e)) == e for e in events)


def test_readings_stay_near_the_metric_level_with_its_noise() -> None:
    fleet = SensorFleet(seed=5, devices=1, metrics=("temperature",), anomaly_p=0.0)
    values = [e.payload.value for e in islice(fleet.events(), 2000)]
    spec = METRICS["temperature"]
    assert abs(statistics.fmean(values) - spec.level) < spec.level * 0.05 + 2000 * spec.drift
    assert 0.5 * spec.noise < statistics.stdev(values[:200]) < 2 * spec.noise


def test_anomalies_follow_the_probability_and_are_tagged() -> None:
    none = list(islice(SensorFleet(seed=2, anomaly_p=0.0).events(), 500))
    assert not any(e.payload.tags for e in none)
    spiky = list(islice(SensorFleet(seed=2, devices=1, metrics=("co2",), anomaly_p=1.0).events(), 50))
    assert all(e.payload.tags == {"anomaly": "spike"} for e in spiky)
    assert all(abs(e.payload.value - METRICS["co2"].level) > 3 * METRICS["co2"].noise for e in spiky)
    some = list(islice(SensorFleet(seed=2, anomaly_p=0.05).events(), 4000))
    assert 100 < sum(bool(e.payload.tags) for e in some) < 300


def test_unknown_metric_gets_generic_values() -> None:
    [event] = islice(SensorFleet(seed=1, devices=1, metrics=("rpm",)).events(), 1)
    assert event.payload.metric == "rpm" and event.payload.unit == ""


def test_app_stream_gives_valid_described_events_with_sequential_ids() -> None:
    events = list(islice(AppStream(seed=9, users=10).events(), 300))
    assert [e.event_id for e in events] == [f"simapp-9-{i}" for i in range(300)]
    assert {e.payload.app for e in events} == {"shop", "helpdesk", "auth"}
    assert all(e.payload.message and e.payload.actor.startswith("user-00") for e in events)
    assert events[1].event_time - events[0].event_time == timedelta(seconds=1)


def test_interleave_puts_one_app_event_after_each_fleet_tick() -> None:
    mixed = list(islice(interleave(SensorFleet(seed=1, devices=2, metrics=("co2",)).events(),
                                   AppStream(seed=1).events(), 2), 9))
    assert [type(e) for e in mixed] == [SensorEvent, SensorEvent, AppEventEnvelope] * 3
    assert list(interleave(iter([]), AppStream(seed=1).events(), 2)) == []


def test_simulate_source_stops_after_count() -> None:
    async def run() -> list[Incoming]:
        return [i async for i in SimulateSource(SensorFleet(seed=1).events(), count=25)]

    items = asyncio.run(run())
    assert len(items) == 25 and all(i.event is not None and i.error is None for i in items)
