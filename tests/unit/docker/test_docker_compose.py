"""docker/docker-compose.yml is valid for a real Compose parser and runs the whole stack."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from streams.settings import Settings

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).parents[3] / "docker" / "docker-compose.yml"


def test_compose_file_parses_with_docker_compose() -> None:
    tool = shutil.which("docker-compose")
    assert tool, "docker-compose not found: run `make setup` (Debian package docker-compose)"
    out = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_every_service_has_a_health_check_and_data_has_volumes() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"kafka", "weaviate", "mosquitto", "worker"} <= set(services)
    assert all("healthcheck" in services[name] for name in ("kafka", "weaviate", "mosquitto", "worker"))
    assert {"kafka-data", "weaviate-data", "mosquitto-data"} <= set(spec["volumes"])
    # The same versions as the native stack, so both kinds of users run what the tests ran.
    versions = Settings()
    assert services["weaviate"]["image"].endswith(f":{versions.stack.weaviate_version}")
    assert services["kafka"]["image"] == f"apache/kafka:{versions.stack.kafka_version}"
    assert services["worker"]["depends_on"]["weaviate"]["condition"] == "service_healthy"
