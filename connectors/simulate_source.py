"""Simulated sources: a seeded sensor fleet and a seeded app-event stream.

Input: a seed and a shape (devices x metrics, or an event count). Output: typed events,
as plain generators (pure, for tests and benchmarks) or as a
:class:`~connectors.source.Source` paced at a rate (events/s).

Semantics:
- Deterministic: every number comes from ``random.Random(seed)`` and every time from
  ``start + tick * interval``, never from the clock; event ids are ``<prefix>-<seed>-<seq>``.
  The same seed gives the same events, so re-running a simulation is idempotent downstream.
- A sensor tick emits one reading per device and metric, device-major. Each series has its
  own level, gaussian noise and a slow linear drift; with probability ``anomaly_p`` a reading
  is a spike of 6-12 standard deviations, tagged ``anomaly=spike`` (ground truth for detectors).

Example::

    fleet = SensorFleet(seed=7, devices=3, metrics=("temperature", "co2"))
    source = SimulateSource(fleet.events(), rate=100, count=1000)
    counts = await run_source(source, producer, settings.topics)
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.replay_source import Pacer
from connectors.source import Incoming
from schemas import AnyEvent, AppEvent, AppEventEnvelope, SensorEvent, SensorReading

__all__ = ["METRICS", "AppStream", "MetricSpec", "SensorFleet", "SimulateSource", "interleave"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MetricSpec:
    """A metric's typical level, unit, noise (standard deviation) and drift (per tick, at most)."""

    unit: str
    level: float
    noise: float
    drift: float


METRICS: dict[str, MetricSpec] = {
    "temperature": MetricSpec("C", 21.0, 0.3, 0.002),
    "humidity": MetricSpec("%", 40.0, 1.5, 0.01),
    "co2": MetricSpec("ppm", 600.0, 20.0, 0.2),
    "pressure": MetricSpec("hPa", 1013.0, 0.8, 0.005),
    "vibration": MetricSpec("mm/s", 2.0, 0.2, 0.001),
    "flow": MetricSpec("l/min", 120.0, 4.0, 0.05),
}
GENERIC = MetricSpec("", 50.0, 1.0, 0.01)


@dataclass
class SensorFleet:
    """``devices`` devices, each reporting every metric once per tick of ``interval_s`` seconds."""

    seed: int
    devices: int = 5
    metrics: tuple[str, ...] = ("temperature", "humidity", "co2")
    anomaly_p: float = 0.01
    interval_s: float = 1.0
    start: datetime = T0
    tenant: str = "default"
    location: str = "plant"

    def events(self) -> Iterator[SensorEvent]:
        """Endless readings, tick after tick; slice it (``itertools.islice``) for a fixed count."""
        rnd = random.Random(self.seed)  # noqa: S311 - simulation, not cryptography: seeded on purpose
        series = [(f"device-{d:03d}", m, *_series_params(rnd, METRICS.get(m, GENERIC)))
                  for d in range(self.devices) for m in self.metrics]
        seq = itertools.count()
        for tick in itertools.count():
            when = self.start + timedelta(seconds=tick * self.interval_s)
            for device, metric, level, drift in series:
                spec = METRICS.get(metric, GENERIC)
                value, tags = self._value(rnd, spec, level + drift * tick)
                yield SensorEvent(
                    event_id=f"sim-{self.seed}-{next(seq)}", source="simulator", tenant=self.tenant,
                    event_time=when, payload=SensorReading(device_id=device, metric=metric, value=value,
                                                           unit=spec.unit, location=self.location, tags=tags))

    def _value(self, rnd: random.Random, spec: MetricSpec, mean: float) -> tuple[float, dict[str, str]]:
        value = rnd.gauss(mean, spec.noise)
        if rnd.random() < self.anomaly_p:
            spike = rnd.choice((-1, 1)) * rnd.uniform(6, 12) * spec.noise
            return round(value + spike, 3), {"anomaly": "spike"}
        return round(value, 3), {}


def _series_params(rnd: random.Random, spec: MetricSpec) -> tuple[float, float]:
    """A series' own level (within 5 % of typical) and drift per tick."""
    return spec.level * rnd.uniform(0.95, 1.05), rnd.uniform(-spec.drift, spec.drift)


_APPS = {
    "shop": ("searched", "viewed", "added_to_cart", "purchased", "refunded"),
    "helpdesk": ("opened", "escalated", "resolved"),
    "auth": ("login", "logout", "login_failed", "password_reset"),
}
_THINGS = ("blue running shoes", "a coffee grinder", "noise-cancelling headphones", "a standing desk",
           "a rain jacket", "a mechanical keyboard", "a cast-iron pan", "a travel backpack")
_PROBLEMS = ("the checkout page timed out", "a refund was charged twice", "the invoice PDF was empty",
             "the password reset mail never arrived", "the mobile app crashed at login")


@dataclass
class AppStream:
    """App events of ``users`` users, one every ``interval_s`` seconds of event time."""

    seed: int
    users: int = 50
    interval_s: float = 1.0
    start: datetime = T0
    tenant: str = "default"
    apps: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_APPS))

    def events(self) -> Iterator[AppEventEnvelope]:
        """Endless app events; slice it for a fixed count."""
        rnd = random.Random(self.seed)  # noqa: S311 - simulation, not cryptography: seeded on purpose
        for seq in itertools.count():
            app = rnd.choice(sorted(self.apps))
            action, actor = rnd.choice(self.apps[app]), f"user-{rnd.randrange(self.users):04d}"
            message, attributes = _describe(rnd, app, action, actor)
            yield AppEventEnvelope(
                event_id=f"simapp-{self.seed}-{seq}", source="simulator", tenant=self.tenant,
                event_time=self.start + timedelta(seconds=seq * self.interval_s),
                payload=AppEvent(app=app, action=action, actor=actor, message=message, attributes=attributes))


Attributes = dict[str, str | int | float | bool]


def _describe(rnd: random.Random, app: str, action: str, actor: str) -> tuple[str, Attributes]:
    if app == "shop":
        thing, amount = rnd.choice(_THINGS), round(rnd.uniform(5, 300), 2)
        verb = {"searched": "searched for", "added_to_cart": "added to the cart"}.get(action, action)
        return f"{actor} {verb} {thing} ({amount} EUR).", {"item": thing, "amount": amount}
    if app == "helpdesk":
        ticket, problem = rnd.randrange(10_000, 100_000), rnd.choice(_PROBLEMS)
        return f"Ticket {ticket} was {action} for {actor} because {problem}.", {"ticket": ticket}
    ip = f"10.0.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
    return f"{actor}: {action.replace('_', ' ')} from {ip}.", {"ip": ip}


def interleave(sensors: Iterable[AnyEvent], apps: Iterable[AnyEvent], every: int) -> Iterator[AnyEvent]:
    """``every`` sensor readings, then one app event, and so on (deterministic mix).

    Ends when either input ends (both simulators are endless)."""
    s, a = iter(sensors), iter(apps)
    while True:
        batch = list(itertools.islice(s, every))
        yield from batch
        app = next(a, None)
        if len(batch) < every or app is None:
            return
        yield app


class SimulateSource:
    """Events from a generator as a :class:`~connectors.source.Source`: ``rate`` events/s
    (``None``: as fast as possible), ``count`` events (``None``: endless)."""

    def __init__(self, events: Iterable[AnyEvent], *, rate: float | None = None,
                 count: int | None = None) -> None:
        self._events, self.rate, self.count = events, rate, count

    def __aiter__(self) -> AsyncIterator[Incoming]:
        return self._items()

    async def _items(self) -> AsyncIterator[Incoming]:
        pace = Pacer(self.rate)
        for event in itertools.islice(self._events, self.count):
            await pace.tick()
            yield Incoming(event=event)
