"""`headwater query` as the user runs it (the installed script, a subprocess) against a real indexed tenant.

A real worker indexes three documents of a fresh tenant, one readable by group hr only. The JSON
answer has the shape README "Commands" documents, the same in-process and through `headwater serve`;
the in-process search filters by readers as the API does; stderr carries no warning lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import Document, DocumentEvent
from streams.auth import KeyStore, keys_path
from streams.harness.worker_process import Worker, free_port
from streams.settings import Settings
from streams.stack.process import port_open

pytestmark = pytest.mark.integration

HEADWATER = str(Path(sys.executable).with_name("headwater"))
NOISE = ("warning", "%3|", "%4|", "traceback")  # lower case: WARNING, Warning, DeprecationWarning ...
HIT_KEYS = {"text", "score", "kind", "source", "entity_id", "section", "citation", "ingest_time", "index_time"}
CITATION_KEYS = {"event_id", "doc_id", "doc_version", "uri", "title", "char_start", "char_end", "chunk_index",
                 "event_time", "kafka_topic", "kafka_partition", "kafka_offset"}
SECRET = "payroll"
TEXTS = {"vault": "The access code of vault 7 is 4821; the vault is opened every Monday by the guards.",
         "canteen": "The canteen on the second floor serves lunch from noon to two o'clock, also on Fridays.",
         SECRET: "Salaries of the payroll team: the annual salary review raises every engineer's pay by four percent."}


@pytest.fixture(scope="module")
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An indexed tenant, keys for it, and the environment that points `headwater` at both."""
    data = tmp_path_factory.mktemp("data")
    with Worker.started(settings, tmp_path_factory.mktemp("logs"),
                        overrides={"HEADWATER_STACK__DATA_DIR": str(data)}) as w:
        tenant = f"q{uuid.uuid4().hex[:6]}"
        w.send([DocumentEvent(event_id=f"{tenant}-{doc}", source="test", tenant=tenant,
                              event_time=datetime(2026, 3, 1, tzinfo=UTC), readers=["group:hr"] if doc == SECRET
                              else [], payload=Document(doc_id=doc, title=doc, text=text))
                for doc, text in TEXTS.items()])
        w.settle()
        store = KeyStore(keys_path(data))
        keys = {"hr": store.create("hr", [tenant], ["search"], ["hr"]), "staff": store.create("staff", [tenant],
                                                                                                ["search"])}
        env = {k: v for k, v in os.environ.items() if k != "HEADWATER_AUTH__KEY"} | w.env
        # No server at the search port: `query` searches in-process unless a test starts one.
        yield {"tenant": tenant, "keys": keys, "env": env | {"HEADWATER_SEARCH__API_PORT": str(free_port())}}


def _query(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEADWATER, "query", *args], capture_output=True, text=True, env=env, timeout=180)


def _hits(out: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert out.returncode == 0, out.stderr
    noisy = [line for line in out.stderr.splitlines() if any(word in line.lower() for word in NOISE)]
    assert noisy == [], out.stderr
    hits = json.loads(out.stdout)
    assert isinstance(hits, list)
    return hits


def _docs(hits: list[dict[str, Any]]) -> set[str]:
    return {h["citation"]["doc_id"] for h in hits}


def test_local_json_has_the_api_shape_and_a_quiet_stderr(world: dict[str, Any]) -> None:
    hits = _hits(_query(world["env"], "access code of the vault", "--tenant", world["tenant"], "--json", "-k", "2"))
    assert 1 <= len(hits) <= 2 and hits[0]["citation"]["doc_id"] == "vault"
    for h in hits:
        assert set(h) == HIT_KEYS and set(h["citation"]) == CITATION_KEYS
        assert h["kind"] == "document" and isinstance(h["score"], float)
        assert h["citation"]["char_end"] > h["citation"]["char_start"] >= 0
        datetime.fromisoformat(h["citation"]["event_time"])
        datetime.fromisoformat(h["index_time"])


def test_local_search_applies_the_readers_filter_of_the_caller(world: dict[str, Any]) -> None:
    ask = ("salary review of the payroll team", "--tenant", world["tenant"], "--json", "-k", "5")
    assert SECRET not in _docs(_hits(_query(world["env"], *ask)))  # no key: what the whole tenant may read
    assert SECRET not in _docs(_hits(_query(world["env"], *ask, "--key", world["keys"]["staff"])))
    assert SECRET in _docs(_hits(_query(world["env"], *ask, "--key", world["keys"]["hr"])))
    # A key of one tenant searches that tenant even when --tenant is left at its default, as at the API.
    assert SECRET in _docs(_hits(_query(world["env"], ask[0], "--json", "--key", world["keys"]["hr"])))
    unknown = _query(world["env"], *ask, "--key", "hw_not_a_key")
    assert unknown.returncode == 1 and "not in the key store" in unknown.stderr, unknown.stderr


@pytest.fixture(scope="module")
def served(world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running `headwater serve` for the world's tenant; yields the env that points `query` at it."""
    port, log_path = free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    env = world["env"] | {"HEADWATER_SEARCH__API_PORT": str(port)}
    with log_path.open("w") as log:
        proc = subprocess.Popen([HEADWATER, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while not port_open("127.0.0.1", port):
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
            yield env | {"SERVE_LOG": str(log_path)}
        finally:
            proc.terminate()
            proc.wait(30)


def test_through_a_server_the_same_answer_as_in_process(world: dict[str, Any], served: dict[str, str]) -> None:
    ask = ("salary review of the payroll team", "--json", "-k", "3", "--key", world["keys"]["hr"])
    remote = _hits(_query(served, *ask))
    assert '"POST /v1/search HTTP/1.1" 200' in Path(served["SERVE_LOG"]).read_text()  # the server answered
    local = _hits(_query(served, *ask, "--local"))
    assert [(h["citation"]["doc_id"], h["text"]) for h in remote] == [(h["citation"]["doc_id"], h["text"])
                                                                       for h in local]
    assert [h["score"] for h in remote] == pytest.approx([h["score"] for h in local], abs=1e-4)
    assert remote[0]["citation"]["doc_id"] == SECRET and all(set(h) == HIT_KEYS for h in remote)
