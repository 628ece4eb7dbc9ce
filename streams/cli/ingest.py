"""CLI commands that move outside data into Kafka: ``ingest`` (files), ``connect http``, ``connect mqtt``.

Standalone click commands; :mod:`streams.cli` attaches ``ingest`` to the main group and
``connect_http`` / ``connect_mqtt`` (named ``http`` / ``mqtt``) to the ``connect`` group.
Each builds ``Settings()`` once, prints its counters at the end, and ends problems the
user can fix (Kafka or the MQTT broker unreachable, port taken) with one line on stderr
and exit code 1.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from streams.settings import Settings

T = TypeVar("T")


class UserError(Exception):
    """A problem the user can fix; the message is the one line to print."""


@contextmanager
def _friendly() -> Iterator[None]:
    """Turn user-fixable failures into one line on stderr and exit code 1."""
    from connectors.mqtt_source import MqttUnreachable
    from connectors.producer import DeliveryFailed

    try:
        yield
    except (UserError, MqttUnreachable) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except DeliveryFailed as exc:
        click.echo(f"error: {exc}; check that Kafka runs (`headwater stack status`)", err=True)
        sys.exit(1)


def require_kafka(settings: Settings, timeout_s: float = 5.0) -> None:
    """Raise :class:`UserError` naming the address when no Kafka broker answers."""
    from connectors import kafka_admin

    try:
        kafka_admin.require(settings.kafka, timeout_s)
    except kafka_admin.KafkaUnreachable as exc:
        raise UserError(str(exc)) from None


def _until_signal(main: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run ``main(stop)``; Ctrl-C or SIGTERM sets ``stop`` (a second Ctrl-C interrupts)."""

    async def runner() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stopper(loop, stop, sig))
        return await main(stop)

    return asyncio.run(runner())


def _stopper(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, sig: int) -> Callable[[], None]:
    def handle() -> None:
        if stop.is_set():
            loop.remove_signal_handler(sig)
            signal.raise_signal(sig)
        stop.set()

    return handle


def _tenant(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from pydantic import TypeAdapter, ValidationError

    from schemas.envelope import TenantName

    try:
        return str(TypeAdapter(TenantName).validate_python(value))
    except ValidationError:
        raise click.BadParameter("a letter, then up to 63 letters, digits, '_' or '-'") from None


def _summary(name: str, counts: dict[str, Any]) -> str:
    return f"{name}: " + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in counts.items())


# --- ingest -----------------------------------------------------------------------------------


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--watch", is_flag=True, help="Keep polling: new and changed files are upserted, deleted ones "
                                            "deleted, until Ctrl-C.")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between polls with --watch.")
@click.option("--tenant", default="default", show_default=True, callback=_tenant)
@click.option("--source", "source_name", default="files", show_default=True, help="The events' source name.")
@click.option("--root", "id_root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Document ids relative to this folder (default: each file's canonical absolute path).")
def ingest(paths: tuple[Path, ...], watch: bool, interval: float, tenant: str, source_name: str,
           id_root: Path | None) -> None:
    """Ingest .txt, .md, .html and .pdf files (folders recursively) as documents.

    Unchanged files produce the same events again (a no-op downstream); files that
    cannot be read or hold no text go to the dead-letter topic with the reason.
    """
    from connectors.files_source import FilesSource
    from connectors.producer import Producer
    from connectors.source import run_source
    from streams.agents.dead_letter import redactor

    s = Settings()
    with _friendly():
        require_kafka(s)
        producer = Producer(s.kafka, client_id="headwater-ingest")
        try:
            counts = _until_signal(lambda stop: run_source(
                _echo_errors(FilesSource(list(paths), source=source_name, tenant=tenant, watch=watch,
                                         interval=interval, stop=stop, id_root=id_root,
                                         max_event_bytes=s.kafka.max_event_bytes)),
                producer, s.topics, stage="files", redact_text=redactor(s.curate)))
        finally:
            producer.close()
    click.echo(_summary("ingest", counts))


async def _echo_errors(source: Any) -> AsyncIterator[Any]:
    """Pass ``source``'s items through, telling the user about each dead letter."""
    async for item in source:
        if item.error:
            click.echo(f"dead letter: {item.error}", err=True)
        yield item


# --- connect http / mqtt ----------------------------------------------------------------------


@click.command("http")
@click.option("--host", default=None, help="Listen address (default: setting http.host).")
@click.option("--port", default=None, type=int, help="Listen port (default: setting http.port).")
def connect_http(host: str | None, port: int | None) -> None:
    """Serve POST /v1/events (JSON, JSON array or NDJSON) into Kafka; docs at /docs."""
    import uvicorn

    from connectors.http_source import create_ingest_api
    from connectors.producer import Producer
    from streams.stack.process import port_in_use

    s = Settings()
    host, port = host or s.http.host, port or s.http.port
    with _friendly():
        if port_in_use(host, port):
            raise UserError(f"{host}:{port} is already in use; stop what listens there or pass --port")
        require_kafka(s)
        producer = Producer(s.kafka, max_in_flight=s.http.max_in_flight, client_id="headwater-http")
        try:
            uvicorn.run(create_ingest_api(s, producer, authorize=_ingest_authorize(s)), host=host, port=port)
        finally:
            producer.close()
    click.echo(_summary("http", producer.counters()))


def _ingest_authorize(s: Settings) -> Any:
    """The ingest door's key check: the key store, unless it is empty and old global keys are set."""
    import logging

    from streams.auth import authenticator, key_store

    log, store = logging.getLogger("headwater.http"), key_store(s)
    if s.auth.anonymous:
        log.warning("WARNING: authentication is OFF (HEADWATER_AUTH__ANONYMOUS=true): anyone who reaches "
                    "this port may write and delete every tenant's data")
        return None  # the old global keys still apply when set
    if store.empty() and s.http.api_keys:
        log.warning("HEADWATER_HTTP__API_KEYS is deprecated (any of those keys writes any tenant): create "
                    "per-tenant keys with `headwater keys create NAME --tenant T --scope ingest`")
        return None
    return authenticator(store)  # an empty store refuses everyone until a key is created (re-read live)


@click.command("mqtt")
@click.option("--topic", "topics", multiple=True, help="MQTT topic filter, repeatable "
                                                      "(default: setting mqtt_source.topics).")
def connect_mqtt(topics: tuple[str, ...]) -> None:
    """Subscribe to MQTT sensor topics and produce each reading to Kafka until Ctrl-C."""
    from connectors.mqtt_source import MqttSource
    from connectors.producer import Producer
    from streams.agents.dead_letter import redactor

    s = Settings()
    config = s.mqtt_source.model_copy(update={"topics": list(topics)}) if topics else s.mqtt_source
    with _friendly():
        require_kafka(s)
        producer = Producer(s.kafka, client_id="headwater-mqtt")
        source = MqttSource(s.mqtt, config, redact_text=redactor(s.curate))
        try:
            counts = _until_signal(lambda stop: source.run(producer, s.topics, stop))
        finally:
            producer.close()
    click.echo(_summary("mqtt", counts))
