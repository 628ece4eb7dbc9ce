"""Headwater itself in ``headwater bench --peers``: a real worker process on topics of its own.

The worker loads the embedder from the same settings as the bench (same model, same
backend), on a fresh embedding cache, so nothing is pre-computed. The clock stops when it
stored the count :func:`streams.harness.bench.throughput.expected_records` predicts: with curation on
(the default), copies and low-quality chunks never reach the index.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from connectors import kafka_admin
from streams.embed.base import Embedder
from streams.harness.bench.peers import kafka as pk
from streams.harness.bench.peers.job import PARTITIONS, Job, SystemRun
from streams.observe.console import say
from streams.settings import Settings


class WorkerPeer:
    """The work happens in the worker process; this side only waits for the clock to stop it."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._stop = threading.Event()

    def run(self) -> None:
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


def headwater(settings: Settings, client: Any, embedder: Embedder, job: Job, label: str) -> SystemRun:
    """One worker, one job: the :class:`~streams.harness.bench.peers.job.SystemRun`; the collection is kept."""
    from streams.harness.bench.throughput import expected_records, fresh_worker

    logs = settings.stack.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    expected = len(expected_records(job.events, embedder, settings))
    worker = fresh_worker(settings, logs)
    w = worker.settings
    tenant = job.events[0].tenant
    try:
        peer = WorkerPeer(w.worker.app_id)
        took = pk.race(peer, lambda: pk.assigned(settings, peer.group, w.topics.document, PARTITIONS),
                       lambda: pk.produce(settings, w.topics.document, job.events),
                       lambda: pk.count(client, w.weaviate.collection, tenant), expected, label)
        time.sleep(1)  # the last batch's stage counters land just after its objects
        say(f"[peers] {label} ({job.corpus}): worker stage seconds " + ", ".join(
            f"{k} {v:.1f}" for k, v in worker.metrics()["seconds"].items()))
    except BaseException:
        client.collections.delete([w.weaviate.collection, f"{w.weaviate.collection}Ledger"])
        raise
    finally:
        worker.kill(signal.SIGTERM)
        kafka_admin.delete_topics(settings.kafka, [*w.topics.inputs(), w.topics.dead_letter])
    stored = pk.count(client, w.weaviate.collection, tenant)
    return SystemRun(label, job.corpus, len(job.events), stored, expected, job.mb, took, w.weaviate.collection, tenant,
                   backend=embedder.model_id)
