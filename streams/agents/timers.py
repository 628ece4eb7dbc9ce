"""The worker's periodic and start-up tasks: warm-up, metrics log line, TTL sweep, metrics page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import faust

from connectors.weaviate.client import TargetUnavailable
from streams.agents.runtime import Runtime

log = logging.getLogger("headwater.worker")


def register(app: faust.App, rt: Runtime) -> None:
    """Register the start-up task, the timers and the ``/metrics`` page on ``app``."""

    async def warm_up() -> None:
        model_id = await rt.warm_up()
        log.info("headwater worker ready: model %s", model_id)

    async def report() -> None:
        snap = rt.metrics.snapshot()
        if snap["counts"]:
            log.info("headwater metrics %s", snap)

    async def expire() -> None:
        cur = rt.settings.curate
        if not (cur.ttl_s_by_kind or cur.ttl_s_by_source):
            return
        try:
            n = await rt.run("bulk", rt.indexer.expire, datetime.now(UTC), cur.ttl_s_by_kind, cur.ttl_s_by_source)
        except TargetUnavailable as exc:
            log.warning("expiry skipped, weaviate unavailable: %s", exc)
            return
        rt.metrics.counts["expired"] += n

    async def metrics_page(web: Any, request: Any) -> Any:
        return web.json(rt.metrics.snapshot())

    async def close(app: Any, *_: Any, signal: Any = None, **__: Any) -> None:
        rt.close()  # the Weaviate connection and the lane threads, before the event loop closes

    app.task(warm_up)
    app.timer(10.0, name="headwater.report")(report)
    # One sweep for the whole consumer group: only the group's leader runs it.
    app.timer(rt.settings.curate.ttl_sweep_s, name="headwater.expire", on_leader=True)(expire)
    app.page("/metrics")(metrics_page)
    app.on_before_shutdown.connect(close)  # type: ignore[arg-type]
