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
            n = await rt.run(rt.indexer.expire, datetime.now(UTC), cur.ttl_s_by_kind, cur.ttl_s_by_source)
        except TargetUnavailable as exc:
            log.warning("expiry skipped, weaviate unavailable: %s", exc)
            return
        rt.metrics.counts["expired"] += n

    async def metrics_page(web: Any, request: Any) -> Any:
        return web.json(rt.metrics.snapshot())

    app.task(warm_up)
    app.timer(10.0, name="headwater.report")(report)
    app.timer(rt.settings.curate.ttl_sweep_s, name="headwater.expire")(expire)
    app.page("/metrics")(metrics_page)
