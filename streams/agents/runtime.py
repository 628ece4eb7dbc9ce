"""What a worker holds for its lifetime: settings turned into plain arguments, model, client, indexer.

The edge between settings and the pure stages: everything a transform needs is built
here from :class:`~streams.settings.Settings` and passed down as arguments. Model and
Weaviate client are created once, in the worker's own indexing thread.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import ssl
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust

from connectors.config import KafkaSettings
from streams.indexer import Indexer, Outcome
from streams.observe.metrics import Metrics
from streams.plan import Plan, plan_batch
from streams.settings import CurateSettings, QualitySettings, Settings
from streams.transforms.curate.judge import QualityRules
from streams.transforms.curate.policy import Curation
from streams.transforms.validate import Item

T = TypeVar("T")


class Runtime:
    """Model, Weaviate client and indexer, created once in the worker's own thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        # One thread per lane: a document batch being embedded never holds up a sensor or app batch.
        self.pools = {lane: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"index-{lane}")
                      for lane in ("readings", "urgent", "bulk")}
        self._lock = threading.Lock()
        self._indexer: Indexer | None = None
        self.curation: Curation | None = curation(settings.curate) if settings.curate.enabled else None
        self.lanes: weakref.WeakSet[Any] = weakref.WeakSet()  # the faust lanes, whose read-ahead a rebalance takes back

    @property
    def indexer(self) -> Indexer:
        with self._lock:  # both lanes may ask first
            return self._indexer or self._create()

    def _create(self) -> Indexer:
        if self._indexer is None:
            from connectors.weaviate.client import connect
            from streams import embed
            from streams.embed.cache import CachedEmbedder

            cur = self.settings.curate
            embedder: embed.Embedder = embed.load(self.settings.embed, self.settings.stack.cache_dir)
            if cur.cache_enabled:
                path = self.settings.stack.data_dir / "cache" / "embeddings.sqlite"
                embedder = CachedEmbedder(embedder, path, cur.cache_max_entries)
            self.count_tokens = embedder.token_counter()
            self.max_tokens = min(self.settings.chunk.max_tokens, embedder.max_tokens)
            self._indexer = Indexer(connect(self.settings.weaviate), embedder, self.settings.weaviate.collection,
                                    dedup=cur.enabled and cur.dedup_exact, near=cur.enabled and cur.dedup_near,
                                    near_threshold=cur.near_threshold,
                                    semantic_threshold=cur.semantic_threshold if cur.enabled else None,
                                    upsert_batch_max=self.settings.worker.upsert_batch_max,
                                    max_clock_skew_s=self.settings.worker.max_clock_skew_s)
        return self._indexer

    async def run(self, lane: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in the lane's own thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.pools[lane], fn, *args)

    def prepare(self) -> None:
        """Load model and client and run the first forward passes, in the calling thread."""
        self._warm()
        self.warm = True

    async def warm_up(self) -> str:
        """Load the model and run its first forward passes before the first event; returns the model id."""
        if not getattr(self, "warm", False):
            await self.run("urgent", self._warm)
        return self.indexer.embedder.model_id

    def _warm(self) -> None:
        self.indexer.embedder.warm_up()
        if self.curation is not None:
            from streams.transforms.fingerprint import lsh_bands

            lsh_bands("warm up")  # draws the MinHash permutations once, before the first batch

    def plan(self, items: list[Item]) -> Plan:
        self.indexer  # noqa: B018 - the token counter comes with the model
        c = self.settings.chunk
        return plan_batch(items, self.count_tokens, document_topic=self.settings.topics.document,
                          max_bytes=self.settings.kafka.max_event_bytes, max_tokens=self.max_tokens,
                          overlap_tokens=min(c.overlap_tokens, self.max_tokens // 2), now=datetime.now(UTC),
                          max_clock_skew_s=self.settings.worker.max_clock_skew_s, curation=self.curation)

    def execute(self, plan: Plan, lane: str = "urgent") -> Outcome:
        return self.indexer.execute(plan, urgent=lane != "bulk")

    def forget_states(self) -> None:
        """Current states are read back from Weaviate again: the group's partitions moved."""
        if self._indexer is not None:
            self._indexer.forget_states()

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        if self._indexer is not None:
            self._indexer.client.close()


def curation(s: CurateSettings) -> Curation:
    """The curation policy from settings: compiled patterns, rules per source, optional recognizers."""
    recognizer = None
    if s.redact_pii and s.presidio:
        from streams.transforms.curate import presidio

        recognizer = presidio.load(s.presidio_model, s.presidio_entities, s.presidio_min_score)
    return Curation(redact_pii=s.redact_pii, patterns=tuple((k, re.compile(v)) for k, v in s.pii_patterns.items()),
                    rules=_rules(s.quality), rules_by_source={k: _rules(v) for k, v in s.quality_by_source.items()},
                    classifier=_load(s.classifier), near=s.dedup_near, exact=s.dedup_exact,
                    sensor_state=s.sensor_current_state, sensor_readings=s.sensor_readings == "index",
                    recognizer=recognizer)


def _rules(q: QualitySettings) -> QualityRules:
    return QualityRules(min_chars=q.min_chars, min_words=q.min_words, max_symbol_ratio=q.max_symbol_ratio,
                        min_unique_word_ratio=q.min_unique_word_ratio, blocked_words=q.blocked_words,
                        toxic_patterns=q.toxic_patterns, languages=q.languages)


def _load(path: str | None) -> Callable[[str], str | None] | None:
    if not path:
        return None
    module, _, name = path.partition(":")
    fn: Callable[[str], str | None] = getattr(importlib.import_module(module), name)
    return fn


def broker_credentials(kafka: KafkaSettings) -> faust.types.auth.CredentialsT | None:
    """The worker's Kafka security from the same settings the connectors use (SASL, TLS)."""
    tls = ssl.create_default_context() if kafka.security_protocol.upper().endswith("SSL") else None
    if kafka.sasl_mechanism:
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(username=kafka.sasl_username, password=password, ssl_context=tls,
                                     mechanism=kafka.sasl_mechanism)
    return faust.SSLCredentials(tls) if tls is not None else None
