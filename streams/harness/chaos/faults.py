"""The chaos run's timeline: faults that land while events flow, each one checked.

The :class:`Stream` produces the events at a rate, but never past what the timeline released.
A fault is placed at a fraction of the stream: it lands once that share of the events is in
Kafka, and as it lands it releases the events up to the next fault's place, so events flow
while it lasts. The last tenth of the stream is released only once every fault is over, so
each fault lands, and is recovered from, before the stream's last event (:func:`check`).

A fault that cannot be injected raises :class:`FaultNotInjected`: Weaviate or Kafka that is
not a process of this stack (``headwater stack up``), one that still answers after it was
stopped, a worker that is not running when it is to be killed. A chaos run that skipped a
fault would prove nothing.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from schemas import AnyEvent, encode, message_key
from streams.harness.worker_process import Worker
from streams.observe.console import say
from streams.settings import Settings

TAIL = 0.9  # the share of the stream released before the last fault is over
BATCH = 50


class FaultNotInjected(RuntimeError):
    """A fault of the timeline could not be injected; the message says which and why."""


@dataclass(frozen=True)
class Landed:
    """When a fault landed and when the system was whole again (``time.monotonic``)."""

    name: str
    at: float  # the share of the stream's events produced before it landed
    landed: float
    recovered: float


class Stream:
    """Produces ``events`` in order at ``rate``/s, up to the share of them the timeline released."""

    def __init__(self, settings: Settings, events: Sequence[AnyEvent], rate: float) -> None:
        self.settings, self.events, self.rate = settings, events, rate
        self.sent, self.released, self.ended = 0, 0, 0.0
        self.error: BaseException | None = None
        self.stopped = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="chaos-stream", daemon=True)

    def release(self, share: float) -> None:
        with self.cond:
            self.released = max(self.released, round(len(self.events) * share))
            self.cond.notify_all()

    def wait_sent(self, share: float) -> None:
        """Block until ``share`` of the events is confirmed by Kafka; raises if the producer failed."""
        with self.cond:
            self.cond.wait_for(lambda: self.error is not None or self.sent >= round(len(self.events) * share))
            if self.error is not None:
                raise RuntimeError(f"the chaos stream failed after {self.sent} events") from self.error

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def _run(self) -> None:
        from connectors.producer import Producer

        producer = Producer(self.settings.kafka, client_id="headwater-chaos", linger_ms=5)
        try:
            while self.sent < len(self.events):
                with self.cond:
                    self.cond.wait_for(lambda: self.stopped or self.released > self.sent)
                    if self.stopped:
                        return
                    batch = self.events[self.sent:min(self.sent + BATCH, self.released)]
                self._send(producer, batch)
                with self.cond:
                    self.sent += len(batch)
                    self.ended = time.monotonic() if self.sent == len(self.events) else 0.0
                    self.cond.notify_all()
                time.sleep(len(batch) / self.rate)
        except BaseException as exc:  # noqa: BLE001 - handed to the timeline, which raises it
            with self.cond:
                self.error = exc
                self.cond.notify_all()
        finally:
            producer.close()

    def _send(self, producer: Any, batch: Sequence[AnyEvent]) -> None:
        topics = self.settings.topics
        pending = [producer.submit(topics.for_kind(e.kind.value), encode(e), message_key(e)) for e in batch]
        for future in pending:  # a broker restart holds them; the producer's own timeout (120 s) fails them
            future.result(180)


class Faults:
    """The faults, by name: each injects, waits until the system is whole again, or raises."""

    def __init__(self, w1: Worker, settings: Settings, outage_s: float) -> None:
        from streams.stack.kafka import Kafka
        from streams.stack.weaviate import Weaviate

        self.w1, self.outage_s = w1, outage_s
        self.w2: Worker | None = None
        self.weaviate, self.kafka = Weaviate(settings), Kafka(settings)
        self.by_name: dict[str, Callable[[], None]] = {
            "kill": self.kill, "join": self.join, "outage": self.outage, "broker": self.broker, "leave": self.leave}

    def kill(self) -> None:
        """SIGKILL the first worker, and start it again (it takes its partitions back: static membership)."""
        _running(self.w1, "SIGKILL")
        self.w1.kill(signal.SIGKILL)
        self.w1.start()

    def join(self) -> None:
        """A second worker joins the group: a rebalance."""
        self.w2 = self.w1.sibling("second")
        self.w2.start()

    def leave(self) -> None:
        """The second worker leaves the group: another rebalance."""
        if self.w2 is None:
            raise FaultNotInjected("leave: no second worker joined before")
        _running(self.w2, "leave")
        self.w2.kill(signal.SIGTERM)

    def outage(self) -> None:
        """Weaviate stopped for ``outage_s``; halfway through, the first worker is SIGKILLed, and it starts
        again once Weaviate is back (a worker starts only with Weaviate ready)."""
        _stop(self.weaviate, "Weaviate outage")
        try:
            _silent(self.weaviate, "Weaviate outage")
            time.sleep(self.outage_s / 2)
            _running(self.w1, "SIGKILL during the outage")
            self.w1.kill(signal.SIGKILL)
            say("[chaos] SIGKILL worker during the Weaviate outage")
            time.sleep(self.outage_s / 2)
        finally:
            _start(self.weaviate, "Weaviate", 90)
        self.w1.start()

    def broker(self) -> None:
        """Kafka stopped and started again: producers, consumers and the group coordinator reconnect."""
        _stop(self.kafka, "broker restart")
        try:
            _silent(self.kafka, "broker restart")
        finally:
            _start(self.kafka, "Kafka", 120)
        for w in (self.w1, self.w2):
            if w is not None and w.proc is not None and w.proc.poll() is not None:
                raise RuntimeError(f"a worker exited during the broker restart (exit {w.proc.returncode}); "
                                   f"see {w.log_path}")

    def close(self) -> None:
        if self.w2 is not None:
            self.w2.kill(signal.SIGTERM)


def timeline(kills: int, outage_s: float, broker: bool) -> list[tuple[float, str]]:
    """(share of the stream, fault): kills spread over it, a rebalance in and out, the outage, the broker."""
    plan = [(round(0.15 + 0.6 * k / max(kills, 1), 2), "kill") for k in range(kills)]
    plan += [(0.25, "join"), (0.8, "leave")]
    plan += [(0.45, "outage")] if outage_s > 0 else []
    plan += [(0.65, "broker")] if broker else []
    return sorted(plan)


def run_timeline(stream: Stream, faults: Faults, plan: Sequence[tuple[float, str]]) -> list[Landed]:
    """Inject every fault of ``plan`` at its place in the stream; returns when each landed and recovered."""
    out = []
    for i, (at, name) in enumerate(plan):
        stream.wait_sent(at)
        stream.release(plan[i + 1][0] if i + 1 < len(plan) else TAIL)  # events flow while it lasts
        landed = time.monotonic()
        say(f"[chaos] {name} at {at:.0%} of the stream ({stream.sent} events produced)")
        faults.by_name[name]()
        out.append(Landed(name, at, landed, time.monotonic()))
    stream.release(1.0)
    return out


def check(landed: Sequence[Landed], ended: float) -> None:
    """Every fault landed and was recovered from before the stream's last event, or AssertionError."""
    late = [f"{f.name}@{f.at:.0%}" for f in landed if not f.recovered < ended]
    if late or not ended:
        raise AssertionError(f"faults not over before the stream ended: {late or 'the stream never ended'}")


def _running(w: Worker, fault: str) -> None:
    if w.proc is None or w.proc.poll() is not None:
        code = None if w.proc is None else w.proc.returncode
        raise FaultNotInjected(f"{fault}: the worker is not running (exit {code}); see {w.log_path}")


def _stop(service: Any, fault: str) -> None:
    if not service.proc.stop():
        raise FaultNotInjected(f"{fault}: {service.name} is not a process of this stack (no live pid in "
                               f"{service.proc.pid_file}); run the chaos against `headwater stack up`")


def _silent(service: Any, fault: str) -> None:
    if service.ready():
        raise FaultNotInjected(f"{fault}: {service.name} was stopped, yet one still answers at {service.address}")


def _start(service: Any, label: str, timeout_s: float) -> None:
    service.start()
    deadline = time.monotonic() + timeout_s
    while not service.ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label} not ready {timeout_s:.0f} s after a restart; see {service.proc.log_file}")
        time.sleep(0.3)
