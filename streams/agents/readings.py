"""The readings lane: sensor readings in batches straight from librdkafka, off faust's per-message path.

A fleet sends thousands of readings a second, and in state mode a reading costs a decode and
little else. faust hands every message through a queue, a stream iterator and an ack, about
150 us of Python each under the GIL: more than the reading itself. confluent-kafka's
``consume()`` returns a whole batch from C. The batch then goes the way every batch goes
(:func:`streams.agents.index.handle_all` on the worker's event loop: plan, dead letters, write,
audit, metrics), and its offsets are committed once Weaviate accepted it.

The lane has a consumer group of its own (:meth:`~streams.settings.Settings.consumer_groups`):
faust's group speaks faust's partition assignor, which librdkafka does not. More workers share
the sensor topic's partitions in it as they share the other topics in faust's. Where the lane's
group has no offset yet, it starts where ``resume_from`` says (a worker from before the lanes
split committed the sensor topic in faust's group), not at the start of the topic's history.
A batch is processed between two ``consume()`` calls, so a rebalance never finds one half done;
a batch that outlives the group's poll interval (a long Weaviate outage) is written again by whoever
gets its partition, which deterministic ids make harmless.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from mode import Service

from connectors.config import kafka_config
from schemas.chunk import KafkaPosition
from streams.settings import Settings
from streams.transforms.validate import Item

log = logging.getLogger("headwater.worker")

Handle = Callable[[list[Item]], Coroutine[Any, Any, None]]
Resume = Callable[[list[tuple[str, int]]], dict[tuple[str, int], int]]  # (topic, partition) -> offset


def item(m: Message) -> Item:
    kind, ts = m.timestamp()
    return Item(m.value(), m.key(), KafkaPosition(m.topic() or "", m.partition() or 0, m.offset() or 0),
                ts if kind and ts > 0 else None)


class ReadingsLane(Service):
    """One consumer thread: ``consume()`` a batch, hand it to ``handle`` on the event loop, commit.

    One batch at a time. Planning the next batch while the last one is written was tried: both
    stages are Python under one GIL, and each took twice as long (paced freshness p50 2.7 -> 5.1 s).
    """

    def __init__(self, config: dict[str, Any], topics: list[str], handle: Handle, *, max_events: int,
                 within_s: float, retry_s: float = 5.0, on_rebalance: Callable[[], None] = lambda: None,
                 resume_from: Resume = lambda _: {}, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config, self.topics, self.handle, self.on_rebalance = config, topics, handle, on_rebalance
        self.resume_from = resume_from
        self.max_events, self.within_s, self.retry_s = max_events, within_s, retry_s
        self._stopping = threading.Event()
        self._inflight: Future[None] | None = None
        self._thread: threading.Thread | None = None

    async def on_start(self) -> None:
        self._worker_loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._consume, name="readings-consumer", daemon=True)
        self._thread.start()

    async def on_stop(self) -> None:
        self._stopping.set()
        if self._inflight is not None:
            self._inflight.cancel()  # uncommitted: the next owner of its partitions writes it again
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)

    def _consume(self) -> None:
        consumer = Consumer(self.config)
        # Partitions move only inside consume(), between two batches: none is ever half written then.
        consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=lambda *_: self.on_rebalance())
        try:
            while not self._stopping.is_set():
                batch = consumer.consume(self.max_events, timeout=self.within_s)
                items = [item(m) for m in batch if not _failed(m)]
                if items and self._process(items):
                    _commit(consumer)
        finally:
            consumer.close()

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.on_rebalance()
        try:
            own = consumer.committed(partitions, timeout=10)
            new = [(tp.topic, tp.partition) for tp in own if tp.offset < 0]
            earlier = self.resume_from(new) if new else {}
        except Exception as exc:  # noqa: BLE001 - without them the lane starts as Kafka says (earliest)
            log.warning("readings lane: could not read committed offsets (%s); starting as configured", exc)
            earlier = {}
        for tp in partitions:
            if (tp.topic, tp.partition) in earlier:
                tp.offset = earlier[(tp.topic, tp.partition)]
        consumer.incremental_assign(partitions)

    def _process(self, items: list[Item]) -> bool:
        """Run ``handle`` until it succeeds (True), or the lane stops (False: nothing is committed)."""
        while not self._stopping.is_set():
            self._inflight = asyncio.run_coroutine_threadsafe(self.handle(items), self._worker_loop)
            try:
                self._inflight.result()
                return True
            except Exception:  # noqa: BLE001 - a bug in one batch must not stop the lane, nor skip the batch
                if self._stopping.is_set():
                    return False
                log.exception("readings batch of %d failed, retrying in %.0f s", len(items), self.retry_s)
                self._stopping.wait(self.retry_s)
            finally:
                self._inflight = None
        return False


def _failed(m: Message) -> bool:
    err = m.error()
    if err is not None:
        log.warning("readings consumer: %s", err)
    return err is not None


def _commit(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:  # the group moved on (rebalance): the next owner writes it again
        log.warning("readings offsets not committed (%s); the batch will be written again", exc)


def lane_config(settings: Settings, group: str) -> dict[str, Any]:
    """librdkafka settings of the readings consumer: the worker's Kafka, its own group, manual commits."""
    w, k = settings.worker, settings.kafka
    conf = kafka_config(k, f"{group}-{int(time.time())}") | {
        "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
        "session.timeout.ms": k.session_timeout_ms, "heartbeat.interval.ms": 1000,
        # A Weaviate outage holds a batch until Weaviate is back; the group waits as long as faust's does.
        "max.poll.interval.ms": 300_000, "partition.assignment.strategy": "cooperative-sticky"}
    if w.instance_id:
        conf["group.instance.id"] = f"{w.instance_id}-readings"
    return conf
