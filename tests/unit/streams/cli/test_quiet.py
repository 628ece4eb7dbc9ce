"""A quiet terminal: library warnings filtered at the entry point, Kafka client logs through logging."""

import logging
import subprocess
import sys

import pytest

from connectors.config import KafkaSettings, kafka_config
from streams.cli import KAFKA_LOGGER, StartupRaceFilter, quiet

pytestmark = pytest.mark.unit


def _record(facility: str, client: str, text: str) -> logging.LogRecord:
    # How confluent-kafka logs: logger.log(level, "%s [%s] %s", facility, client name, message)
    return logging.LogRecord(KAFKA_LOGGER, logging.WARNING, "cimpl", 0, "%s [%s] %s", (facility, client, text), None)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_start_up_race_is_hidden_until_it_persists() -> None:
    clock = Clock()
    f = StartupRaceFilter(grace_s=30, clock=clock)
    race = _record("GETPID", "headwater-demo#producer-1", "Failed to acquire idempotence PID from broker "
                   "TxnCoordinator/1: Coordinator load in progress: retrying")
    assert not f.filter(race)
    clock.now = 29.0
    assert not f.filter(race)
    clock.now = 30.0
    assert f.filter(race)  # still failing after the grace period: that is news


def test_other_records_and_other_clients_are_judged_on_their_own() -> None:
    clock = Clock()
    f = StartupRaceFilter(grace_s=30, clock=clock)
    assert f.filter(_record("SSL", "c#producer-1", "certificate verify failed"))
    assert not f.filter(_record("FAIL", "a#producer-1", "Connect to ipv4#127.0.0.1:9092 failed: Connection refused"))
    clock.now = 40.0
    assert not f.filter(_record("FAIL", "b#consumer-2", "Connect to ipv4#127.0.0.1:9092 failed: Connection refused"))
    assert f.filter(_record("FAIL", "a#producer-1", "Connect to ipv4#127.0.0.1:9092 failed: Connection refused"))


def test_every_kafka_client_logs_through_the_headwater_logger_at_warning() -> None:
    conf = kafka_config(KafkaSettings(), "headwater-test")
    assert conf["logger"] is logging.getLogger(KAFKA_LOGGER)
    assert conf["logger"].getEffectiveLevel() == logging.WARNING
    assert not conf["logger"].isEnabledFor(logging.INFO)


def test_quiet_is_idempotent() -> None:
    quiet()
    quiet()
    assert sum(isinstance(f, StartupRaceFilter) for f in logging.getLogger(KAFKA_LOGGER).filters) == 1


def test_library_warnings_are_filtered_even_when_warnings_are_on() -> None:
    # -W always: the strictest a user's environment can be; weaviate's authlib warns at import.
    code = "import streams.cli, weaviate"
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr, out.stderr
    unfiltered = subprocess.run([sys.executable, "-W", "always", "-c", "import weaviate"], capture_output=True,
                                text=True, timeout=120)
    assert "AuthlibDeprecationWarning" in unfiltered.stderr  # what the filter is for; fails once authlib fixed it
