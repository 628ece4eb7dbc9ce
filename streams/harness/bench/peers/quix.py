"""Peer for ``headwater bench --peers``: a Quix Streams application with a batching Weaviate sink.

The sink follows Quix's own lifecycle: records accumulate per partition, ``write`` gets
one batch at each checkpoint, and offsets are committed only after it returned. The
checkpoint interval is 0.2 s, Headwater's batch window (``embed.batch_timeout_ms``);
Quix's default of 5 s would measure the setting, not the pipeline. Quix installs
signal handlers, so :meth:`QuixPeer.run` must be called from the main thread.
Needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from typing import Any

from quixstreams import Application
from quixstreams.sinks import BatchingSink, SinkBatch

from streams.embed.base import Embedder
from streams.harness.bench.peers.kafka import Chunker, Piece, insert, pieces
from streams.settings import Settings


class WeaviateSink(BatchingSink):  # type: ignore[misc, unused-ignore]  # Any where quixstreams is absent
    """Chunks, encodes and inserts one checkpoint's batch of document events."""

    def __init__(self, client: Any, collection: str, embedder: Embedder, cut: Chunker) -> None:
        super().__init__()
        self.client, self.collection, self.embedder, self.cut = client, collection, embedder, cut

    def write(self, batch: SinkBatch) -> None:
        found: list[Piece] = [p for item in batch if item.value is not None for p in pieces(item.value, self.cut)]
        insert(self.client, self.collection, found, self.embedder)


class QuixPeer:
    def __init__(self, settings: Settings, topic: str, client: Any, collection: str, embedder: Embedder,
                 cut: Chunker, commit_interval_s: float = 0.2) -> None:
        self.group = f"peer-quix-{uuid.uuid4().hex[:8]}"
        self._state = tempfile.TemporaryDirectory(prefix="quix-state-")
        # loglevel=None: Quix leaves logging alone, so its INFO lines stay off the bench's terminal.
        self.app = Application(broker_address=settings.kafka.bootstrap_servers, consumer_group=self.group,
                               auto_offset_reset="earliest", commit_interval=commit_interval_s,
                               state_dir=self._state.name, use_changelog_topics=False, loglevel=None,
                               auto_create_topics=False)
        logging.getLogger("quixstreams").setLevel(logging.ERROR)
        sdf = self.app.dataframe(self.app.topic(topic, value_deserializer="bytes", key_deserializer="bytes"))
        sdf.sink(WeaviateSink(client, collection, embedder, cut))

    def run(self) -> None:
        try:
            self.app.run()
        finally:
            self._state.cleanup()

    def stop(self) -> None:
        self.app.stop()
