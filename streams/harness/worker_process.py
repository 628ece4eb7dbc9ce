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
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer

from connectors import kafka_admin
from connectors.config import kafka_config
from connectors.producer import Producer
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
    _producer: Any = field(default=None)

    @classmethod
    def create(cls, base: Settings, suffix: str, log_dir: Path, *, isolated: bool = True, partitions: int = 3,
               overrides: Mapping[str, str] | None = None) -> Worker:
        """A worker on ``base``'s services; ``overrides`` are ``HEADWATER_*`` settings of its own."""
        env = {
            "HEADWATER_STACK__DATA_DIR": str(base.stack.data_dir),
            "HEADWATER_KAFKA__BOOTSTRAP_SERVERS": base.kafka.bootstrap_servers,
            "HEADWATER_WEAVIATE__HOST": base.weaviate.host,
            "HEADWATER_WEAVIATE__HTTP_PORT": str(base.weaviate.http_port),
            "HEADWATER_WEAVIATE__GRPC_PORT": str(base.weaviate.grpc_port),
            "HEADWATER_WORKER__WEB_PORT": str(free_port()),
            "HEADWATER_WORKER__INSTANCE_ID": f"worker-{suffix}-1",  # a restart takes its partitions back at once
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
        kafka_admin.create_topics(settings.kafka, [*settings.topics.inputs(), settings.topics.dead_letter], partitions)
        return cls(settings, env, log_dir / f"worker-{suffix}.log")

    @classmethod
    @contextmanager
    def started(cls, base: Settings, log_dir: Path, *, overrides: Mapping[str, str] | None = None,
                partitions: int = 3) -> Iterator[Worker]:
        """A started worker on topics and a collection of its own; stopped and dropped afterwards."""
        w = cls.create(base, uuid.uuid4().hex[:8], log_dir, overrides=overrides, partitions=partitions)
        w.start()
        try:
            yield w
        finally:
            w.kill(signal.SIGTERM)
            w.drop()

    def sibling(self, name: str) -> Worker:
        """Another worker process in the same consumer group, on the same topics and collection."""
        env = {**self.env, "HEADWATER_WORKER__WEB_PORT": str(free_port()),
               "HEADWATER_WORKER__INSTANCE_ID": f"{self.env['HEADWATER_WORKER__INSTANCE_ID']}-{name}"}
        return Worker(self.settings.model_copy(update={"worker": self.settings.worker.model_copy(
            update={"web_port": int(env["HEADWATER_WORKER__WEB_PORT"])})}), env,
            self.log_path.with_name(f"{self.log_path.stem}-{name}.log"))

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
        from connectors.weaviate.client import connect

        if self._producer is not None:
            self._producer.close()
            self._producer = None
        t = self.settings.topics
        kafka_admin.delete_topics(self.settings.kafka, [*t.inputs(), t.dead_letter])
        client = connect(self.settings.weaviate)
        try:
            name = self.settings.weaviate.collection
            client.collections.delete([name, f"{name}Ledger"])
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
            self._producer = Producer(self.settings.kafka, client_id="headwater-harness", linger_ms=1)
        for future in [self._producer.submit(topic, value, key) for key, value in records]:
            future.result(30)

    def send(self, events: Sequence[AnyEvent]) -> None:
        """Produce typed events to their kind's topic, keyed by entity, confirmed by Kafka."""
        if self._producer is None:
            self._producer = Producer(self.settings.kafka, client_id="headwater-harness", linger_ms=1)
        topics = self.settings.topics
        pending = [self._producer.submit(topics.for_kind(e.kind.value), encode(e), message_key(e)) for e in events]
        for future in pending:  # all handed over first, then awaited: one round trip, not one per event
            future.result(60)

    def settle(self, timeout_s: float = 120) -> None:
        """Wait until the worker committed every input record produced so far (so all of it is written)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sum(kafka_admin.lags(self.settings.kafka, self.settings.consumer_groups()).values()) == 0:
                return
            time.sleep(0.3)
        raise TimeoutError(f"worker did not catch up within {timeout_s} s; see {self.log_path}")

    def send_tombstone(self, tenant: str, doc_id: str) -> None:
        self.produce(self.settings.topics.document, [(f"{tenant}/{doc_id}".encode(), None)])

    def consume_dead_letters(self, expect: int, timeout_s: float = 30) -> list[Any]:
        c = Consumer(kafka_config(self.settings.kafka, "headwater-harness-dlq")
                     | {"group.id": f"dlq-{time.time()}", "auto.offset.reset": "earliest"})
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
