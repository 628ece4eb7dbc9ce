"""The chaos timeline without a stack: every fault has its place inside the stream, and one that is
over after the stream's last event, or a service that cannot be stopped, fails the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streams.harness.chaos.faults import TAIL, FaultNotInjected, Landed, _stop, check, timeline

pytestmark = pytest.mark.unit


def test_every_fault_has_a_place_inside_the_stream_before_its_held_back_tail() -> None:
    plan = timeline(kills=3, outage_s=8, broker=True)
    assert [f for _, f in plan] == ["kill", "join", "kill", "outage", "kill", "broker", "leave"]
    assert all(0 < at < TAIL for at, _ in plan) and plan == sorted(plan)
    assert [f for _, f in timeline(kills=0, outage_s=0, broker=False)] == ["join", "leave"]


def test_a_fault_over_after_the_stream_ended_fails_the_run() -> None:
    check([Landed("kill", 0.1, 1.0, 5.0)], ended=6.0)
    with pytest.raises(AssertionError, match="kill@10%"):
        check([Landed("kill", 0.1, 1.0, 7.0)], ended=6.0)
    with pytest.raises(AssertionError, match="never ended"):
        check([], ended=0.0)


def test_a_service_this_stack_cannot_stop_is_a_fault_not_injected(tmp_path: Path) -> None:
    class NotOurs:
        name = "weaviate"
        address = "http://127.0.0.1:8080"

        class proc:  # noqa: N801 - stands in for ServiceProcess
            pid_file = tmp_path / "run" / "weaviate.pid"

            @staticmethod
            def stop() -> bool:
                return False  # no pid file: a Weaviate of a container, or of another data dir

    service: Any = NotOurs()
    with pytest.raises(FaultNotInjected, match="not a process of this stack"):
        _stop(service, "Weaviate outage")
