"""The MQTT connector tests' kit: an MQTT config of a test's own, a source running in a thread, publishing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.publish as publish

from connectors.mqtt_source import MqttSource
from connectors.producer import Producer
from streams.settings import Settings
from tests.integration.kafka_kit import fresh_topics


@contextmanager
def mqtt_settings(settings: Settings, unique: str) -> Iterator[Settings]:
    """Fresh topics, and an MQTT source on ``hwtest/<unique>/#`` whose session the broker forgets afterwards."""
    with fresh_topics(settings, unique) as fresh:
        yield fresh.model_copy(update={"mqtt_source": fresh.mqtt_source.model_copy(update={
            "topics": [f"hwtest/{unique}/#"], "topic_pattern": f"hwtest/{unique}/{{device_id}}/{{metric}}",
            "client_id": f"headwater-test-{unique}", "tenant": "lab"})})
    _drop_session(settings, f"headwater-test-{unique}")


def _drop_session(settings: Settings, client_id: str) -> None:
    """Connect once with a clean session so the broker forgets the test's persistent session."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(settings.mqtt.host, settings.mqtt.port)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


class Running:
    """``source.run`` on its own event loop in a thread; ``finish`` stops it, ``cancel`` kills it."""

    def __init__(self, source: MqttSource, producer: Producer, s: Settings) -> None:
        self.source, self.loop, self.stop = source, asyncio.new_event_loop(), asyncio.Event()
        self.task = self.loop.create_task(source.run(producer, s.topics, self.stop))
        self.result: Any = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        assert source.subscribed.wait(15), f"not subscribed: {source.counters()}"

    def _main(self) -> None:
        try:
            self.result = self.loop.run_until_complete(self.task)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.result = exc
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def finish(self) -> Any:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)
        assert not self.thread.is_alive()
        return self.result

    def cancel(self) -> None:
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(60)
        assert not self.thread.is_alive()


def pub(s: Settings, unique: str, path: str, payload: bytes | str) -> None:
    publish.single(f"hwtest/{unique}/{path}", payload, qos=1, hostname=s.mqtt.host, port=s.mqtt.port)


def wait_for(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
