"""A secure native stack beside the shared one: Kafka SASL/SCRAM with ACLs, Weaviate API keys with RBAC.

Started once for the module as a user starts it (``headwater stack up --secure``), on ports of its own
and in a data dir under pytest's tmp dir; every Headwater component here gets its credentials only from
that data dir's credentials file, as a user's would.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion
from pydantic import SecretStr

from connectors import datasets as realdata
from connectors import kafka_admin
from connectors.config import KafkaSettings, kafka_config
from connectors.weaviate.client import connect
from schemas import Document, DocumentEvent
from streams.embed import Embedder
from streams.harness.worker_process import Worker, wait_for
from streams.retrieve.search import SearchRequest, search
from streams.settings import Settings, credentials_path
from tests.integration.streams.stack.stack_kit import ALT_PORTS

pytestmark = pytest.mark.integration



def _shifted(env: dict[str, str], by: int) -> dict[str, str]:
    """The same settings with every port (a bare port or the end of ``host:port``) moved by ``by``."""
    def shift(value: str) -> str:
        host, sep, port = value.rpartition(":")
        return f"{host}{sep}{int(port) + by}"

    return {key: shift(value) for key, value in env.items()}


# Beside the shared stack (9092, 8080, ...), test_stack.py's (19092, 18080, ...) and a cluster's (+10000 per node).
PORTS = _shifted(ALT_PORTS, 100)


@dataclass(frozen=True)
class SecureStack:
    env: dict[str, str]
    settings: Settings
    data_dir: Path
    log_dir: Path  # the workers' logs, checked for secrets with the stack's own
    up_output: str

    def secrets(self) -> list[str]:
        stored = json.loads(credentials_path(self.data_dir).read_text())
        return [stored["kafka_password"], stored["controller_password"], stored["weaviate_api_key"]]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)


def _settings(env: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        return Settings()


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    data_dir = tmp_path_factory.mktemp("secure-stack")
    env = {**PORTS, "HEADWATER_STACK__DATA_DIR": str(data_dir)}
    try:
        started = time.monotonic()
        up = _cli(["stack", "up", "--secure"], env)
        assert up.returncode == 0, up.stdout + up.stderr
        print(f"secure stack up in {time.monotonic() - started:.1f}s")  # noqa: T201 - shown with -s: the cost
        yield SecureStack(env, _settings(env), data_dir, tmp_path_factory.mktemp("secure-logs"),
                          up.stdout + up.stderr)
    finally:
        down = _cli(["stack", "down", "--wipe"], env)
        assert down.returncode == 0, down.stderr


def _quiet(kafka: KafkaSettings, client_id: str, errors: list[KafkaError]) -> dict[str, Any]:
    """A client of these settings that reports its errors to ``errors`` and prints nothing itself."""
    return kafka_config(kafka, client_id) | {"error_cb": errors.append, "log_level": 0}


def _produce_one(kafka: KafkaSettings, topic: str, timeout_s: float = 4) -> tuple[KafkaError | None, list[KafkaError]]:
    """(the delivery result of one record, the client's errors); no idempotence, so the first refusal is
    the topic's own and not the cluster's (InitProducerId)."""
    errors: list[KafkaError] = []
    delivered: list[KafkaError | None] = []
    p = Producer(_quiet(kafka, "t-secure", errors) | {"enable.idempotence": False,
                                                       "message.timeout.ms": int(timeout_s * 1000)})
    p.produce(topic, b"probe", on_delivery=lambda err, _msg: delivered.append(err))
    deadline = time.monotonic() + timeout_s + 5
    while not delivered and time.monotonic() < deadline:
        p.poll(0.2)
    assert delivered, "no delivery report"
    return delivered[0], errors


def _topic(secure: SecureStack) -> str:
    name = secure.settings.topics.app
    kafka_admin.create_topics(secure.settings.kafka, [name], partitions=1)
    return name


def test_settings_pick_up_the_generated_credentials(secure: SecureStack) -> None:
    k, w = secure.settings.kafka, secure.settings.weaviate
    assert (k.security_protocol, k.sasl_mechanism, k.sasl_username) == ("SASL_PLAINTEXT", "SCRAM-SHA-512", "headwater")
    assert w.api_key is not None
    assert "secure: yes" in secure.up_output


def test_kafka_refuses_clients_without_credentials_or_with_a_wrong_password(secure: SecureStack) -> None:
    topic = _topic(secure)
    anonymous = KafkaSettings(bootstrap_servers=secure.settings.kafka.bootstrap_servers)
    err, _ = _produce_one(anonymous, topic)
    assert err is not None and err.code() == KafkaError._MSG_TIMED_OUT  # the broker closed every connection
    broker_log = (secure.data_dir / "logs" / "kafka.log").read_text(errors="replace")
    assert "during SASL handshake" in broker_log  # ... because it spoke Kafka where SASL had to come first

    wrong = secure.settings.kafka.model_copy(update={"sasl_password": SecretStr("not-the-password")})
    err, errors = _produce_one(wrong, topic)
    assert err is not None
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors

    err, _ = _produce_one(secure.settings.kafka, topic)
    assert err is None  # the generated admin user is let in


def test_kafka_acls_refuse_an_authenticated_user_that_no_acl_allows(secure: SecureStack) -> None:
    topic = _topic(secure)
    password = secrets.token_urlsafe(16)
    admin = AdminClient(_quiet(secure.settings.kafka, "t-secure-admin", []))
    upsert = UserScramCredentialUpsertion("reader", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192),
                                          password.encode())
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(30)
    reader = secure.settings.kafka.model_copy(update={"sasl_username": "reader",
                                                      "sasl_password": SecretStr(password)})

    def authenticated() -> bool:  # a new SCRAM user reaches the broker's cache within moments
        errors: list[KafkaError] = []
        AdminClient(_quiet(reader, "t-secure-reader", errors)).list_topics(timeout=5)
        return not any(e.code() == KafkaError._AUTHENTICATION for e in errors)

    assert wait_for(authenticated, 20, 0.5)
    err, errors = _produce_one(reader, topic)
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (err, errors)
    assert not any(e.code() == KafkaError._AUTHENTICATION for e in errors)


def _get(secure: SecureStack, path: str, key: str | None, body: dict[str, Any] | None = None) -> int:
    """The HTTP status of a GET (or, with ``body``, a POST) to the secure Weaviate."""
    url = f"http://127.0.0.1:{secure.settings.weaviate.http_port}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def test_weaviate_refuses_requests_without_the_key_and_rbac_refuses_a_user_without_roles(
        secure: SecureStack) -> None:
    assert _get(secure, "/v1/schema", None) == 401
    assert _get(secure, "/v1/schema", "not-the-key") == 401
    key = secure.settings.weaviate.api_key
    assert key is not None and _get(secure, "/v1/schema", key.get_secret_value()) == 200

    client = connect(secure.settings.weaviate)  # the v4 client with Auth.api_key from the settings
    try:
        user = f"nobody-{uuid.uuid4().hex[:6]}"
        nobody_key = client.users.db.create(user_id=user)
        assert _get(secure, "/v1/schema", nobody_key) == 200  # authenticated: a listing, of nothing it may read
        made = {"class": f"Nope{uuid.uuid4().hex[:6]}", "vectorizer": "none"}
        assert _get(secure, "/v1/schema", nobody_key, made) == 403  # but no role lets it create a collection
        client.users.db.delete(user_id=user)
    finally:
        client.close()


def _tenant_kinds(secure: SecureStack, collection: str, tenant: str) -> set[str]:
    client = connect(secure.settings.weaviate)
    try:
        if not client.collections.exists(collection):
            return set()
        col = client.collections.use(collection).with_tenant(tenant)
        try:
            return {str(o.properties["kind"]) for o in col.iterator(return_properties=["kind"])}
        except Exception as exc:  # noqa: BLE001 - tenant not made yet: nothing indexed yet
            if "tenant" in str(exc).lower():
                return set()
            raise
    finally:
        client.close()


def test_a_worker_indexes_every_kind_through_the_secure_stack(secure: SecureStack, embedder: Embedder) -> None:
    tenant = "secured"
    fact = DocumentEvent(
        event_id=f"fact-{uuid.uuid4().hex[:6]}", source="test", tenant=tenant, event_time=datetime.now(UTC),
        payload=Document(doc_id="vault-7", title="Vault 7", version=1,
                         text="The access code of vault 7 in building C was changed to 4471 on Monday."))
    events = [*realdata.jeopardy_events(tenant, 5), *realdata.occupancy_events(tenant, 5), fact]
    with Worker.started(secure.settings, secure.log_dir, overrides=secure.env) as worker:
        # The worker, the harness's producer and admin: all on the generated credentials from the data dir.
        assert worker.settings.kafka.sasl_username == "headwater"
        worker.send(events)
        collection = worker.settings.weaviate.collection
        kinds = wait_for(lambda: (k := _tenant_kinds(secure, collection, tenant)) >= {"sensor", "app", "document"}
                         and k, 180, 1.0)
        assert kinds == {"sensor", "app", "document"}
        client = connect(secure.settings.weaviate)
        try:
            req = SearchRequest(query="What is the access code of vault 7?", tenant=tenant, k=3)
            hits = wait_for(lambda: search(client, embedder, collection, req, 0.5), 30, 0.5)
            assert hits and hits[0].citation.event_id == fact.event_id
            assert "4471" in hits[0].text
        finally:
            client.close()


def test_credentials_are_private_and_never_printed_or_logged(secure: SecureStack) -> None:
    path = credentials_path(secure.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((secure.data_dir / "kafka" / "server.properties").stat().st_mode) == 0o600

    status = _cli(["stack", "status"], secure.env)
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line.split()[-2] for line in status.stdout.splitlines()[1:]}
    assert rows == {"kafka": "scram+acl", "weaviate": "apikey+rbac", "mosquitto": "anonymous"}
    assert "secure: yes" in status.stderr and str(path) in status.stderr

    logs = sorted((secure.data_dir / "logs").glob("*.log")) + sorted(secure.log_dir.glob("*.log"))
    assert any(p.name.startswith("worker-") for p in logs)  # the worker's log is among those read
    shown = {"stack up": secure.up_output, "stack status": status.stdout + status.stderr,
             **{str(p): p.read_text(errors="replace") for p in logs}}
    for secret in secure.secrets():
        leaked = [where for where, text in shown.items() if secret in text]
        assert not leaked, f"a generated secret appears in {leaked}"
