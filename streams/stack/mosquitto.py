"""Mosquitto (MQTT broker for sensor connectors) from Debian's package."""

from __future__ import annotations

import shutil
import subprocess

from streams.settings import Settings
from streams.stack.process import ServiceProcess, StackError, port_open


class Mosquitto:
    name = "mosquitto"
    auth = "anonymous"  # loopback only; MQTT auth is not part of the secure stack yet

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.proc = ServiceProcess(self.name, settings.stack.data_dir)
        self.home = settings.stack.data_dir / "mosquitto"
        self.ports = [settings.mqtt.port]
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

    @property
    def address(self) -> str:
        return f"mqtt://127.0.0.1:{self.s.mqtt.port}"

    @property
    def version(self) -> str:
        try:
            out = subprocess.run([self.binary, "-h"], capture_output=True, text=True, timeout=5).stdout  # noqa: S603
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        first = out.splitlines()[0] if out else ""
        return first.split("version")[-1].strip() if "version" in first else "?"

    def install(self) -> None:
        if not shutil.which(self.binary):
            raise StackError("mosquitto not found: install Debian's package (apt-get install mosquitto) "
                             "or run `make setup`")

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        conf = self.home / "mosquitto.conf"
        conf.write_text(
            f"listener {self.s.mqtt.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.home}/\n"
            "log_dest stdout\n"
        )
        self.proc.start([self.binary, "-c", str(conf)], cwd=self.home)

    def ready(self) -> bool:
        return port_open("127.0.0.1", self.s.mqtt.port)

    def wipe(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
