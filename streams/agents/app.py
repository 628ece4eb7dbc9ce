"""The faust app of one worker: topics, and the agents and timers registered on it.

``headwater worker`` is the entry point. For the usual faust way,
``faust -A streams.agents.app worker -l info`` finds ``app`` here, built from the
environment when first asked for (nothing is read at import time).
"""

from __future__ import annotations

from typing import Any

import faust

from streams.agents import index, timers
from streams.agents.runtime import Runtime, broker_credentials
from streams.settings import Settings


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
    channels = index.Channels(
        inputs=app.topic(*settings.topics.inputs(), key_type=bytes, value_type=bytes, allow_empty=True,
                         key_serializer="raw", value_serializer="raw"),
        dead_letter=app.topic(settings.topics.dead_letter, key_serializer="raw", value_serializer="raw"),
        audit=app.topic(settings.topics.audit, key_serializer="raw", value_serializer="raw"))
    index.register(app, rt, channels)
    timers.register(app, rt)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app(Settings())
    raise AttributeError(name)
