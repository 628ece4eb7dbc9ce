"""The native local stack: Kafka, Weaviate and Mosquitto as processes on 127.0.0.1.

``up`` is idempotent (a running service is left alone), ``down`` keeps the data,
``down(wipe=True)`` removes it. ``up`` with ``stack.secure`` on a new data dir makes a secure
stack (:mod:`streams.stack.credentials`), which stays secure until wiped. Failures raise
:class:`StackError` with a one-line message naming the cause, what to do, and the log file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from streams.observe.console import say
from streams.settings import Settings, credentials_path, load_stack_credentials
from streams.stack import credentials
from streams.stack.kafka import Kafka
from streams.stack.mosquitto import Mosquitto
from streams.stack.process import ServiceProcess, StackError, port_in_use, wait_until
from streams.stack.weaviate import Weaviate

__all__ = ["StackError", "ServiceStatus", "up", "down", "status", "services", "security"]


class Service(Protocol):
    name: str
    proc: ServiceProcess
    ports: list[int]

    @property
    def address(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def auth(self) -> str: ...
    def install(self) -> None: ...
    def start(self) -> None: ...
    def ready(self) -> bool: ...
    def wipe(self) -> None: ...


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # "ready", "starting", "stopped"
    version: str
    address: str
    pid: int | None
    data_dir: str
    log_file: str
    auth: str = "none"  # how clients authenticate: "scram+acl", "apikey+rbac", "anonymous", ...


def services(settings: Settings) -> list[Service]:
    return [Kafka(settings), Weaviate(settings), Mosquitto(settings)]


def _start_one(svc: Service, timeout_s: float) -> None:
    if svc.proc.pid() is not None:
        return
    for port in svc.ports:
        if port_in_use("127.0.0.1", port):
            raise StackError(
                f"{svc.name}: port {port} is already in use by another process; stop that process or "
                f"choose another port in the HEADWATER_ settings (log: {svc.proc.log_file})"
            )
    svc.start()


def _await_one(svc: Service, timeout_s: float) -> None:
    if not wait_until(svc.ready, timeout_s, alive=lambda: svc.proc.pid() is not None):
        died = svc.proc.pid() is None
        last = svc.proc.tail(1).strip()[:160]
        svc.proc.stop()
        cause = "exited during start" if died else f"did not become ready within {timeout_s:.0f}s"
        raise StackError(f"{svc.name} {cause} (last log line: {last!r}); see {svc.proc.log_file}")


def up(settings: Settings) -> list[ServiceStatus]:
    """Install what is missing, start what is stopped, and wait until every service is ready."""
    started = time.monotonic()
    secure = credentials.resolve(settings.stack.data_dir, settings.stack.secure, Kafka(settings).storage())
    svcs = services(settings)  # after resolve: each service reads the credentials file it may have made
    for svc in svcs:
        svc.install()
    for svc in svcs:
        _start_one(svc, settings.stack.ready_timeout_s)
    for svc in svcs:
        _await_one(svc, settings.stack.ready_timeout_s)
        say(f"[stack] {svc.name} ready at {svc.address}")
    say(f"[stack] up in {time.monotonic() - started:.1f}s; data in {settings.stack.data_dir}")
    if secure is not None:
        say(f"[stack] {security(settings)}")
    return status(settings)


def down(settings: Settings, wipe: bool = False) -> None:
    # Reverse order: clients of Kafka (none here) first, Kafka last gets a clean controlled shutdown.
    for svc in reversed(services(settings)):
        if svc.proc.stop():
            say(f"[stack] {svc.name} stopped")
        if wipe:
            svc.wipe()
    if wipe:
        credentials_path(settings.stack.data_dir).unlink(missing_ok=True)
        say(f"[stack] data removed from {settings.stack.data_dir}")


def status(settings: Settings) -> list[ServiceStatus]:
    out = []
    for svc in services(settings):
        pid = svc.proc.pid()
        state = "stopped" if pid is None else ("ready" if svc.ready() else "starting")
        out.append(ServiceStatus(svc.name, state, str(svc.version), svc.address, pid,
                                 str(settings.stack.data_dir / svc.name), str(svc.proc.log_file), svc.auth))
    return out


def security(settings: Settings) -> str:
    """One line: whether the stack in the data dir is secure, and where its credentials are (never them)."""
    path = credentials_path(settings.stack.data_dir)
    creds = load_stack_credentials(settings.stack.data_dir)
    if creds is None:
        return ("secure: no (anonymous Kafka and Weaviate; `headwater stack up --secure` on a new data dir "
                "turns authentication on)")
    return (f"secure: yes (Kafka SASL/{creds.kafka_mechanism} with ACLs, Weaviate API key with RBAC; "
            f"Headwater's user {creds.kafka_username!r}, credentials in {path}, mode 0600)")
