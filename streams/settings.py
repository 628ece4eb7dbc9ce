"""One typed settings object for every Headwater command.

Built once at the entry point (``Settings()``) and passed down; nothing reads
the environment at import time. Every field can be set with an environment
variable: ``HEADWATER_KAFKA__BOOTSTRAP_SERVERS=broker:9092``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.config import (
    HttpIngestSettings,
    KafkaSettings,
    MqttSettings,
    MqttSourceSettings,
    TopicSettings,
    WeaviateSettings,
)
from streams.transforms.curate.judge import BLOCKED_WORDS, TOXIC_PATTERNS

__all__ = ["KafkaSettings", "MqttSettings", "Settings", "StackCredentials", "TopicSettings", "WeaviateSettings",
           "credentials_path", "load_stack_credentials", "with_kafka_credentials", "with_weaviate_credentials"]

CREDENTIALS_FILE = "credentials.json"
# The native stack listens on loopback only: its credentials are never sent to any other host.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback) / "headwater"


class StackSettings(BaseModel):
    """Where the native stack keeps its data and what it caches."""

    model_config = ConfigDict(frozen=True)

    data_dir: Path = Field(default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share"))
    cache_dir: Path = Field(default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache"))
    ready_timeout_s: float = 90.0
    kafka_version: str = "4.4.0"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap_opts: str = "-Xms256m -Xmx512m"
    weaviate_version: str = "1.39.3"
    weaviate_gossip_port: int = 7946
    weaviate_data_port: int = 7947
    weaviate_raft_port: int = 8300
    weaviate_raft_rpc_port: int = 8301
    # Ask `stack up` for SASL/SCRAM + ACLs on Kafka and API keys + RBAC on Weaviate. Only a new data dir
    # can become secure (Kafka's SCRAM users are written when its storage is formatted); once it is, its
    # credentials file keeps it secure whatever this says.
    secure: bool = False


class StackCredentials(BaseModel):
    """What ``headwater stack up --secure`` generated once: ``<data_dir>/credentials.json``, mode 0600."""

    model_config = ConfigDict(frozen=True)

    kafka_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_username: str = "headwater"
    kafka_password: SecretStr
    controller_username: str = "controller"
    controller_password: SecretStr
    weaviate_user: str = "headwater"
    weaviate_api_key: SecretStr


def credentials_path(data_dir: Path) -> Path:
    return data_dir / CREDENTIALS_FILE


def load_stack_credentials(data_dir: Path) -> StackCredentials | None:
    """The secure stack's credentials, or None when the stack in ``data_dir`` is not secure."""
    path = credentials_path(data_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return StackCredentials.model_validate_json(text)
    except ValidationError as exc:
        raise ValueError(f"{path} is not a valid stack credentials file ({exc.error_count()} errors): restore it "
                         "from a backup, or run `headwater stack down --wipe` and `headwater stack up --secure` "
                         "(deletes the stack's data)") from None


def _loopback(bootstrap_servers: str) -> bool:
    hosts = [server.strip().rpartition(":")[0].strip("[]") for server in bootstrap_servers.split(",")]
    return all(host in LOOPBACK for host in hosts)


def with_kafka_credentials(kafka: KafkaSettings, creds: StackCredentials) -> KafkaSettings:
    """``kafka`` with the stack's SCRAM user, unless it names its own SASL or a broker off this host."""
    if kafka.sasl_mechanism or not _loopback(kafka.bootstrap_servers):
        return kafka
    return kafka.model_copy(update={
        "security_protocol": "SASL_SSL" if kafka.security_protocol.upper().endswith("SSL") else "SASL_PLAINTEXT",
        "sasl_mechanism": creds.kafka_mechanism, "sasl_username": creds.kafka_username,
        "sasl_password": creds.kafka_password})


def with_weaviate_credentials(weaviate: WeaviateSettings, creds: StackCredentials) -> WeaviateSettings:
    """``weaviate`` with the stack's API key, unless it has a key of its own or names another host."""
    if weaviate.api_key is not None or weaviate.host not in LOOPBACK:
        return weaviate
    return weaviate.model_copy(update={"api_key": creds.weaviate_api_key})


class ChunkSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_tokens: int = 200
    overlap_tokens: int = 32


class EmbedSettings(BaseModel):
    """Which model embeds, on which backend and device (README: "Embedding backends")."""

    model_config = ConfigDict(frozen=True)

    model: str | None = None  # name or path; None = bundled all-MiniLM-L6-v2
    # onnx-int8 is the default: the fastest backend that passed the quality gate (tests/unit/streams/embed).
    # The ONNX backends need the model on disk (a directory or the HF cache); torch also takes hub names.
    backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    device: str = "cpu"
    batch_size: int = 32  # texts per forward pass (larger is slower on CPU)
    # A batch is gathered while the previous one is written, and handed over when the worker is free and
    # it holds this many events, or `worker.batch_max_work` estimated texts, or its oldest event waited
    # this long: small batches when the stream is quiet, large ones under a backlog.
    batch_max_events: int = 20_000
    batch_timeout_ms: int = 50
    threads: int | None = None  # intra-op threads of the backend; None = all cores
    torch_threads: int | None = None  # older name of `threads`; both backends read either
    spin_wait: bool = False  # ONNX Runtime's intra-op threads spin-wait between passes (costs others their CPU)


class QualitySettings(BaseModel):
    """Triviality rules (see ``streams.transforms.curate.QualityRules``)."""

    model_config = ConfigDict(frozen=True)

    min_chars: int = 12
    min_words: int = 3
    max_symbol_ratio: float = 0.5
    min_unique_word_ratio: float = 0.25
    blocked_words: tuple[str, ...] = BLOCKED_WORDS
    toxic_patterns: tuple[str, ...] = TOXIC_PATTERNS  # regexes, case-insensitive
    languages: tuple[str, ...] = ()


class CurateSettings(BaseModel):
    """In-stream curation: what never reaches the index."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    redact_pii: bool = True
    # Extra redaction patterns: label -> regex, e.g. {"EMPLOYEE_ID": "EMP-\\d{6}"}
    pii_patterns: dict[str, str] = {}
    redact_dead_letters: bool = True
    # presidio-analyzer recognizers on top of the built-in ones (extra: headwater[presidio]).
    presidio: bool = False
    presidio_model: str | None = None  # an installed spaCy model name or path; None = pattern recognizers only
    presidio_entities: tuple[str, ...] = (
        "PERSON", "US_SSN", "US_PASSPORT", "US_DRIVER_LICENSE", "US_BANK_NUMBER", "UK_NHS", "MEDICAL_LICENSE",
        "CRYPTO", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
    presidio_min_score: float = 0.5
    dedup_exact: bool = True
    dedup_near: bool = True
    near_threshold: float = 0.7
    # Optional semantic dedup: drop a chunk whose nearest indexed neighbour is at least this cosine-similar.
    semantic_threshold: float | None = None
    quality: QualitySettings = QualitySettings()
    quality_by_source: dict[str, QualitySettings] = {}
    classifier: str | None = None  # "module:function", f(text) -> reason or None
    ttl_s_by_kind: dict[str, float] = {}  # e.g. {"sensor": 604800}; expired chunks leave Weaviate
    ttl_s_by_source: dict[str, float] = {}
    ttl_sweep_s: float = 60.0  # how often expired chunks are deleted
    sensor_current_state: bool = True
    # "index": every reading is also an object of its own (searchable history); "state": readings only
    # update the current-state object of their device and metric (for fleets of thousands per second;
    # the raw readings stay replayable from Kafka).
    sensor_readings: Literal["index", "state"] = "index"
    cache_enabled: bool = True
    cache_max_entries: int = 1_000_000


class SearchSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    alpha: float = 0.5
    k: int = 5
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Per API key, in memory: a token bucket of `burst` requests refilled at `rate_per_s` (429 when empty).
    rate_per_s: float = 10.0
    burst: int = 20


class WorkerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    app_id: str = "headwater-worker"
    web_host: str = "127.0.0.1"  # the metrics page; 0.0.0.0 only behind a firewall or in a container
    web_port: int = 6066  # taken (a second worker on this host): the next free port, logged at start
    max_retry_backoff_s: float = 5.0  # retries are cheap and idempotent: come back soon after an outage
    # Static group membership (Kafka's group.instance.id): a worker restarted under the same id gets its
    # partitions back at once, without a rebalance. One distinct id per worker process; None: dynamic.
    instance_id: str | None = None
    upsert_batch_max: int = 256  # objects per Weaviate insert request (also bounded by size)
    # Documents have a lane of their own, in batches of at most this many events, so that a backfill
    # never holds sensor readings and app events behind it and becomes searchable article by article.
    document_batch_max: int = 16
    # Estimated texts to embed per batch (an app event 1, a document ~1 per 800 bytes, a sensor reading
    # in state mode 0): work is committed progressively, so a backfill is searchable article by article.
    batch_max_work: int = 256
    document_batch_max_work: int = 64  # the same for the document lane: the first article within ~2 s
    # Documents (and estimated texts) the document lane reads ahead of its next batch, so that an edited or
    # deleted document (light) is written within a batch or two, not behind every article of a backfill.
    # Safe because offsets are committed by Headwater's rule, not in the order of acks (agents/commit.py);
    # 0: strictly in arrival order.
    document_read_ahead: int = 4096
    # An event stamped further ahead of the time Kafka received it than this (a device with a wrong clock)
    # is indexed at that time, with ``clock_skew_s`` noting by how much: it never freezes a current state.
    max_clock_skew_s: float = 300.0


class AuthSettings(BaseModel):
    """Who may call the search and ingest APIs (README: "Access control")."""

    model_config = ConfigDict(frozen=True)

    # True turns authentication OFF at the doors (logged loudly at start): for a laptop demo only.
    anonymous: bool = False
    keys_file: Path | None = None  # None = <stack.data_dir>/auth/keys.json
    key: SecretStr | None = None  # the key `headwater query` sends to `headwater serve`


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HEADWATER_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    # First: the kafka and weaviate validators below read the stack's data dir (fields validate in order).
    stack: StackSettings = StackSettings()
    # validate_default: the validators run for the defaults too, where the stack's credentials matter most.
    kafka: KafkaSettings = Field(default=KafkaSettings(), validate_default=True)
    weaviate: WeaviateSettings = Field(default=WeaviateSettings(), validate_default=True)
    mqtt: MqttSettings = MqttSettings()
    mqtt_source: MqttSourceSettings = MqttSourceSettings()
    http: HttpIngestSettings = HttpIngestSettings()
    topics: TopicSettings = TopicSettings()
    chunk: ChunkSettings = ChunkSettings()
    embed: EmbedSettings = EmbedSettings()
    search: SearchSettings = SearchSettings()
    curate: CurateSettings = CurateSettings()
    worker: WorkerSettings = WorkerSettings()
    auth: AuthSettings = AuthSettings()

    # The one place a secure stack's credentials reach Headwater: every command builds Settings, so the
    # worker, the connectors and the CLI all authenticate without being told (README: "Access control").
    def readings_group(self) -> str:
        """The readings lane's consumer group (faust's own is ``worker.app_id``)."""
        return f"{self.worker.app_id}-readings"

    def consumer_groups(self) -> dict[str, list[str]]:
        """The worker's consumer groups, and the input topics each commits (lag is counted per group)."""
        t = self.topics
        return {self.worker.app_id: [t.app, t.document], self.readings_group(): [t.sensor]}

    @field_validator("kafka", mode="after")
    @classmethod
    def _kafka_stack_credentials(cls, kafka: KafkaSettings, info: ValidationInfo) -> KafkaSettings:
        creds = _stack_credentials(info)
        return with_kafka_credentials(kafka, creds) if creds else kafka

    @field_validator("weaviate", mode="after")
    @classmethod
    def _weaviate_stack_credentials(cls, weaviate: WeaviateSettings, info: ValidationInfo) -> WeaviateSettings:
        creds = _stack_credentials(info)
        return with_weaviate_credentials(weaviate, creds) if creds else weaviate


def _stack_credentials(info: ValidationInfo) -> StackCredentials | None:
    stack = info.data.get("stack")
    return load_stack_credentials(stack.data_dir) if isinstance(stack, StackSettings) else None
