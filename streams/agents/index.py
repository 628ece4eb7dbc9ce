"""The index agents: Kafka input topics -> plan -> Weaviate, offsets committed after.

Three lanes, each batching and writing on its own: app events (urgent), documents (bulk), and
sensor readings (:mod:`streams.agents.readings`, off faust's per-message path).

- records are gathered into adaptive batches while the last batch is written
  (:mod:`streams.agents.batching`: bounded by events and by estimated work);
- bad records go to the dead-letter topic with the reason in headers, never crash the agent;
  an error no rule foresaw is pinned on the one record that causes it (:mod:`streams.agents.settle`);
- a batch is acknowledged only after Weaviate accepted it; while Weaviate is down the
  agent retries with backoff and does not move past the batch. Each message holds an
  extra reference until then, and offsets are committed by Headwater's rule
  (:mod:`streams.agents.commit`): never past a record not yet written or dead-lettered.

Effectively-once comes from at-least-once delivery plus deterministic object ids.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import faust

from connectors import kafka_admin
from schemas.chunk import KafkaPosition
from streams.agents import dead_letter
from streams.agents.batching import Gather, Lane, work
from streams.agents.readings import ReadingsLane, lane_config
from streams.agents.runtime import Runtime
from streams.agents.settle import settle, transient
from streams.indexer import Outcome
from streams.plan import Plan
from streams.transforms.validate import Item, Rejected

log = logging.getLogger("headwater.worker")


@dataclass(frozen=True)
class Channels:
    """The worker's topics: what each lane reads, and where dead letters and audit records go."""

    urgent: Any  # app events: small, and wanted within a second
    bulk: Any  # documents: large, and never in the way of the urgent lane
    readings: str  # sensor readings, in a lane of their own (:mod:`streams.agents.readings`)
    dead_letter: Any
    audit: Any


def register(app: faust.App, rt: Runtime, channels: Channels) -> None:
    """Register one index agent per lane on ``app``; each lane gathers, plans and writes on its own."""
    for lane, topic in (("urgent", channels.urgent), ("bulk", channels.bulk)):
        app.agent(topic, name=f"headwater.index.{lane}")(_agent(rt, channels, lane))
    s = rt.settings
    readings = ReadingsLane(
        lane_config(s, s.readings_group()), [channels.readings], partial(handle_all, rt, channels, lane="readings"),
        # In index mode every reading is an object of its own: as much work as an app event.
        max_events=s.worker.batch_max_work if s.curate.sensor_readings == "index" else s.embed.batch_max_events,
        within_s=s.embed.batch_timeout_ms / 1000, retry_s=s.worker.max_retry_backoff_s,
        on_rebalance=rt.forget_states, loop=app.loop, beacon=app.beacon,
        # An upgraded worker resumes where its faust group left the sensor topic, not at its first record.
        resume_from=partial(kafka_admin.committed, s.kafka, s.worker.app_id))

    async def rebalanced(*_: Any, **__: Any) -> None:
        rt.forget_states()  # sensor readings sent to faust's topics move current states too

    app.on_partitions_assigned.connect(rebalanced)

    async def start_readings() -> None:
        await app.add_runtime_dependency(readings)

    app.task(start_readings)


def _agent(rt: Runtime, channels: Channels, lane: str) -> Any:
    s = rt.settings
    kinds = {s.topics.sensor: "sensor", s.topics.app: "app", s.topics.document: "document"}
    objects = s.curate.sensor_readings == "index"
    bulk = lane == "bulk"
    max_events = s.worker.document_batch_max if bulk else s.embed.batch_max_events
    max_work = s.worker.document_batch_max_work if bulk else s.worker.batch_max_work

    async def index(stream: faust.StreamT[bytes]) -> None:
        async def process(batch: list[Any]) -> None:
            await handle_all(rt, channels, [item(e) for e in batch], lane)
            for e in batch:
                await stream.ack(e)

        # A quarter of the work bound after a quiet spell: the first article of a backfill goes alone.
        gather: Gather[Any] = Gather(max_events, max_work, s.embed.batch_timeout_ms / 1000, start_work=max_work / 4,
                                     read_ahead=s.worker.document_read_ahead if bulk else 0)
        feed = Lane(gather, process)
        rt.lanes.add(feed)
        try:
            # events() is on faust's Stream, not on the StreamT protocol agents are typed with.
            offsets = cast("Any", stream).app.consumer.offsets
            async for e in cast("faust.Stream[bytes]", stream).events():
                e.message.incref()  # held until Weaviate accepted its batch; see module docstring
                m = e.message
                offsets.deliver(m.tp, m.offset)  # no commit passes it before it is handled
                # A document's events keep their order (its key); keyless records keep theirs per partition.
                key = m.key if m.key is not None else (m.topic, m.partition)
                await feed.put(e, work(kinds.get(m.topic, "app"), len(m.value or b""), objects), key)
        finally:
            feed.close()

    return index


def item(event: Any) -> Item:
    m = event.message
    ts = int(m.timestamp * 1000) if m.timestamp else None
    return Item(m.value, m.key, KafkaPosition(m.topic, m.partition, m.offset), ts)


async def handle_all(rt: Runtime, channels: Channels, items: list[Item], lane: str = "urgent") -> None:
    """Handle every record: written or dead-lettered; only an outage holds it (retried, never skipped)."""
    await settle(partial(handle, rt, channels, lane=lane), items, partial(dead_letter.send, rt, channels.dead_letter),
                 rt.settings.worker.max_retry_backoff_s)


async def handle(rt: Runtime, channels: Channels, items: list[Item], lane: str = "urgent") -> None:
    """One try: plan, dead-letter the rejected, write (retrying outages), dead-letter what Weaviate refused, count."""
    t0 = time.perf_counter()
    plan = await rt.run(lane, rt.plan, items)
    rt.metrics.seconds["plan"] += time.perf_counter() - t0
    await dead_letter.send(rt, channels.dead_letter, plan.rejected)
    outcome = await write(rt, plan, lane)
    by_uuid = {f.uuid: f.reason for f in outcome.failures}
    failed = {id(plan.origin[u]): plan.origin[u] for u in by_uuid}
    await dead_letter.send(rt, channels.dead_letter, [
        Rejected(it, f"weaviate: {_reason_for(it, plan, by_uuid)}", "upsert") for it in failed.values()])
    rt.metrics.observe_freshness((r.properties["ingest_time"] for r in outcome.written), datetime.now(UTC), lane)
    c = rt.metrics.counts
    c["events"] += len(items)
    c["chunks.written"] += len(outcome.written)
    c["chunks.deleted"] += outcome.deleted
    c["obsolete"] += outcome.skipped_obsolete
    c["readings.coalesced"] += plan.coalesced
    c["documents.unchanged"] += outcome.unchanged
    c["batches"] += 1
    await account(rt, channels.audit, plan, outcome)
    for stage in ("lookup", "embed", "write"):
        rt.metrics.seconds[stage] += getattr(outcome, f"{stage}_s")


async def write(rt: Runtime, plan: Plan, lane: str = "urgent") -> Outcome:
    """Execute the plan; an outage is retried with backoff here (the plan's dead letters are out already).

    Any other error is raised: :func:`handle_all` pins it on the record that causes it.
    """
    backoff = 0.5
    while True:
        try:
            return await rt.run(lane, rt.execute, plan, lane)
        except Exception as exc:
            if not transient(exc):
                rt.metrics.counts["upsert.errors"] += 1
                raise
            rt.metrics.counts["upsert.retries"] += 1
            log.warning("weaviate unavailable, retrying batch in %.1fs: %s", backoff, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, rt.settings.worker.max_retry_backoff_s)


async def account(rt: Runtime, audit: Any, plan: Plan, outcome: Outcome) -> None:
    """Count every drop and redaction, and write one audit record each."""
    for d in plan.dropped + outcome.duplicates:
        rt.metrics.counts[f"dropped.{d.reason.split(' ')[0]}.{d.kind}"] += 1
        await audit.send(key=d.event_id.encode(), value=json.dumps(
            {"action": "drop", "event_id": d.event_id, "kind": d.kind, "source": d.source, "tenant": d.tenant,
             "reason": d.reason, "chunk_index": d.chunk_index}).encode())
    for event, counts in plan.redactions:
        for label, n in counts.items():
            rt.metrics.counts[f"redacted.{label}.{event.kind.value}"] += n
        await audit.send(key=event.event_id.encode(), value=json.dumps(
            {"action": "redact", "event_id": event.event_id, "kind": event.kind.value, "source": event.source,
             "tenant": event.tenant, "labels": dict(counts)}).encode())
    cache = getattr(rt.indexer.embedder, "stats", None)
    if cache is not None:
        rt.metrics.cache = cache()


def _reason_for(item: Item, plan: Plan, by_uuid: dict[str, str]) -> str:
    return next(reason for u, reason in by_uuid.items() if plan.origin[u] is item)
