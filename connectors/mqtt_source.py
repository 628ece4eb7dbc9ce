"""MQTT source: sensor readings published to an MQTT broker, as sensor events.

Input: messages on ``settings.mqtt_source.topics`` (subscribed with QoS 1). Output:
:class:`~connectors.source.Incoming` s for :func:`~connectors.source.run_source`: a
``SensorEvent`` per message on ``topics.sensor``, a dead letter per malformed message.

Semantics:
- At least once: messages are acknowledged to the broker (PUBACK, paho ``manual_ack``)
  only after Kafka confirmed the event or its dead letter. The session is persistent
  (``clean_session=False``, a fixed ``client_id``), so a message received but not yet
  acknowledged when the connector stops or the connection drops is delivered again.
  An ack is never sent on a newer connection than the message came in on.
- Backpressure: the broker holds back messages while its in-flight window for this
  client (Mosquitto: 20) is unacknowledged, so a slow Kafka slows the intake, not memory.
- Payloads (see :func:`connectors.mqtt_map.map_payload`): a plain number (device and metric from the topic
  path via ``topic_pattern``), a JSON SensorReading (fields missing from it are taken
  from the topic path), optionally with ``event_id``, ``event_time``, ``tenant``,
  ``source``, or a full sensor event envelope.
- Ids: a message without ``event_id`` gets ``mqtt-<sha256(topic, payload, event_time)>``;
  a redelivered message that carries its ``event_time`` gets the same id again.
  Without one, ``event_time`` is the time of receipt, so a redelivery (after a crash or a
  dropped connection) is a second reading: publishers that need exactly-once readings
  send ``event_time`` or ``event_id``.
- Reconnects: paho's network thread reconnects with backoff (1 s doubling to 30 s) and
  subscribes again; messages published meanwhile wait in the broker's session.
- Bad input never stops the intake: every callback catches everything for its one message.
  A payload above the producer's ``max_event_bytes`` (``HEADWATER_KAFKA__MAX_EVENT_BYTES``),
  one that is not a reading, and one the mapping fails on for any other reason each become a
  dead letter with the reason; the next message is handled as if nothing happened. With
  ``redact_text`` its personal data is redacted, ids kept (:func:`connectors.dead_letter.letter`).

Example::

    source = MqttSource(settings.mqtt, settings.mqtt_source)
    counts = await source.run(producer, settings.topics, stop)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.config import MqttSettings, MqttSourceSettings, TopicSettings
from connectors.dead_letter import Redact
from connectors.mqtt_map import map_payload
from connectors.producer import Producer
from connectors.source import Incoming, run_source, utcnow
from schemas import MAX_EVENT_BYTES, InvalidEvent, oversize_reason

log = logging.getLogger(__name__)

__all__ = ["MqttSource", "MqttUnreachable"]

F = TypeVar("F", bound=Callable[..., None])


class MqttUnreachable(ConnectionError):
    """The broker did not accept the first connection; the message says where and what to do."""


def _never_raises(callback: F) -> F:
    """An exception escaping a paho callback ends paho's network thread (and the intake, silently)."""

    @wraps(callback)
    def guarded(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - logged; the next message must still be handled
            log.exception("mqtt callback failed", extra={"callback": callback.__name__})

    return guarded  # type: ignore[return-value]


class MqttSource:
    """Subscribes to MQTT topics and moves each message into Kafka (see the module docstring).

    ``counters()``: ``received``, ``produced``, ``dead_lettered``, ``acked``, ``connects``,
    ``disconnects``. ``subscribed`` is set while the subscription is active.
    """

    def __init__(self, mqtt_settings: MqttSettings, config: MqttSourceSettings, *,
                 clock: Callable[[], datetime] = utcnow, keepalive: int = 30,
                 redact_text: Redact | None = None) -> None:
        self.mqtt, self.config, self.clock, self.keepalive = mqtt_settings, config, clock, keepalive
        self.redact_text = redact_text  # of dead letters: personal data out, ids kept (run_source)
        self._counts = dict.fromkeys(("received", "produced", "dead_lettered", "acked", "connects",
                                      "disconnects"), 0)
        self._lock = threading.Lock()
        self._generation = 0
        self._queue: asyncio.Queue[Incoming] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self.subscribed = threading.Event()
        self._answered = threading.Event()
        self._refused: str | None = None
        self._max_bytes = MAX_EVENT_BYTES  # the producer's, once run() knows it

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    async def run(self, producer: Producer, topics: TopicSettings, stop: asyncio.Event) -> dict[str, int]:
        """Connect, subscribe to the configured topics and produce every message until ``stop``
        is set; then let in-flight records settle, ack them and disconnect. Returns ``counters()``.

        Raises:
            MqttUnreachable: the first connection failed (the broker is down or refuses us).
            DeliveryFailed: a record could be neither delivered nor dead-lettered.
        """
        self._loop, self._queue = asyncio.get_running_loop(), asyncio.Queue()
        self._max_bytes = producer.max_event_bytes
        client = self._client = self._make_client()
        await asyncio.to_thread(self._connect, client)
        try:
            await run_source(self._items(stop), producer, topics, self._progress, stage="mqtt",
                             redact_text=self.redact_text)
        finally:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
        return self.counters()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=self.config.client_id, clean_session=False, manual_ack=True)
        if self.mqtt.username:
            password = self.mqtt.password.get_secret_value() if self.mqtt.password else None
            client.username_pw_set(self.mqtt.username, password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.enable_logger(log)
        client.suppress_exceptions = True  # second guard: paho logs a callback's exception and goes on
        client.on_connect, client.on_disconnect = self._on_connect, self._on_disconnect
        client.on_message, client.on_subscribe = self._on_message, self._on_subscribe
        return client

    def _connect(self, client: mqtt.Client) -> None:
        where = f"{self.mqtt.host}:{self.mqtt.port}"
        try:
            client.connect(self.mqtt.host, self.mqtt.port, keepalive=self.keepalive)
        except OSError as exc:
            raise MqttUnreachable(f"cannot reach the MQTT broker at {where} ({exc}); start it "
                                  "(`headwater stack up`) or set HEADWATER_MQTT__HOST / HEADWATER_MQTT__PORT"
                                  ) from None
        client.loop_start()
        if self._answered.wait(15) and self._refused is None:
            return
        client.loop_stop()
        why = f"refused the connection ({self._refused})" if self._refused else "did not answer within 15 s"
        raise MqttUnreachable(f"the MQTT broker at {where} {why}; check HEADWATER_MQTT__USERNAME / "
                              "HEADWATER_MQTT__PASSWORD and the broker's log")

    async def _items(self, stop: asyncio.Event) -> AsyncIterator[Incoming]:
        assert self._queue is not None
        stopping = asyncio.ensure_future(stop.wait())
        getting: asyncio.Future[Incoming] | None = None
        try:
            while True:
                getting = asyncio.ensure_future(self._queue.get())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    return
                yield getting.result()
        finally:
            stopping.cancel()
            if getting is not None:
                getting.cancel()

    # paho's network thread calls these.

    @_never_raises
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt connect refused", extra={"reason": str(reason)})
            self._refused = self._refused or str(reason)
            self._answered.set()
            return
        self._refused = None
        self._answered.set()
        with self._lock:
            self._generation += 1
            self._counts["connects"] += 1
        client.subscribe([(t, 1) for t in self.config.topics])
        log.info("mqtt connected", extra={"topics": self.config.topics,
                                          "session_present": flags.session_present})

    @_never_raises
    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("mqtt subscription refused",
                      extra={"topics": self.config.topics, "reasons": str(reasons)})
            return
        self.subscribed.set()

    @_never_raises
    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        with self._lock:
            self._generation += 1
            self._counts["disconnects"] += 1
        self.subscribed.clear()
        if reason.is_failure:
            log.warning("mqtt connection lost; reconnecting", extra={"reason": str(reason)})

    @_never_raises
    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._counts["received"] += 1
            generation = self._generation
        item = self._item(msg.topic, bytes(msg.payload), self._acker(client, msg.mid, msg.qos, generation))
        assert self._loop is not None and self._queue is not None
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed (stopping): unacknowledged, so the broker redelivers it
            log.warning("mqtt message arrived while stopping; the broker will deliver it again")

    def _item(self, topic: str, payload: bytes, ack: Callable[[], Any]) -> Incoming:
        """The event of one message, or a dead-letter item: whatever the payload, never an exception,
        because an exception here would end paho's network thread and, with it, the intake."""
        if len(payload) > self._max_bytes:
            return Incoming(raw=payload, error=f"mqtt: topic {topic!r}: "
                              + oversize_reason("the payload", len(payload), self._max_bytes), ack=ack)
        c = self.config
        try:
            event = map_payload(topic, payload, pattern=c.topic_pattern, source=c.source, tenant=c.tenant,
                                now=self.clock())
        except InvalidEvent as exc:
            return Incoming(raw=payload, error=exc.reason, ack=ack)
        except Exception as exc:  # noqa: BLE001 - a bug for one payload must not stop the next ones
            log.exception("mqtt payload mapping failed", extra={"topic": topic})
            return Incoming(raw=payload, error=f"mqtt: topic {topic!r}: cannot map the payload "
                              f"({type(exc).__name__}: {exc})", ack=ack)
        return Incoming(event=event, ack=ack)

    def _acker(self, client: mqtt.Client, mid: int, qos: int, generation: int) -> Callable[[], Any]:
        async def ack() -> None:
            with self._lock:
                if generation != self._generation:  # that connection is gone: the broker redelivers
                    return
                self._counts["acked"] += 1
            client.ack(mid, qos)

        return ack

    def _progress(self, counts: dict[str, int]) -> None:
        with self._lock:
            self._counts.update(counts)
