"""The workers of the stream tests, written once: ``start_worker`` (a factory) and ``worker`` (one per module).

Every worker runs on topics and a collection of its own and is stopped and dropped after its module.
``overrides`` are ``HEADWATER_*`` settings of the worker; ``own_data`` gives it a data directory of its
own (an embedding cache and ledger files nobody else warmed). A module sets its ``worker`` with a marker:

    pytestmark = [pytest.mark.integration, pytest.mark.worker(own_data=True, overrides={...})]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack

import pytest

from streams.harness.worker_process import Worker
from streams.settings import Settings

StartWorker = Callable[..., Worker]


@pytest.fixture(scope="module")
def start_worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartWorker]:
    """``start_worker(overrides=None, own_data=False)``: a started worker, stopped and dropped after the module."""
    with ExitStack() as started:
        def start(overrides: Mapping[str, str] | None = None, own_data: bool = False) -> Worker:
            env = dict(overrides or {})
            if own_data:
                env["HEADWATER_STACK__DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
            return started.enter_context(Worker.started(settings, tmp_path_factory.mktemp("logs"), overrides=env))

        yield start


@pytest.fixture(scope="module")
def worker(start_worker: StartWorker, request: pytest.FixtureRequest) -> Worker:
    """The module's worker, as its ``pytest.mark.worker(overrides=..., own_data=...)`` says (none: defaults)."""
    mark = request.node.get_closest_marker("worker")
    return start_worker(**(mark.kwargs if mark else {}))
