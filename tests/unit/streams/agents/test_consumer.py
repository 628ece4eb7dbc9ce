"""The consumer's delivery shortcut: same winners, results, errors and interruptions as mode's race."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import mode
import pytest

from streams.agents.consumer import wait_first


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_delivery_that_never_waits_wins_without_a_race() -> None:
    raced: list[Any] = []

    async def deliver() -> str:
        return "delivered"

    async def suspended() -> None:
        await asyncio.sleep(3600)

    async def race(*coros: Any) -> Any:
        raced.append(coros)

    async def main() -> Any:
        first = deliver()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a coroutine left unawaited would warn
            result = await wait_first(first, (suspended(),), race)
        return first, result

    first, result = run(main())
    assert result.done == [first] and result.results == ["delivered"] and not result.stopped
    assert raced == []


def test_a_delivery_that_waits_is_finished_through_the_race() -> None:
    async def main() -> Any:
        svc = mode.Service()
        gate = asyncio.get_running_loop().create_future()
        steps: list[str] = []

        async def deliver() -> int:
            steps.append("before")
            value = await gate
            await asyncio.sleep(0)  # a bare yield to the loop, too
            steps.append("after")
            return value + 1

        async def suspended() -> None:
            await asyncio.sleep(3600)

        asyncio.get_running_loop().call_later(0.05, gate.set_result, 41)
        first = deliver()
        result = await wait_first(first, (suspended(),), svc.wait_first)
        return first, result, steps

    first, result, steps = run(main())
    assert result.done == [first] and result.results == [42] and not result.stopped
    assert steps == ["before", "after"]


def test_a_blocked_delivery_is_cancelled_when_the_flow_is_suspended() -> None:
    async def main() -> Any:
        svc = mode.Service()
        suspend = asyncio.Event()
        seen: list[str] = []

        async def deliver() -> None:
            try:
                await asyncio.sleep(3600)  # a full queue that never drains
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        asyncio.get_running_loop().call_later(0.05, suspend.set)
        result = await wait_first(deliver(), (suspend.wait(),), svc.wait_first)
        await asyncio.sleep(0)  # let the cancelled delivery run its handler
        return result, seen

    result, seen = run(main())
    assert len(result.done) == 1 and result.done[0] is not None and not result.stopped
    assert seen == ["cancelled"]


def test_a_failing_delivery_raises_on_either_path() -> None:
    async def at_once() -> None:
        raise ValueError("bad record")

    async def later() -> None:
        await asyncio.sleep(0.01)
        raise KeyError("late")

    async def never() -> None:
        await asyncio.sleep(3600)

    async def main(coro: Any) -> Any:
        return await wait_first(coro, (never(),), mode.Service().wait_first)

    with pytest.raises(ValueError, match="bad record"):
        run(main(at_once()))
    with pytest.raises(KeyError, match="late"):
        run(main(later()))
