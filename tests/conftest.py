"""Session fixtures: real Kafka, Weaviate and Mosquitto.

Order of preference: (1) a stack already answering at the configured addresses
(``HEADWATER_*`` settings), (2) testcontainers when a Docker engine answers,
(3) the native stack (``headwater stack up``) started here in its own data dir
and stopped at the end. Never a skip.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli import quiet

quiet()  # authlib installs an "always" filter on import, ahead of pytest's filterwarnings
# Starlette's test client names its own successor once, at import; nothing to act on. Imported here,
# under our own filter, because pytest's filters come too late for a module the test modules share.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    import starlette.testclient  # noqa: F401

from streams.settings import Settings  # noqa: E402 - after quiet()
from streams.stack.process import port_open  # noqa: E402


def _answers(settings: Settings) -> bool:
    return port_open("127.0.0.1", settings.stack.kafka_port) and port_open(settings.weaviate.host,
                                                                    settings.weaviate.http_port)


def _docker_engine() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no client config: both mean "no Docker"
        return False


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    base = Settings()
    if _answers(base):
        yield base
        return
    if _docker_engine():
        yield from _testcontainers_stack(base)
        return
    from streams import stack

    data_dir = Path(os.environ.get("HEADWATER_TEST_DATA_DIR") or tmp_path_factory.mktemp("stack"))
    native = base.model_copy(update={"stack": base.stack.model_copy(update={"data_dir": data_dir})})
    stack.up(native)
    try:
        yield native
    finally:
        stack.down(native)


def _testcontainers_stack(base: Settings) -> Iterator[Settings]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer(f"apache/kafka:{base.stack.kafka_version}").with_kraft() as kafka, \
            DockerContainer(f"cr.weaviate.io/semitechnologies/weaviate:{base.stack.weaviate_version}") \
            .with_env("DEFAULT_VECTORIZER_MODULE", "none") \
            .with_env("AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", "true") \
            .with_exposed_ports(8080, 50051) as weav, \
            DockerContainer("eclipse-mosquitto:2").with_exposed_ports(1883) \
            .with_command("mosquitto -c /mosquitto-no-auth.conf") as mqtt:
        wait_for_logs(weav, "Serving weaviate")
        yield base.model_copy(update={
            "kafka": base.kafka.model_copy(update={"bootstrap_servers": kafka.get_bootstrap_server()}),
            "weaviate": base.weaviate.model_copy(update={
                "host": weav.get_container_host_ip(), "http_port": int(weav.get_exposed_port(8080)),
                "grpc_port": int(weav.get_exposed_port(50051))}),
            "mqtt": base.mqtt.model_copy(update={
                "host": mqtt.get_container_host_ip(), "port": int(mqtt.get_exposed_port(1883))}),
        })


@pytest.fixture
def unique() -> str:
    """A short unique suffix for per-test topics, collections and tenants."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def topic(settings: Settings, unique: str) -> Iterator[str]:
    """A fresh Kafka topic for one test, deleted afterwards."""
    from connectors import kafka_admin

    name = f"test-{unique}"
    kafka_admin.create_topics(settings.kafka, [name], partitions=3)
    yield name
    kafka_admin.delete_topics(settings.kafka, [name])


@pytest.fixture
def weaviate_client(settings: Settings) -> Iterator[object]:
    from connectors.weaviate.client import connect

    client = connect(settings.weaviate)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def client(worker: object) -> Iterator[object]:
    """A Weaviate client for the module's ``worker`` fixture (tests/integration/streams/conftest.py)."""
    from connectors.weaviate.client import connect

    c = connect(worker.settings.weaviate)  # type: ignore[attr-defined]
    yield c
    c.close()


@pytest.fixture(scope="session")
def embedder(settings: Settings) -> object:
    """The configured embedding model, loaded once for every test that needs the worker's token counter."""
    from streams import embed

    return embed.load(settings.embed, settings.stack.cache_dir)
