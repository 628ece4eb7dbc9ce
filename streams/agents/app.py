"""The faust app of one worker: topics, and the agents and timers registered on it.

``headwater worker`` is the entry point. For the usual faust way,
``faust -A streams.agents.app worker -l info`` finds ``app`` here, built from the
environment when first asked for (nothing is read at import time).
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import faust
from faust.sensors import Monitor as FaustMonitor
from faust.types import TP, EventT, StreamT

from connectors import kafka_admin
from streams.agents import consumer, dead_letter, index, timers
from streams.agents.runtime import Runtime, broker_credentials
from streams.settings import Settings

log = logging.getLogger("headwater.worker")


class App(faust.App):
    def _new_transport(self) -> consumer.Transport:
        return consumer.transport(self)


class Raw(faust.Schema[bytes, bytes]):
    """Keys and values as the bytes Kafka holds: the planner decodes and validates them itself.

    faust's "raw" serializer gets there through its codec registry, twice per message.
    """

    def loads_key(self, app: Any, message: Any, *, loads: Any = None, serializer: Any = None) -> Any:
        return message.key

    def loads_value(self, app: Any, message: Any, *, loads: Any = None, serializer: Any = None) -> Any:
        return message.value


class Monitor(FaustMonitor):
    """faust's monitor without its statistics per message (the worker counts in ``/metrics``).

    What faust reads back is kept: when a partition's stream last took an event, for its
    "stream is not processing" warnings.
    """

    def on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        pass

    def on_stream_event_in(self, tp: TP, offset: int, stream: StreamT[Any],
                           event: EventT[Any]) -> dict[str, Any] | None:
        self.stream_inbound_time[tp] = time.monotonic()
        return None

    def on_stream_event_out(self, tp: TP, offset: int, stream: StreamT[Any], event: EventT[Any],
                            state: dict[str, Any] | None = None) -> None:
        pass

    def on_message_out(self, tp: TP, offset: int, message: Any) -> None:
        pass


def create_app(settings: Settings) -> faust.App:
    faust_dir = settings.stack.data_dir / "faust"  # not ./<app_id>-data in whatever directory it starts in
    faust_dir.mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    app = App(
        settings.worker.app_id,
        broker=f"kafka://{settings.kafka.bootstrap_servers}",
        broker_credentials=broker_credentials(settings.kafka),
        store="memory://",
        datadir=str(faust_dir / settings.worker.app_id),
        web_port=web_port(settings.worker.web_host, settings.worker.web_port),
        web_host=settings.worker.web_host,
        topic_partitions=settings.kafka.partitions,
        broker_session_timeout=settings.kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=1.0,
        broker_commit_interval=0.5,
        consumer_auto_offset_reset="earliest",
        consumer_group_instance_id=settings.worker.instance_id,
        stream_buffer_maxsize=4096,
        producer_max_request_size=dead_letter.MAX_REQUEST_BYTES,  # dead letters are bounded below it
        Monitor=Monitor,
        canonical_url=_member_url(settings.worker.instance_id),
    )
    rt = Runtime(settings)
    app.headwater_runtime = rt  # type: ignore[attr-defined]
    t = settings.topics
    _ensure_topics(settings)
    raw = Raw(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw", allow_empty=True)
    channels = index.Channels(
        urgent=app.topic(t.app, schema=raw),
        bulk=app.topic(t.document, schema=raw),
        dead_letter=app.topic(settings.topics.dead_letter, key_serializer="raw", value_serializer="raw"),
        audit=app.topic(settings.topics.audit, key_serializer="raw", value_serializer="raw"),
        readings=t.sensor)
    index.register(app, rt, channels)
    timers.register(app, rt)
    return app


def _member_url(instance_id: str | None) -> str | None:
    """faust's URL of this worker: for a static member, its instance id rather than its port.

    A static member that rejoins within the session timeout gets its old assignment back, which
    holds the URL it advertised before, and faust refuses to start on a different one: a restart
    that bound another metrics port (the last one still held) never became ready.
    """
    return f"http://{socket.gethostname()}/{instance_id}" if instance_id else None  # None: faust's own


def web_port(host: str, wanted: int) -> int:
    """``wanted``, or the next free port when another worker on this host holds it."""
    for port in range(wanted, wanted + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex((host if host != "0.0.0.0" else "127.0.0.1", port)) != 0:  # noqa: S104 - compared, not bound
                if port != wanted:
                    log.info("worker metrics port %d is taken; serving /metrics on %s:%d", wanted, host, port)
                return port
    return wanted


def _ensure_topics(settings: Settings) -> None:
    # The worker writes dead letters and audit records from its first batch; creating the topics
    # here keeps the start-up log free of "topic not found" races.
    t = settings.topics
    try:
        kafka_admin.create_topics(settings.kafka, [*t.inputs(), t.dead_letter, t.audit], settings.kafka.partitions)
    except Exception as exc:  # noqa: BLE001 - the broker may create them itself; the worker retries anyway
        log.warning("could not create topics %s: %s", [*t.inputs(), t.dead_letter, t.audit], exc)


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app(Settings())
    raise AttributeError(name)
