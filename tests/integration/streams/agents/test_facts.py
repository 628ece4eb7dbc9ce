"""Facts stay true: updates, deletes, ordering and curation against an oracle that shares no worker code.

A real worker, real Kafka, real Weaviate. What the index must hold is computed by
``streams.harness.oracle`` from the event log, with rules of its own (it imports none of the
worker's decisions); every test counts missing, stale, orphan and duplicate objects and wants
all of them at 0. Its only drop rule is an exact copy, so the generated logs keep each
document's sentences apart from the others' (near copies are a decision the oracle leaves alone).

The property tests draw fresh examples each run; a failure prints ``HEADWATER_TEST_SEED=...``,
which replays it.
"""

from __future__ import annotations

import os
import random
import signal
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, seed
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from connectors import datasets
from connectors.weaviate import query
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from streams.embed import Embedder
from streams.harness.oracle import Diff, Tombstone, compare, expected, stored
from streams.harness.worker_process import Worker
from streams.retrieve.search import SearchRequest, search

pytestmark = [pytest.mark.integration, pytest.mark.worker(own_data=True)]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
PROPS = ["event_id", "text", "doc_id", "chunk_index", "record_type", "kind"]
SEED = int(os.environ.get("HEADWATER_TEST_SEED") or random.randrange(1 << 32))


class Log:
    """The event log of one test: what was sent, in order, for the oracle."""

    def __init__(self, worker: Worker, tenant: str) -> None:
        self.worker, self.tenant, self.events, self.n = worker, tenant, [], 0
        self.events: list[AnyEvent | Tombstone]

    def send(self, *events: AnyEvent) -> None:
        self.worker.send(events)
        self.events += events

    def tombstone(self, doc_id: str) -> None:
        self.worker.send_tombstone(self.tenant, doc_id)
        self.events.append(Tombstone(self.tenant, doc_id))

    def doc(self, doc_id: str, text: str, version: int = 1, deleted: bool = False) -> DocumentEvent:
        self.n += 1
        return DocumentEvent(event_id=f"{doc_id}-e{self.n}", source="test", tenant=self.tenant,
                             event_time=T0 + timedelta(seconds=self.n),
                             payload=Document(doc_id=doc_id, title=doc_id, text=text, version=version,
                                              deleted=deleted))

    def app(self, message: str) -> AppEventEnvelope:
        self.n += 1
        return AppEventEnvelope(event_id=f"app-e{self.n}", source="test", tenant=self.tenant,
                                event_time=T0 + timedelta(seconds=self.n),
                                payload=AppEvent(app="vault", action="changed", actor="night shift", message=message))

    def reading(self, device: str, value: float, minute: int) -> SensorEvent:
        self.n += 1
        return SensorEvent(event_id=f"{device}-r{self.n}", source="test", tenant=self.tenant,
                           event_time=T0 + timedelta(minutes=minute),
                           payload=SensorReading(device_id=device, metric="temperature", value=value, unit="C"))

    def diff(self, client: Any) -> Diff:
        self.worker.settle()
        s = self.worker.settings
        want = expected(self.events, readings=s.curate.sensor_readings == "index",
                        states=s.curate.sensor_current_state)
        return compare(want, stored(client, s.weaviate.collection, [self.tenant]))


def sentences(n: int, offset: int = 0) -> list[str]:
    words = datasets.wiki_article(3).replace("\n", " ").split(". ")
    return [w.strip() + "." for w in words if len(w.split()) > 6][offset:offset + n]


def assert_clean(diff: Diff) -> None:
    assert diff.clean, diff.report() | {"replay": f"HEADWATER_TEST_SEED={SEED}"}


def test_a_changed_app_fact_is_indexed_not_dropped_as_a_near_duplicate(worker: Worker, client: Any,
                                                                       embedder: Embedder) -> None:
    log = Log(worker, "vault")
    log.send(log.app("The access code of vault 7 was changed to 4471 by the night shift."))
    worker.settle()
    log.send(log.app("The access code of vault 7 was changed to 9902 by the night shift."))
    assert_clean(log.diff(client))
    hits = search(client, embedder, worker.settings.weaviate.collection,
                  SearchRequest(query="access code of vault 7", tenant="vault", k=3), 0.5)
    assert "9902" in hits[0].text  # the newer of the two near-identical events comes first


def test_a_late_delete_loses_to_a_newer_version_and_a_replayed_old_version_cannot_resurrect(
        worker: Worker, client: Any) -> None:
    log = Log(worker, "late")
    text = " ".join(sentences(6))
    log.send(log.doc("a", text, version=2))
    worker.settle()
    log.send(log.doc("a", "", version=1, deleted=True))  # a late delete of an older version
    assert_clean(log.diff(client))
    assert query.objects(client, worker.settings.weaviate.collection, "late", PROPS)
    log.send(log.doc("a", "", version=3, deleted=True))
    worker.settle()
    log.send(log.doc("a", text, version=2))  # a replay of the deleted version
    assert_clean(log.diff(client))
    assert query.objects(client, worker.settings.weaviate.collection, "late", PROPS) == []


def test_same_version_shrink_leaves_no_tail_and_a_tombstone_deletes(worker: Worker, client: Any) -> None:
    log = Log(worker, "shrink")
    log.send(log.doc("b", " ".join(sentences(30))))
    worker.settle()
    log.send(log.doc("b", " ".join(sentences(4))))  # same (default) version, shorter text
    assert_clean(log.diff(client))
    log.tombstone("b")
    assert_clean(log.diff(client))


def test_sensor_state_never_moves_back_in_time(worker: Worker, client: Any) -> None:
    log = Log(worker, "state")
    log.send(log.reading("pump-1", 81.0, minute=10))
    worker.settle()
    log.send(log.reading("pump-1", 20.0, minute=5))  # an older reading, in a later batch
    assert_clean(log.diff(client))
    states = [o for o in query.objects(client, worker.settings.weaviate.collection, "state", PROPS)
              if o["record_type"] == "state"]
    assert len(states) == 1 and "81" in states[0]["text"]


def test_re_sending_unchanged_documents_writes_nothing(worker: Worker, client: Any) -> None:
    log = Log(worker, "again")
    docs = [log.doc(f"d{i}", " ".join(sentences(8, offset=i * 8))) for i in range(4)]
    log.send(*docs)
    worker.settle()
    before = worker.metrics()["counts"].get("chunks.written", 0)
    log.send(*[log.doc(d.payload.doc_id, d.payload.text) for d in docs])  # the same content again
    assert_clean(log.diff(client))
    assert worker.metrics()["counts"].get("chunks.written", 0) == before


# --- generated sequences -----------------------------------------------------------------------

# Each document draws from 14 sentences of its own: a sentence shared across documents would make
# the worker's near-copy rule, which the oracle does not model, decide what is stored.
PER_DOC = 14
POOL = {doc: sentences(PER_DOC, offset=i * PER_DOC) for i, doc in enumerate("xyz")}
ops = st.lists(st.one_of(
    st.tuples(st.just("upsert"), st.sampled_from("xyz"), st.integers(1, 4),
              st.lists(st.integers(0, PER_DOC - 1), min_size=1, max_size=PER_DOC)),
    st.tuples(st.just("edit"), st.sampled_from("xyz"), st.integers(0, PER_DOC - 1)),
    st.tuples(st.just("delete"), st.sampled_from("xyz"), st.integers(1, 4)),
    st.tuples(st.just("tombstone"), st.sampled_from("xyz")),
    st.tuples(st.just("replay"), st.integers(1, 4)),
    st.tuples(st.just("reading"), st.sampled_from(["p1", "p2"]), st.integers(0, 30)),
    st.tuples(st.just("settle"),),
), min_size=3, max_size=18)


def run_ops(log: Log, steps: Sequence[tuple[Any, ...]]) -> None:
    texts: dict[str, list[int]] = {}
    for step in steps:
        kind = step[0]
        if kind == "upsert":
            texts[step[1]] = list(step[3])
            log.send(log.doc(step[1], " ".join(POOL[step[1]][i] for i in step[3]), version=step[2]))
        elif kind == "edit" and step[1] in texts:
            sent = texts[step[1]]
            sent[len(sent) // 2] = step[2]  # one sentence changes; the version stays (the default re-send)
            log.send(log.doc(step[1], " ".join(POOL[step[1]][i] for i in sent), version=1))
        elif kind == "delete":
            log.send(log.doc(step[1], "", version=step[2], deleted=True))
        elif kind == "tombstone":
            log.tombstone(step[1])
        elif kind == "replay":
            again = [e for e in log.events[-step[1]:] if not isinstance(e, Tombstone)]
            log.send(*again)  # duplicated and late events: the same ids and versions again
        elif kind == "reading":
            log.send(log.reading(step[1], float(step[2]), minute=step[2]))
        elif kind == "settle":
            log.worker.settle()


@seed(SEED)
@hyp_settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None, print_blob=True)
@given(steps=ops)
def test_generated_sequences_leave_exactly_what_the_log_says(worker: Worker, client: Any,
                                                             steps: list[tuple[Any, ...]]) -> None:
    note(f"HEADWATER_TEST_SEED={SEED}")
    log = Log(worker, f"gen{uuid.uuid4().hex[:8]}")
    run_ops(log, steps)
    assert_clean(log.diff(client))


def test_a_kill_mid_sequence_and_a_restart_change_nothing(worker: Worker, client: Any) -> None:
    log = Log(worker, "restart")
    first = [("upsert", "x", 2, list(range(0, 12))), ("upsert", "y", 1, list(range(0, 8))),
             ("reading", "p1", 7), ("edit", "y", 13)]
    run_ops(log, first)
    worker.kill(signal.SIGKILL)
    run_ops(log, [("delete", "x", 1), ("upsert", "z", 1, [1, 2, 3]), ("replay", 3), ("tombstone", "y")])
    worker.start()
    assert_clean(log.diff(client))


def test_editing_one_file_replaces_its_fact_however_the_file_is_named(
        worker: Worker, client: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from streams.cli.ingest import ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    body = " ".join(sentences(10))
    (docs / "moon.txt").write_text(f"{body} The moon base has 41 airlocks.")
    (docs / "sun.txt").write_text(" ".join(sentences(10, offset=10)))
    for kind in ("document", "dead_letter", "sensor", "app"):
        monkeypatch.setenv(f"HEADWATER_TOPICS__{kind.upper()}", getattr(worker.settings.topics, kind))
    monkeypatch.setenv("HEADWATER_KAFKA__BOOTSTRAP_SERVERS", worker.settings.kafka.bootstrap_servers)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(ingest, ["docs/", "--tenant", "files"]).exit_code == 0
    worker.settle()
    (docs / "moon.txt").write_text(f"{body} The moon base has 57 airlocks.")
    os.utime(docs / "moon.txt", (1_900_000_000, 1_900_000_000))  # a newer mtime, hence a newer version
    assert CliRunner().invoke(ingest, ["docs/moon.txt", "--tenant", "files"]).exit_code == 0
    worker.settle()
    texts = [o["text"] for o in query.objects(client, worker.settings.weaviate.collection, "files", PROPS)]
    ids = {o["doc_id"] for o in query.objects(client, worker.settings.weaviate.collection, "files", PROPS)}
    assert ids == {(docs / "moon.txt").resolve().as_posix(), (docs / "sun.txt").resolve().as_posix()}
    assert any("57 airlocks" in t for t in texts) and not any("41 airlocks" in t for t in texts)


# --- a fleet in state mode: readings only move their series' current state ---------------------

@pytest.fixture(scope="module")
def state_worker(start_worker: Callable[..., Worker]) -> Worker:
    return start_worker({"HEADWATER_CURATE__SENSOR_READINGS": "state"}, own_data=True)


readings_log = st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 6), st.booleans()),
                        min_size=5, max_size=60)


@seed(SEED)
@hyp_settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), database=None, print_blob=True)
@given(steps=readings_log)
def test_state_mode_keeps_the_latest_reading_of_each_series(state_worker: Worker, client: Any,
                                                            steps: list[tuple[str, int, bool]]) -> None:
    """Late, equal-time and re-sent readings, in bursts that the worker gathers into batches of any size."""
    note(f"HEADWATER_TEST_SEED={SEED}")
    log = Log(state_worker, f"fleet{uuid.uuid4().hex[:8]}")
    burst: list[AnyEvent] = []
    for device, minute, settle in steps:
        burst.append(log.reading(device, float(minute * 10 + len(burst)), minute=minute))
        if settle:
            log.send(*burst)
            burst = []
            state_worker.settle()
    log.send(*burst, *burst[:2])  # and a replay of the last burst's first two
    assert_clean(log.diff(client))
    objs = query.objects(client, state_worker.settings.weaviate.collection, log.tenant, PROPS)
    assert {o["record_type"] for o in objs} == {"state"}


def test_a_kill_in_the_middle_of_a_fleet_stream_leaves_every_state_at_its_latest_reading(
        state_worker: Worker, client: Any) -> None:
    """SIGKILL while the readings lane is writing, newer readings while the worker is down, then, after a
    second kill took its memory of stored event times, readings older than what is stored: no state moves
    back, none is missing or doubled."""
    import time

    log = Log(state_worker, f"killed{uuid.uuid4().hex[:8]}")
    rng = random.Random(SEED)

    def readings(n: int, first_minute: int) -> list[AnyEvent]:
        # 40 series, minutes drawn from a window: late and equal-time readings of every series
        return [log.reading(f"d{rng.randrange(40)}", float(rng.randrange(1000)), minute=first_minute +
                            rng.randrange(30)) for _ in range(n)]

    log.send(*readings(4000, 10))
    time.sleep(0.2)  # the lane is planning or writing its first batches
    state_worker.kill(signal.SIGKILL)
    log.send(*readings(1500, 20))  # while it is down
    state_worker.start()
    state_worker.settle()
    state_worker.kill(signal.SIGKILL)  # nothing left uncommitted: only what Weaviate holds says what is newer
    state_worker.start()
    log.send(*readings(1500, 0))  # every one older than its series' stored state
    assert_clean(log.diff(client))
    objs = query.objects(client, state_worker.settings.weaviate.collection, log.tenant, PROPS)
    assert len(objs) == 40 and {o["record_type"] for o in objs} == {"state"}
