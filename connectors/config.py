"""Connection settings of what connectors talk to: Kafka, Weaviate, MQTT, topic names.

Plain frozen models; the root ``Settings`` in :mod:`streams.settings` composes them
and reads the environment (``HEADWATER_KAFKA__...``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class KafkaSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    version: str = "4.4.0"
    port: int = 9092
    controller_port: int = 9093
    heap_opts: str = "-Xms256m -Xmx512m"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    session_timeout_ms: int = 10_000
    partitions: int = 3


class WeaviateSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    http_port: int = 8080
    grpc_port: int = 50051
    secure: bool = False
    api_key: SecretStr | None = None
    version: str = "1.39.3"
    collection: str = "HeadwaterChunk"
    batch_timeout_s: float = 30.0


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
