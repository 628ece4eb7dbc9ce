"""``headwater query``: the server path, its fall-back, and one --json shape whichever answered."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import click
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from streams.cli.query import ask_server, format_hits
from streams.harness.worker_process import free_port
from streams.retrieve.search import Citation, Hit
from streams.settings import SearchSettings

pytestmark = pytest.mark.unit

HIT = Hit(text="The access code of vault 7 is 4821.", score=0.93, kind="document", source="intranet",
          entity_id="vault-memo", section="Vault memo", ingest_time=datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC),
          citation=Citation(event_id="memo-1", doc_id="vault-memo", doc_version=3, uri="intranet://memos/vault",
                            title="Vault memo", char_start=0, char_end=35, chunk_index=0,
                            event_time=datetime(2026, 1, 1, 12, tzinfo=UTC), kafka_topic="headwater.document.v1",
                            kafka_partition=1, kafka_offset=17))


class FakeApi:
    """A stand-in search API: answers with the queued (status, body) pairs, records what it was asked."""

    def __init__(self, port: int) -> None:
        self.search = SearchSettings(api_host="127.0.0.1", api_port=port)
        self.answers: list[tuple[int, Any]] = []
        self.asked: list[tuple[str, Any]] = []


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake: FakeApi

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            fake.asked.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            status, body = fake.answers.pop(0)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args: Any) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeApi(httpd.server_address[1])
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_no_server_means_search_locally() -> None:
    assert ask_server(SearchSettings(api_port=free_port()), {"query": "x"}) is None


def test_a_running_server_answers(api: FakeApi) -> None:
    hits = [HIT.model_dump(mode="json")]
    api.answers.append((200, hits))
    assert ask_server(api.search, {"query": "vault code", "tenant": "demo", "k": 3}) == hits
    assert api.asked == [("/v1/search", {"query": "vault code", "tenant": "demo", "k": 3})]


def test_another_service_or_a_server_error_falls_back(api: FakeApi) -> None:
    api.answers += [(404, {"detail": "Not Found"}), (500, {"detail": "boom"}), (200, {"not": "a list"})]
    assert [ask_server(api.search, {"query": "x"}) for _ in range(3)] == [None, None, None]


def test_a_refused_request_is_a_usage_error(api: FakeApi) -> None:
    api.answers.append((422, {"detail": [{"loc": ["body", "k"], "msg": "Input should be less than or equal to 100"}]}))
    with pytest.raises(click.UsageError, match="less than or equal to 100"):
        ask_server(api.search, {"query": "x", "k": 1000})


def test_json_is_the_same_from_the_server_and_in_process() -> None:
    app = FastAPI()

    @app.post("/v1/search", response_model=list[Hit])
    async def search() -> list[Hit]:
        return [HIT]

    over_http = TestClient(app).post("/v1/search").json()
    assert over_http == [HIT.model_dump(mode="json")]
    assert set(over_http[0]) == set(Hit.model_fields)


def test_text_output_cites_the_source() -> None:
    lines = format_hits([HIT.model_dump(mode="json")])
    assert lines == [
        "1. [0.930] The access code of vault 7 is 4821.",
        "   cite: document intranet://memos/vault chars 0-35 event_time 2026-01-01T12:00:00Z "
        "(headwater.document.v1/1@17)",
    ]
