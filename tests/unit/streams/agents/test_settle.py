"""settle: outages are waited out, a record's own error is pinned on it alone, nothing is lost."""

from __future__ import annotations

import asyncio
import random

import pytest
from weaviate.exceptions import WeaviateQueryError

from connectors.weaviate.client import TargetUnavailable
from schemas.chunk import KafkaPosition
from streams.agents.settle import settle, transient
from streams.transforms.validate import Item, Rejected

pytestmark = pytest.mark.unit


def items(n: int) -> list[Item]:
    return [Item(f"v{i}".encode(), None, KafkaPosition("t", 0, i), None) for i in range(n)]


def run(handle_fails: object, batch: list[Item]) -> tuple[list[int], list[Rejected]]:
    written: list[int] = []
    dead: list[Rejected] = []

    async def handle(part: list[Item]) -> None:
        exc = handle_fails(part)  # type: ignore[operator]
        if exc is not None:
            raise exc
        written.extend(it.position.offset for it in part)

    async def quarantine(rejected: list[Rejected]) -> None:
        dead.extend(rejected)

    asyncio.run(settle(handle, batch, quarantine, backoff_s=0.0))
    return written, dead


def test_poison_records_are_found_and_dead_lettered_and_the_rest_is_written() -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    poison = set(rng.sample(range(n), rng.randint(0, min(3, n))))

    def fails(part: list[Item]) -> Exception | None:
        bad = [it for it in part if it.position.offset in poison]
        return KeyError(f"field missing in {bad[0].position.offset}") if bad else None

    written, dead = run(fails, items(n))
    assert sorted(written) == [i for i in range(n) if i not in poison], f"seed {seed}"
    assert sorted(r.item.position.offset for r in dead) == sorted(poison), f"seed {seed}"
    assert all(r.stage == "worker" and "KeyError" in r.reason for r in dead)
    assert written == sorted(written), f"order kept, seed {seed}"


def test_an_outage_is_retried_until_it_passes_and_nothing_is_dead_lettered() -> None:
    tries = iter([TargetUnavailable("weaviate down"), ConnectionError("refused"), None])
    written, dead = run(lambda part: next(tries), items(5))
    assert written == [0, 1, 2, 3, 4]
    assert dead == []


def test_an_error_that_passes_after_a_retry_dead_letters_nothing() -> None:
    tries = iter([ValueError("flaky"), None])
    written, dead = run(lambda part: next(tries), items(3))
    assert written == [0, 1, 2]
    assert dead == []


@pytest.mark.parametrize(("exc", "expected"), [
    (TargetUnavailable("x"), True),
    (MemoryError(), True),
    (WeaviateQueryError("store is read-only", "gRPC"), True),
    (WeaviateQueryError("context canceled", "gRPC"), True),
    (WeaviateQueryError("invalid property 'x'", "gRPC"), False),
    (KeyError("x"), False),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), False),
])
def test_transient_errors_are_told_from_a_records_own(exc: BaseException, expected: bool) -> None:
    assert transient(exc) is expected
