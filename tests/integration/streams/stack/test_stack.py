"""The foundation: real Kafka and Weaviate answer, the native stack is managed by the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from streams.settings import Settings
from tests.integration.streams.stack.stack_kit import ALT_PORTS

pytestmark = pytest.mark.integration

HEADWATER = [sys.executable, "-m", "streams"]


def _consume_all(bootstrap: str, topic: str, expect: int, timeout_s: float = 30) -> list[bytes]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    got: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expect and time.monotonic() < deadline:
        msg = c.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    c.close()
    return got


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for v in values:
        p.produce(topic, v, key=b"k")
    assert p.flush(30) == 0


def test_kafka_round_trip(settings: Settings, topic: str) -> None:
    values = [f"m{i}".encode() for i in range(5)]
    _produce(settings.kafka.bootstrap_servers, topic, values)
    assert _consume_all(settings.kafka.bootstrap_servers, topic, 5) == values


def _vector_collection(client, name: str):  # type: ignore[no-untyped-def]
    from weaviate.classes.config import Configure, DataType, Property

    return client.collections.create(
        name, vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="label", data_type=DataType.TEXT)])


def test_weaviate_near_vector(weaviate_client, unique: str) -> None:  # type: ignore[no-untyped-def]
    name = f"T{unique}"
    col = _vector_collection(weaviate_client, name)
    try:
        with col.batch.fixed_size(10) as batch:
            batch.add_object({"label": "x"}, vector=[1.0, 0.0, 0.0])
            batch.add_object({"label": "y"}, vector=[0.0, 1.0, 0.0])
            batch.add_object({"label": "z"}, vector=[0.0, 0.0, 1.0])
        assert not col.batch.failed_objects
        hits = col.query.near_vector([0.1, 0.9, 0.05], limit=2).objects
        assert [h.properties["label"] for h in hits] == ["y", "x"]
    finally:
        weaviate_client.collections.delete(name)


def _cli(args: list[str], data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ALT_PORTS, "HEADWATER_STACK__DATA_DIR": str(data_dir), **extra}
    return subprocess.run([*HEADWATER, *args], env=env, capture_output=True, text=True, timeout=300)


def test_stack_status_and_data_survive_down_and_up(tmp_path: Path) -> None:
    """A second native stack on other ports: status, write, restart, read back, wipe."""
    from connectors.weaviate.client import connect

    up = _cli(["stack", "up"], tmp_path)
    assert up.returncode == 0, up.stderr
    try:
        status = _cli(["stack", "status"], tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        rows = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines()[1:]}
        assert rows == {"kafka": "ready", "weaviate": "ready", "mosquitto": "ready"}
        with pytest.MonkeyPatch.context() as mp:
            for k, v in ALT_PORTS.items():
                mp.setenv(k, v)
            alt = Settings()
        admin = AdminClient({"bootstrap.servers": "127.0.0.1:19092"})
        admin.create_topics([NewTopic("persist", 1, 1)])["persist"].result(30)
        _produce("127.0.0.1:19092", "persist", [b"a", b"b", b"c"])
        client = connect(alt.weaviate)
        col = _vector_collection(client, "Persist")
        col.data.insert({"label": "kept"}, vector=[0.5, 0.5, 0.0])
        client.close()

        assert _cli(["stack", "down"], tmp_path).returncode == 0
        assert _cli(["stack", "status"], tmp_path).returncode == 3  # stopped
        again = _cli(["stack", "up"], tmp_path)
        assert again.returncode == 0, again.stderr

        assert _consume_all("127.0.0.1:19092", "persist", 3) == [b"a", b"b", b"c"]
        client = connect(alt.weaviate)
        objs = client.collections.get("Persist").query.fetch_objects(limit=10).objects
        client.close()
        assert [o.properties["label"] for o in objs] == ["kept"]
    finally:
        _cli(["stack", "down", "--wipe"], tmp_path)
    assert not (tmp_path / "kafka").exists()


def test_port_in_use_is_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = _cli(["stack", "up"], tmp_path, HEADWATER_STACK__KAFKA_PORT=str(port))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr
    assert lines[-1].startswith(f"error: kafka: port {port} is already in use")
    assert "kafka.log" in lines[-1]
