"""Connection settings of what connectors talk to: Kafka, Weaviate, MQTT, topic names.

Plain frozen models; the root ``Settings`` in :mod:`streams.settings` composes them
and reads the environment (``HEADWATER_KAFKA__...``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from schemas.limits import MAX_EVENT_BYTES


class KafkaSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    session_timeout_ms: int = 10_000
    partitions: int = 3
    # The one size limit: every door (HTTP 413, MQTT and files dead letters) and the worker refuse an
    # event value above it, and the producer's and the native broker's message.max.bytes derive from it.
    max_event_bytes: int = Field(default=MAX_EVENT_BYTES, ge=1024, description=(
        "The largest event value, enforced at every door and matched to the broker's message.max.bytes "
        "(keep it at least 64 KiB below that: the key and headers need room)."))

    @property
    def message_max_bytes(self) -> int:
        """``message.max.bytes`` for producers and the native broker: the event limit plus room for the
        key and headers (a dead letter's reason header is up to 1000 characters)."""
        return self.max_event_bytes + 65_536


class WeaviateSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    http_port: int = 8080
    grpc_port: int = 50051
    secure: bool = False
    api_key: SecretStr | None = None
    collection: str = "HeadwaterChunk"


class MqttSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: SecretStr | None = None


class TopicSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    sensor: str = "headwater.sensor.v1"
    app: str = "headwater.app.v1"
    document: str = "headwater.document.v1"
    dead_letter: str = "headwater.deadletter.v1"
    audit: str = "headwater.audit.v1"  # one record per curation drop: what, why, from which event

    def inputs(self) -> list[str]:
        return [self.sensor, self.app, self.document]

    def for_kind(self, kind: str) -> str:
        """The input topic of an event kind ("sensor", "app", "document"): the one kind-to-topic map."""
        topic: str = getattr(self, kind) if kind in ("sensor", "app", "document") else ""
        if not topic:
            raise ValueError(f"no input topic for event kind {kind!r}")
        return topic


class HttpIngestSettings(BaseModel):
    """``POST /v1/events``: API keys (empty = no auth, for local use only), size limit, address."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8001
    api_keys: list[SecretStr] = []
    max_body_bytes: int = 5_000_000
    max_in_flight: int = 10_000


class MqttSourceSettings(BaseModel):
    """What the MQTT connector subscribes to and how plain numeric payloads are mapped."""

    model_config = ConfigDict(frozen=True)

    topics: list[str] = ["sensors/#"]
    # For plain numeric payloads: which topic levels name the device and the metric.
    topic_pattern: str = "sensors/{device_id}/{metric}"
    client_id: str = "headwater-mqtt"
    source: str = "mqtt"
    tenant: str = "default"


def kafka_config(kafka: KafkaSettings, client_id: str) -> dict[str, Any]:
    """librdkafka connection and security settings shared by producers, consumers and admins.

    librdkafka logs through the Python logger ``headwater.kafka`` (records name the facility and the
    client, ``GETPID [headwater-demo#producer-1] ...``) instead of raw ``%4|...`` lines on stderr;
    below WARNING they are not shown unless that logger's level is set lower.
    """
    import logging

    logger = logging.getLogger("headwater.kafka")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _Routine) for f in logger.filters):
        logger.addFilter(_Routine())
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers, "client.id": client_id,
        "security.protocol": kafka.security_protocol, "logger": logger,
        # A broker closing an idle connection is routine (librdkafka reconnects); a real outage still logs.
        "log.connection.close": False,
    }
    if kafka.sasl_mechanism:
        conf |= {"sasl.mechanism": kafka.sasl_mechanism, "sasl.username": kafka.sasl_username or "",
                 "sasl.password": kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""}
    return conf


class _Routine:
    """Hides librdkafka warnings that a broker restart or a leader move always brings, and that pass
    by themselves: a partition's new leader not yet in the metadata cache. librdkafka retries them;
    a real outage still shows (connection refused, all brokers down, delivery failures)."""

    ROUTINE = ("not found in cache",)

    def filter(self, record: Any) -> bool:
        return not any(s in record.getMessage() for s in self.ROUTINE)
