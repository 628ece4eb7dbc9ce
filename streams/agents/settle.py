"""A batch's way to done: every record written or dead-lettered, whatever fails on the way.

Every exception in a batch's path is one of two kinds, and neither stops a lane:

- **transient** (an outage: Weaviate or Kafka unreachable, a read-only store under disk pressure,
  a cancelled context, memory pressure): the batch is retried with backoff, as long as it takes.
  Nothing is committed past it meanwhile (:mod:`streams.agents.commit`), so a kill loses nothing.
- **a record's own** (anything else: a bug that one record's content triggers): the batch is tried
  again a few times, then split in halves, in order, until the record that fails alone is found;
  it goes to the dead-letter topic with the error as its reason, and the rest is written.

Writing again what was written already is harmless: object ids are deterministic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from weaviate.exceptions import WeaviateBaseError, WeaviateConnectionError

from connectors.weaviate import target
from connectors.weaviate.client import TargetUnavailable
from streams.transforms.validate import Item, Rejected

log = logging.getLogger("headwater.worker")

Handle = Callable[[list[Item]], Awaitable[None]]
Quarantine = Callable[[list[Rejected]], Awaitable[None]]

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TargetUnavailable, WeaviateConnectionError, ConnectionError, TimeoutError, MemoryError, OSError)
RECORD_RETRIES = 2  # tries of a failing batch before it is split: an unknown error may still pass


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` passes by itself (retry the batch) rather than belonging to a record."""
    if isinstance(exc, TRANSIENT_TYPES):
        return True
    retriable = getattr(exc, "retriable", None)  # aiokafka's errors say so themselves
    if isinstance(retriable, bool):
        return retriable
    if isinstance(exc, WeaviateBaseError):
        return target.transient(str(exc))
    return False


class Backoff:
    """Waits that double from ``first_s`` up to ``max_s``."""

    def __init__(self, max_s: float, first_s: float = 0.5) -> None:
        self.next_s, self.max_s = min(first_s, max_s), max_s

    async def wait(self) -> None:
        await asyncio.sleep(self.next_s)
        self.next_s = min(self.next_s * 2, self.max_s)


async def settle(handle: Handle, items: list[Item], quarantine: Quarantine, backoff_s: float) -> None:
    """Run ``handle`` until every record of ``items`` is handled; raises only ``CancelledError``."""
    backoff, failures = Backoff(backoff_s), 0
    while True:
        try:
            await handle(items)
            return
        except Exception as exc:  # noqa: BLE001 - sorted below: retried, or pinned on one record
            if transient(exc):
                log.warning("batch of %d waits for an outage, retrying in %.1fs: %s", len(items), backoff.next_s, exc)
            elif failures < RECORD_RETRIES:
                failures += 1
                log.warning("batch of %d failed (%r), retrying in %.1fs", len(items), exc, backoff.next_s)
            elif len(items) > 1:
                half = len(items) // 2  # in order: a key's records keep their order
                await settle(handle, items[:half], quarantine, backoff_s)
                await settle(handle, items[half:], quarantine, backoff_s)
                return
            else:
                log.error("record %s failed %d times, dead-lettered: %r", items[0].position, failures + 1, exc)
                await _quarantine(quarantine, Rejected(items[0], f"worker: {type(exc).__name__}: {exc}"[:1000],
                                                       "worker"), backoff_s)
                return
        await backoff.wait()


async def _quarantine(quarantine: Quarantine, rejected: Rejected, backoff_s: float) -> None:
    """Dead-letter one record; a dead letter that cannot be written yet is retried, never dropped."""
    backoff = Backoff(backoff_s)
    while True:
        try:
            await quarantine([rejected])
            return
        except Exception as exc:  # noqa: BLE001 - the record must land somewhere before its offset moves
            log.error("dead letter for %s not written, retrying in %.1fs: %r", rejected.item.position,
                      backoff.next_s, exc)
        await backoff.wait()
