"""docker/docker-compose.cluster.yml: the 3-node topology of `headwater stack up --nodes 3`, checked as YAML.

Three KRaft Kafka nodes with one cluster id and replication 3 / min ISR 2, three Weaviate nodes
joined to node1 with a raft quorum of three, host ports those of the native cluster. Whether the
images start is not checked here (no Docker engine on CI machines).
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.settings import Settings
from streams.stack import cluster

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).parents[3] / "docker" / "docker-compose.cluster.yml"


def _services() -> dict[str, dict[str, Any]]:
    spec: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # safe_load resolves the << merge keys
    services: dict[str, dict[str, Any]] = spec["services"]
    return services


def _kafka() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _services().items() if s["image"].startswith("apache/kafka")}


def _weaviate() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _services().items() if "semitechnologies/weaviate" in s["image"]}


def test_three_kafka_nodes_one_quorum() -> None:
    kafka = _kafka()
    assert sorted(kafka) == ["kafka-1", "kafka-2", "kafka-3"]
    envs = [s["environment"] for s in kafka.values()]
    assert sorted(e["KAFKA_NODE_ID"] for e in envs) == [1, 2, 3]
    assert len({e["CLUSTER_ID"] for e in envs}) == 1
    for e in envs:
        assert e["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert e["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert e["KAFKA_HEAP_OPTS"] == Settings().stack.kafka_heap_opts


def test_kafka_replication_settings() -> None:
    for svc in _kafka().values():
        e = svc["environment"]
        assert e["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
        assert e["KAFKA_MIN_INSYNC_REPLICAS"] == 2
        assert e["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
        assert e["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == 3
        assert e["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 2


def test_kafka_host_ports_match_the_native_cluster() -> None:
    servers = cluster.info(Settings(), 3).bootstrap_servers.split(",")
    for n, name in enumerate(sorted(_kafka()), start=1):
        svc = _kafka()[name]
        assert svc["ports"] == [f"{servers[n - 1]}:9094"]
        assert f"HOST://{servers[n - 1]}" in svc["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_three_weaviate_nodes_one_raft_cluster() -> None:
    weaviate = _weaviate()
    assert sorted(weaviate) == ["weaviate-1", "weaviate-2", "weaviate-3"]
    hostnames = sorted(s["environment"]["CLUSTER_HOSTNAME"] for s in weaviate.values())
    assert hostnames == ["node1", "node2", "node3"]
    for name, svc in weaviate.items():
        e = svc["environment"]
        assert svc["hostname"] == e["CLUSTER_HOSTNAME"]
        assert e["RAFT_JOIN"] == "node1,node2,node3"
        assert e["RAFT_BOOTSTRAP_EXPECT"] == 3
        assert e.get("CLUSTER_JOIN") == (None if name == "weaviate-1" else "node1:7946")
    first = cluster.node_settings(Settings(), 1).weaviate
    assert f"127.0.0.1:{first.http_port}:8080" in weaviate["weaviate-1"]["ports"]
    assert f"127.0.0.1:{first.grpc_port}:50051" in weaviate["weaviate-1"]["ports"]


def test_ports_only_on_loopback() -> None:
    for svc in _services().values():
        assert all(p.startswith("127.0.0.1:") for p in svc["ports"])
