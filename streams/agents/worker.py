"""The stream worker: Kafka input topics -> pipeline plan -> Weaviate, offsets committed after.

Thin wiring around :mod:`streams.pipeline` and :mod:`streams.indexer`:

- events are batched (``embed.batch_size`` events or ``embed.batch_timeout_ms``);
- bad records go to the dead-letter topic with the reason in headers, never crash the agent;
- a batch is acknowledged only after Weaviate accepted it; while Weaviate is down the
  agent retries with backoff and does not move past the batch. Each message holds an
  extra reference until then, so even the ack that ``take_events`` performs on
  shutdown cannot commit an unwritten offset.

Effectively-once comes from at-least-once delivery plus deterministic object ids.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, cast

import faust
from weaviate.exceptions import WeaviateConnectionError

from connectors.dead_letter import dead_letter_headers
from connectors.weaviate_target import TargetUnavailable
from streams.curation import Curation
from streams.embed_cache import CachedEmbedder
from streams.indexer import Indexer, Outcome
from streams.metrics import Metrics
from streams.pipeline import Plan, plan_batch
from streams.settings import KafkaSettings, Settings
from streams.transforms.curate import redact
from streams.transforms.enrich import KafkaPosition
from streams.transforms.validate import Item, Rejected

log = logging.getLogger("headwater.worker")


class Runtime:
    """Model, Weaviate client and indexer, created once in the worker's own thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer")
        self._indexer: Indexer | None = None
        self._count_tokens: Any = None
        self.curation: Curation | None = None

    def _init(self) -> Indexer:
        if self._indexer is None:
            from streams.embedder import Embedder
            from streams.weaviate_client import connect

            cur = self.settings.curate
            embedder: Any = Embedder(self.settings.embed)
            if cur.cache_enabled:
                path = self.settings.stack.data_dir / "cache" / "embeddings.sqlite"
                embedder = CachedEmbedder(embedder, path, cur.cache_max_entries)
            self.embedder = embedder
            self._count_tokens = embedder.token_counter()
            self.max_tokens = min(self.settings.chunk.max_tokens, embedder.max_tokens)
            self.curation = Curation.from_settings(cur) if cur.enabled else None
            self._indexer = Indexer(connect(self.settings.weaviate), embedder, self.settings.weaviate.collection,
                                    dedup=cur.enabled and cur.dedup_exact, near=cur.enabled and cur.dedup_near,
                                    near_threshold=cur.near_threshold,
                                    semantic_threshold=cur.semantic_threshold if cur.enabled else None)
        return self._indexer

    async def run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def warm_up(self) -> None:
        # The first forward passes allocate and pick kernels; pay that before the first event.
        model = await self.run(lambda: getattr(self._init().embedder, "inner", self._init().embedder))
        await self.run(lambda: model.encode(["warm up " * n for n in (4, 32, 128)] * 4))

    def plan(self, items: list[Item]) -> Plan:
        self._init()
        c = self.settings.chunk
        return plan_batch(items, self._count_tokens, document_topic=self.settings.topics.document,
                          max_bytes=c.max_event_bytes, max_tokens=self.max_tokens,
                          overlap_tokens=min(c.overlap_tokens, self.max_tokens // 2), curation=self.curation)

    def execute(self, plan: Plan) -> Outcome:
        return self._init().execute(plan)


def _item(event: Any) -> Item:
    m = event.message
    ts = int(m.timestamp * 1000) if m.timestamp else None
    return Item(m.value, m.key, KafkaPosition(m.topic, m.partition, m.offset), ts)


def broker_credentials(kafka: KafkaSettings) -> faust.types.auth.CredentialsT | None:
    """The worker's Kafka security from the same settings the connectors use (SASL, TLS)."""
    tls = ssl.create_default_context() if kafka.security_protocol.upper().endswith("SSL") else None
    if kafka.sasl_mechanism:
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(username=kafka.sasl_username, password=password, ssl_context=tls,
                                     mechanism=kafka.sasl_mechanism)
    return faust.SSLCredentials(tls) if tls is not None else None


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.worker.app_id,
        broker=f"kafka://{settings.kafka.bootstrap_servers}",
        broker_credentials=broker_credentials(settings.kafka),
        store="memory://",
        web_port=settings.worker.web_port,
        web_host="127.0.0.1",
        topic_partitions=settings.kafka.partitions,
        broker_session_timeout=settings.kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=1.0,
        broker_commit_interval=0.5,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=4096,
        producer_max_request_size=4_194_304,
    )
    rt = Runtime(settings)
    app.headwater_runtime = rt  # type: ignore[attr-defined]
    inputs = app.topic(*settings.topics.inputs(), key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw", allow_empty=True)
    dead = app.topic(settings.topics.dead_letter, key_serializer="raw", value_serializer="raw")
    audit = app.topic(settings.topics.audit, key_serializer="raw", value_serializer="raw")
    batch_n, within = settings.embed.batch_max_events, settings.embed.batch_timeout_ms / 1000

    async def dead_letter(rejected: list[Rejected]) -> None:
        for r in rejected:
            p = r.item.position
            headers = dead_letter_headers(reason=r.reason, stage=r.stage, source_topic=p.topic,
                                          partition=p.partition, offset=p.offset)
            value = r.item.value or b""
            if settings.curate.redact_dead_letters:
                # The dead-letter topic must not become a PII leak: values are kept as redacted text.
                scrub = rt.curation.redact_text if rt.curation is not None and rt.curation.redact_pii else redact
                value = scrub(value.decode("utf-8", errors="replace"))[0].encode()
                headers["headwater.reason"] = scrub(headers["headwater.reason"])[0]
                headers["headwater.redacted"] = "true"
            fut = await dead.send(key=r.item.key, value=value,
                                  headers=[(k, v.encode()) for k, v in headers.items()])
            await fut
            rt.metrics.counts[f"dead_letter.{r.stage}"] += 1

    async def write(plan: Plan) -> Outcome:
        backoff = 0.5
        while True:
            try:
                outcome: Outcome = await rt.run(rt.execute, plan)
                return outcome
            except (TargetUnavailable, WeaviateConnectionError, ConnectionError, OSError) as exc:
                rt.metrics.counts["upsert.retries"] += 1
                log.warning("weaviate unavailable, retrying batch in %.1fs: %s", backoff, exc)
            except Exception as exc:  # noqa: BLE001 - unknown errors: retry too, never skip the batch
                rt.metrics.counts["upsert.errors"] += 1
                log.exception("indexing failed, retrying batch in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, settings.worker.max_retry_backoff_s)

    async def handle(batch: list[Any]) -> None:
        items = [_item(e) for e in batch]
        t0 = time.perf_counter()
        plan = await rt.run(rt.plan, items)
        rt.metrics.seconds["plan"] += time.perf_counter() - t0
        await dead_letter(plan.rejected)
        outcome = await write(plan)
        by_uuid = {f.uuid: f.reason for f in outcome.failures}
        failed = {id(plan.origin[u]): plan.origin[u] for u in by_uuid}
        await dead_letter([Rejected(it, f"weaviate: {_reason_for(it, plan, by_uuid)}", "upsert")
                           for it in failed.values()])
        now = datetime.now(UTC)
        rt.metrics.observe_freshness(
            (r.properties["ingest_time"] for r in plan.all_records() if r.uuid not in by_uuid), now)
        c = rt.metrics.counts
        c["events"] += len(items)
        c["chunks.written"] += outcome.written
        c["chunks.deleted"] += outcome.deleted
        c["obsolete"] += outcome.skipped_obsolete + plan.obsolete
        c["batches"] += 1
        await account(plan, outcome)
        rt.metrics.seconds["lookup"] += outcome.lookup_s
        rt.metrics.seconds["embed"] += outcome.embed_s
        rt.metrics.seconds["write"] += outcome.write_s

    async def account(plan: Plan, outcome: Outcome) -> None:
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
        cache = getattr(rt.embedder, "stats", None)
        if cache is not None:
            rt.metrics.cache = cache()

    @app.agent(inputs)
    async def index(stream: faust.StreamT[bytes]) -> None:
        # take_events is on faust's Stream, not on the StreamT protocol agents are typed with.
        async for batch in cast("faust.Stream[bytes]", stream).take_events(batch_n, within=within):
            for e in batch:
                e.message.incref()  # held until Weaviate accepted the batch; see module docstring
            await handle(list(batch))
            for e in batch:
                await stream.ack(e)

    @app.task  # type: ignore[untyped-decorator]
    async def warm_up() -> None:
        await rt.warm_up()
        log.info("headwater worker ready: model %s", rt._init().embedder.model_id)

    @app.timer(10.0)  # type: ignore[untyped-decorator]
    async def report() -> None:
        snap = rt.metrics.snapshot()
        if snap["counts"]:
            log.info("headwater metrics %s", snap)

    @app.timer(settings.curate.ttl_sweep_s)  # type: ignore[untyped-decorator]
    async def expire() -> None:
        cur = settings.curate
        if cur.ttl_s_by_kind or cur.ttl_s_by_source:
            try:
                n = await rt.run(lambda: rt._init().expire(datetime.now(UTC), cur.ttl_s_by_kind, cur.ttl_s_by_source))
            except TargetUnavailable as exc:
                log.warning("expiry skipped, weaviate unavailable: %s", exc)
                return
            rt.metrics.counts["expired"] += n

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.json(rt.metrics.snapshot())

    return app


def _reason_for(item: Item, plan: Plan, by_uuid: dict[str, str]) -> str:
    return next(reason for u, reason in by_uuid.items() if plan.origin[u] is item)
