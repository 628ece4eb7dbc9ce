"""Local service processes: start detached, track by pid file, stop cleanly.

Each service keeps ``<data_dir>/run/<name>.pid`` and ``<data_dir>/logs/<name>.log``
so that ``headwater stack`` commands run from any shell find the same processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A stack operation failed; the message is one line: cause, what to do, log file."""


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    data_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n--- headwater: starting {self.name}: {' '.join(argv)}\n".encode())
            log.flush()
            pid = spawn_detached(argv, log.fileno(), {**os.environ, **(env or {})}, cwd)
        self.pid_file.write_text(str(pid))
        return pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM, wait, then SIGKILL. Returns True if a process was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def spawn_detached(argv: Sequence[str], log_fd: int, env: dict[str, str], cwd: Path | None) -> int:
    """Start a service in a session of its own (it survives the CLI; Ctrl-C in the shell does not reach it).

    ``posix_spawn``, not ``Popen``: a Popen object of a process meant to outlive us warns
    "subprocess ... is still running" when collected; the pid file is how we track it instead.
    """
    args = [str(a) for a in argv]
    if cwd is not None:
        # posix_spawn has no chdir action before Python 3.13: sh changes directory, exec keeps the pid.
        args = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', str(cwd), *args]
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, log_fd, 1), (os.POSIX_SPAWN_DUP2, log_fd, 2)]
    # setsigdef: Python ignores SIGPIPE and SIGXFSZ; a service gets the default actions, as Popen gives them.
    return os.posix_spawnp(args[0], args, env, file_actions=actions, setsid=True,
                           setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this very process counts as gone.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state != "Z"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout_s: float, alive: Callable[[], bool]) -> bool:
    """Poll ``check`` until true; give up early when the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return False
        time.sleep(0.25)
    return check()


def run_with_progress(argv: Sequence[str], log_file: Path, label: str, env: dict[str, str] | None = None,
                      cwd: Path | None = None) -> None:
    """Run a long build step, teeing output to ``log_file`` and showing one progress line."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    steps = 0
    last_print = 0.0
    tty = sys.stderr.isatty()
    # Both as context managers: the pipe is closed and the process waited for, even on Ctrl-C.
    with log_file.open("a") as log, subprocess.Popen(  # noqa: S603
            list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})}, cwd=cwd) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            steps += 1
            now = time.monotonic()
            if now - last_print > (0.5 if tty else 15):
                last_print = now
                msg = f"[{label}] {int(now - started)}s, {steps} steps, {line.strip()[:90]}"
                print(("\r\033[K" if tty else "") + msg, end="" if tty else "\n", file=sys.stderr, flush=True)
        rc = proc.wait()
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    print(f"[{label}] done in {int(time.monotonic() - started)}s" if rc == 0 else "", file=sys.stderr)
    if rc != 0:
        raise StackError(f"{label} failed (exit {rc}); see the end of {log_file} and fix the cause, then run again")
