"""An ASGI app under a real uvicorn server in a background thread, for benchmarks and tests.

Input: an ASGI app. Output: its base URL (``http://127.0.0.1:<free port>``) while the context is open.

Semantics: the context is entered only once uvicorn reports it is started (within ``start_s``;
else :class:`OSError` naming the address), so the first request never races the bind. On exit
the server is asked to stop and its thread joined (up to 15 s). uvicorn logs warnings only and
no access lines, so a benchmark's or test's terminal stays quiet; lifespan events are off unless asked (the
apps here build their state before serving).

Example::

    with serving(create_ingest_api(settings, producer)) as url:
        httpx.post(f"{url}/v1/events", json=event)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

__all__ = ["serving"]


@contextmanager
def serving(app: Any, *, name: str = "uvicorn", start_s: float = 15.0,
            lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a daemon thread called ``name``; yields its URL.

    ``lifespan="on"`` for an app that builds its state in its lifespan (the search API loads its model there).
    """
    import uvicorn  # only the callers that serve pay for importing it

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan=lifespan))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise OSError(f"{name}: the app did not start serving on 127.0.0.1:{port} within {start_s:g} s; "
                          "see the uvicorn lines above")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
