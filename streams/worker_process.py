"""Run ``headwater worker`` as a child process: for the demo, the benchmark and the tests.

``Worker.create`` derives topics, consumer group and collection from a suffix so that
runs do not see each other's data; ``start`` waits until the model is loaded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from schemas import AnyEvent, encode, message_key
from streams.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Worker:
    settings: Settings
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    admin: Any = field(default=None)
    _producer: Any = field(default=None)

    @classmethod
    def create(cls, base: Settings, suffix: str, log_dir: Path, *, isolated: bool = True,
               overrides: Mapping[str, str] | None = None) -> Worker:
        """A worker on ``base``'s services; ``overrides`` are ``HEADWATER_*`` settings of its own."""
        env = {
            "HEADWATER_STACK__DATA_DIR": str(base.stack.data_dir),
            "HEADWATER_KAFKA__BOOTSTRAP_SERVERS": base.kafka.bootstrap_servers,
            "HEADWATER_WEAVIATE__HOST": base.weaviate.host,
            "HEADWATER_WEAVIATE__HTTP_PORT": str(base.weaviate.http_port),
            "HEADWATER_WEAVIATE__GRPC_PORT": str(base.weaviate.grpc_port),
            "HEADWATER_WORKER__WEB_PORT": str(free_port()),
            **(overrides or {}),
        }
        if isolated:
            env |= {
                "HEADWATER_TOPICS__SENSOR": f"t-{suffix}-sensor",
                "HEADWATER_TOPICS__APP": f"t-{suffix}-app",
                "HEADWATER_TOPICS__DOCUMENT": f"t-{suffix}-document",
                "HEADWATER_TOPICS__DEAD_LETTER": f"t-{suffix}-dlq",
                "HEADWATER_WORKER__APP_ID": f"worker-{suffix}",
                "HEADWATER_WEAVIATE__COLLECTION": f"Run_{suffix}",
            }
        settings = _settings_from(env)
        w = cls(settings, env, log_dir / f"worker-{suffix}.log")
        w.admin = AdminClient({"bootstrap.servers": base.kafka.bootstrap_servers})
        topics = [*settings.topics.inputs(), settings.topics.dead_letter]
        futures = w.admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1) for t in topics])
        for f in futures.values():
            try:
                f.result(30)
            except Exception as exc:  # noqa: BLE001 - an existing topic is fine
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
        return w

    def start(self) -> None:
        seen = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "streams", "worker", "-l", "info"],
                                         env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}; see {self.log_path}")
            with self.log_path.open("rb") as f:
                f.seek(seen)
                if b"headwater worker ready" in f.read():
                    return
            time.sleep(0.3)
        raise RuntimeError(f"worker not ready in 120 s; see {self.log_path}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)

    def drop(self) -> None:
        """Delete this run's topics and collection (isolated runs only: tests and benchmarks)."""
        from streams.weaviate_client import connect

        if self._producer is not None:
            self._producer.flush(10)
        t = self.settings.topics
        self.admin.delete_topics([*t.inputs(), t.dead_letter])
        client = connect(self.settings.weaviate)
        try:
            client.collections.delete(self.settings.weaviate.collection)
        finally:
            client.close()

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the worker process (VmHWM)."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def metrics(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.settings.worker.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310
            out: dict[str, Any] = json.loads(r.read())
            return out

    def produce(self, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
        """Produce and wait until Kafka confirmed every record."""
        if self._producer is None:
            self._producer = Producer({"bootstrap.servers": self.settings.kafka.bootstrap_servers, "linger.ms": 1,
                                       "enable.idempotence": True, "message.max.bytes": 4_000_000})
        p = self._producer
        for key, value in records:
            p.produce(topic, value, key=key)
            p.poll(0)
        assert p.flush(30) == 0

    def send(self, events: Sequence[AnyEvent]) -> None:
        """Produce typed events to their kind's topic, keyed by entity, confirmed by Kafka."""
        t = self.settings.topics
        by_kind = {"sensor": t.sensor, "app": t.app, "document": t.document}
        for e in events:
            self.produce(by_kind[e.kind.value], [(message_key(e), encode(e))])

    def consume_dead_letters(self, expect: int, timeout_s: float = 30) -> list[Any]:
        c = Consumer({"bootstrap.servers": self.settings.kafka.bootstrap_servers, "group.id": f"dlq-{time.time()}",
                      "auto.offset.reset": "earliest"})
        c.subscribe([self.settings.topics.dead_letter])
        got: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while len(got) < expect and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got.append(m)
        c.close()
        return got


def _settings_from(env: dict[str, str]) -> Settings:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return Settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wait_for(check: Any, timeout_s: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    return last
