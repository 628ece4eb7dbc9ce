"""CPU seconds each process of a measurement used: where a 2-core machine's time went.

A freshness figure alone does not say whether the worker, Weaviate or Kafka was the limit;
the CPU each used over the same interval does. Read from ``/proc/<pid>/stat`` (user + system);
services not run by the native stack (testcontainers, a remote cluster) are left out.
"""

from __future__ import annotations

import os
from pathlib import Path

from streams.settings import Settings
from streams.stack.process import ServiceProcess

TICKS = os.sysconf("SC_CLK_TCK")


def seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class Meter:
    """CPU seconds per named process between :meth:`start` and :meth:`stop`."""

    def __init__(self, settings: Settings, **pids: int) -> None:
        stack = {name: ServiceProcess(name, settings.stack.data_dir).pid() for name in ("kafka", "weaviate")}
        self.pids = {name: pid for name, pid in (stack | pids).items() if pid is not None}
        self.start()

    def start(self) -> None:
        self.begun = {name: seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        return {name: seconds(pid) - self.begun[name] for name, pid in self.pids.items()}
