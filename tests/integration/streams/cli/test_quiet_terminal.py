"""A newcomer's terminal: the first commands print no warnings, and `query` uses a running server.

Each command runs as the user runs it: the installed ``headwater`` script in a subprocess,
against the session's stack (its addresses passed as ``HEADWATER_*`` settings).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.harness.worker_process import free_port
from streams.settings import Settings
from streams.stack.process import ServiceProcess, port_open

pytestmark = pytest.mark.integration

HEADWATER = str(Path(sys.executable).with_name("headwater"))
NOISE = ("Warning", "%3|", "%4|", "Traceback")


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "HEADWATER_STACK__DATA_DIR": str(settings.stack.data_dir),
            "HEADWATER_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
            "HEADWATER_WEAVIATE__HOST": settings.weaviate.host,
            "HEADWATER_WEAVIATE__HTTP_PORT": str(settings.weaviate.http_port),
            "HEADWATER_WEAVIATE__GRPC_PORT": str(settings.weaviate.grpc_port),
            "HEADWATER_AUTH__ANONYMOUS": "true", **extra}  # access control is tested on its own


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEADWATER, *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.parametrize("args", [["--help"], ["stack", "status"], ["query", "x", "--tenant", "nobody"]],
                         ids=["help", "stack-status", "query"])
def test_first_commands_print_no_warnings(settings: Settings, args: list[str]) -> None:
    # No server at the search port: query takes the in-process path, the one that imports everything.
    out = _run(args, _env(settings, HEADWATER_SEARCH__API_PORT=str(free_port())))
    assert out.returncode in (0, 3), out.stderr  # stack status: 3 when the session's stack is not the native one
    noisy = [line for line in out.stderr.splitlines() if any(word in line for word in NOISE)]
    assert noisy == [], out.stderr


def test_an_unknown_tenant_is_an_empty_answer(settings: Settings) -> None:
    out = _run(["query", "x", "--tenant", "nobody", "--json", "--local"], _env(settings))
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr


def test_stack_processes_leave_no_resource_warnings(tmp_path: Path) -> None:
    # -X dev shows every ResourceWarning: a Popen left running, a pipe left open.
    code = f"""
import gc, os
from pathlib import Path
from streams.stack.process import ServiceProcess, run_with_progress
tmp = Path({str(tmp_path)!r})
proc = ServiceProcess("sleeper", tmp)
pid = proc.start(["sleep", "30"], cwd=tmp)
gc.collect()
print(pid, os.readlink(f"/proc/{{pid}}/cwd"), Path(f"/proc/{{pid}}/cmdline").read_bytes().split(b"\\0")[0].decode())
run_with_progress(["echo", "built"], tmp / "build.log", "build")
gc.collect()
assert proc.stop(timeout_s=10)
"""
    out = subprocess.run([sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ResourceWarning" not in out.stderr, out.stderr
    pid, cwd, program = out.stdout.split()
    assert (cwd, program) == (str(tmp_path), "sleep")  # the pid file names the service itself, in its directory
    assert ServiceProcess("sleeper", tmp_path).pid() is None
    assert "built" in (tmp_path / "build.log").read_text()


@pytest.fixture
def search_api(settings: Settings, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A running ``headwater serve`` on a port of its own; yields the env that points `query` at it."""
    port = free_port()
    env = _env(settings, HEADWATER_SEARCH__API_PORT=str(port))
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([HEADWATER, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not port_open("127.0.0.1", port) and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        yield env | {"SERVE_LOG": str(tmp_path / "serve.log")}
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_query_uses_a_running_server(search_api: dict[str, str]) -> None:
    started = time.monotonic()
    out = _run(["query", "vault code", "--tenant", "nobody", "--json"], search_api)
    took = time.monotonic() - started
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr
    # The server answered (200), so no model was loaded here; nothing indexed for the tenant is [] there too.
    assert '"POST /v1/search HTTP/1.1" 200' in Path(search_api["SERVE_LOG"]).read_text()
    assert took < 5, f"query through the server took {took:.1f}s"  # no model load: ~0.5 s on 2 idle cores
