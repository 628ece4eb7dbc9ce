"""A multi-node native stack on one machine: N KRaft Kafka brokers and an N-node Weaviate cluster.

``headwater stack up --nodes 3``. Each node is the single-node service of :mod:`streams.stack.kafka`
and :mod:`streams.stack.weaviate` (same cached jars and binary, same process management), given
its own ports, a data directory under ``<data_dir>/cluster/`` and the cluster settings on top.

Node ``n`` (1-based) listens on the default ports plus ``n * 10000``: Kafka 19092/19093, 29092/29093,
39092/39093; Weaviate HTTP 18080.., gRPC 15051.., gossip 17946.., data 17947.., raft 18300/18301..,
so that a cluster runs next to the single-node stack on the default ports.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from streams.observe.console import say
from streams.settings import Settings
from streams.stack import Service, ServiceStatus, _await_one, _start_one
from streams.stack.kafka import Kafka
from streams.stack.process import ServiceProcess, StackError, run_with_progress
from streams.stack.weaviate import Weaviate

__all__ = ["ClusterInfo", "KafkaNode", "WeaviateNode", "down", "info", "nodes", "status", "up"]

MAX_NODES = 5  # node 5's ports (59092, 58080, 55051) are the last that fit below 65536
PORT_STEP = 10000


def cluster_dir(settings: Settings) -> Path:
    return settings.stack.data_dir / "cluster"


def node_settings(settings: Settings, n: int) -> Settings:
    """The settings of node ``n``: every port shifted by ``n * 10000``, data under ``<data_dir>/cluster``."""
    st, w, off = settings.stack, settings.weaviate, n * PORT_STEP
    stack = st.model_copy(update={
        "data_dir": cluster_dir(settings),
        "kafka_port": 9092 + off, "kafka_controller_port": 9093 + off,
        "weaviate_gossip_port": 7946 + off, "weaviate_data_port": 7947 + off,
        "weaviate_raft_port": 8300 + off, "weaviate_raft_rpc_port": 8301 + off,
    })
    weaviate = w.model_copy(update={"host": "127.0.0.1", "http_port": 8080 + off, "grpc_port": 5051 + off})
    return settings.model_copy(update={"stack": stack, "weaviate": weaviate})


def _check_nodes(count: int) -> None:
    if not 2 <= count <= MAX_NODES:
        raise StackError(f"--nodes {count}: a cluster has 2 to {MAX_NODES} nodes (1 is the single-node stack)")


class KafkaNode(Kafka):
    """One broker+controller of the KRaft cluster; storage formatted with the cluster's shared id."""

    def __init__(self, settings: Settings, n: int, count: int) -> None:
        super().__init__(node_settings(settings, n))
        self.n, self.count = n, count
        self.name = f"kafka-{n}"
        self.proc = ServiceProcess(self.name, cluster_dir(settings))
        self.home = cluster_dir(settings) / self.name
        self.cluster_id_file = cluster_dir(settings) / "kafka-cluster-id"

    @property
    def replication(self) -> int:
        return min(3, self.count)

    def _write_config(self) -> Path:
        path = super()._write_config()
        props = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        rf, isr = str(self.replication), str(min(2, self.replication))
        voters = ",".join(f"{i}@127.0.0.1:{9093 + i * PORT_STEP}" for i in range(1, self.count + 1))
        props |= {
            "node.id": str(self.n),
            "controller.quorum.voters": voters,
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr,
        }
        path.write_text("".join(f"{key}={value}\n" for key, value in props.items()))
        return path

    def cluster_id(self) -> str:
        """One id for every node, made on the first format and kept next to the nodes' data."""
        try:
            return self.cluster_id_file.read_text().strip()
        except FileNotFoundError:
            cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            self.cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
            self.cluster_id_file.write_text(cid)
            return cid

    def start(self) -> None:
        # Formatted here with the shared id; Kafka.start then finds meta.properties and only starts.
        if not (self.home / "data" / "meta.properties").exists():
            config = self._write_config()
            run_with_progress(self._java("kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_id()}",
                                         "--config", str(config)),
                              self.proc.log_file, f"{self.name}: formatting storage")
        super().start()


class WeaviateNode(Weaviate):
    """One node of the Weaviate cluster: node1 is the gossip seed; raft bootstraps once all are up."""

    def __init__(self, settings: Settings, n: int, count: int) -> None:
        super().__init__(node_settings(settings, n))
        self.n, self.count = n, count
        self.name = f"weaviate-{n}"
        self.proc = ServiceProcess(self.name, cluster_dir(settings))
        self.home = cluster_dir(settings) / self.name

    def _env(self) -> dict[str, str]:
        env = super()._env() | {
            "CLUSTER_HOSTNAME": f"node{self.n}",
            # Names alone resolve only on the default raft port; on one host each node has its own.
            "RAFT_JOIN": ",".join(f"node{i}:{8300 + i * PORT_STEP}" for i in range(1, self.count + 1)),
            "RAFT_BOOTSTRAP_EXPECT": str(self.count),
            "GO_PROFILING_PORT": str(6060 + self.n * PORT_STEP),  # the single node holds 6060
            "GOMAXPROCS": "1",
        }
        if self.n > 1:
            env["CLUSTER_JOIN"] = f"127.0.0.1:{7946 + PORT_STEP}"
        return env


def nodes(settings: Settings, count: int) -> list[Service]:
    """Kafka nodes first (the order of start and wait), then Weaviate nodes."""
    _check_nodes(count)
    kafka: list[Service] = [KafkaNode(settings, n, count) for n in range(1, count + 1)]
    weaviate: list[Service] = [WeaviateNode(settings, n, count) for n in range(1, count + 1)]
    return kafka + weaviate


@dataclass(frozen=True)
class ClusterInfo:
    bootstrap_servers: str
    weaviate_http: list[str]
    weaviate_grpc_port: int
    weaviate_http_port: int


def info(settings: Settings, count: int) -> ClusterInfo:
    _check_nodes(count)
    first = node_settings(settings, 1)
    return ClusterInfo(
        bootstrap_servers=",".join(f"127.0.0.1:{9092 + n * PORT_STEP}" for n in range(1, count + 1)),
        weaviate_http=[f"http://127.0.0.1:{8080 + n * PORT_STEP}" for n in range(1, count + 1)],
        weaviate_http_port=first.weaviate.http_port,
        weaviate_grpc_port=first.weaviate.grpc_port,
    )


def up(settings: Settings, count: int) -> list[ServiceStatus]:
    """Start every node that is stopped and wait until all are ready (Weaviate: once the raft quorum formed)."""
    started = time.monotonic()
    svcs = nodes(settings, count)
    for svc in svcs:
        svc.install()  # cached after the first node: jars and binary are shared
    # All nodes start before any is awaited: neither Kafka's controller quorum nor Weaviate's raft
    # bootstrap (RAFT_BOOTSTRAP_EXPECT) becomes ready with one node alone.
    for svc in svcs:
        _start_one(svc, settings.stack.ready_timeout_s)
        say(f"[stack] {svc.name} starting ({', '.join(str(p) for p in svc.ports)})")
    for svc in svcs:
        _await_one(svc, settings.stack.ready_timeout_s)
        say(f"[stack] {svc.name} ready at {svc.address}")
    ci = info(settings, count)
    say(f"[stack] cluster of {count} up in {time.monotonic() - started:.1f}s; data in {cluster_dir(settings)}")
    say(f"[stack] kafka bootstrap servers: {ci.bootstrap_servers}")
    say(f"[stack] weaviate: {', '.join(ci.weaviate_http)} (grpc {ci.weaviate_grpc_port} on node1)")
    say("[stack] point Headwater at it with:")
    say(f"  export HEADWATER_KAFKA__BOOTSTRAP_SERVERS={ci.bootstrap_servers}")
    say(f"  export HEADWATER_WEAVIATE__HTTP_PORT={ci.weaviate_http_port} "
        f"HEADWATER_WEAVIATE__GRPC_PORT={ci.weaviate_grpc_port}")
    return status(settings, count)


def down(settings: Settings, count: int, wipe: bool = False) -> None:
    for svc in reversed(nodes(settings, count)):
        if svc.proc.stop():
            say(f"[stack] {svc.name} stopped")
        if wipe:
            svc.wipe()
    if wipe:
        (cluster_dir(settings) / "kafka-cluster-id").unlink(missing_ok=True)
        say(f"[stack] cluster data removed from {cluster_dir(settings)}")


def status(settings: Settings, count: int) -> list[ServiceStatus]:
    out = []
    for svc in nodes(settings, count):
        pid = svc.proc.pid()
        state = "stopped" if pid is None else ("ready" if svc.ready() else "starting")
        home = svc.home if isinstance(svc, KafkaNode | WeaviateNode) else cluster_dir(settings)
        out.append(ServiceStatus(svc.name, state, str(svc.version), svc.address, pid, str(home),
                                 str(svc.proc.log_file)))
    return out
