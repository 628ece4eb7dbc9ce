"""docker/: what can be checked without a Docker engine, checked.

The compose file parses (YAML, merge keys resolved); every Headwater service runs a command
that exists in the CLI with options it accepts; every ``HEADWATER_*`` variable it or the
Dockerfile sets is a real setting; ports are published on 127.0.0.1 only, at the ports the
settings use; the versions and Kafka's heap match the native stack; the Dockerfile installs the
dependencies before it copies the code; the Makefile and README use Compose v2. Whether the
images start is not checked here (no engine on CI machines).
"""

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from pydantic import BaseModel

from streams.cli import main
from streams.settings import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[3]
COMPOSE = ROOT / "docker" / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE_V1 = re.compile(r"docker-compose(?!\.yml)")  # the v1 binary, not the file's name


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return spec


def _headwater_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in _spec()["services"].items() if svc.get("image", "").startswith("headwater")}


def resolve(argv: list[str]) -> click.Command:
    """The CLI command ``argv`` runs, its options parsed (raises like the CLI would on a wrong one)."""
    assert argv[0] == "headwater", argv
    command: click.Command = main
    args = argv[1:]
    while isinstance(command, click.Group) and args:
        sub = command.get_command(click.Context(command), args[0])
        assert sub is not None, f"no command {args[0]!r} in {argv}"
        command, args = sub, args[1:]
    command.make_context(command.name or "headwater", list(args))
    return command


def is_setting(env_name: str) -> bool:
    """Whether ``HEADWATER_A__B`` names a field of ``Settings`` (nested models joined by ``__``)."""
    model: type[BaseModel] = Settings
    *sections, leaf = env_name.removeprefix("HEADWATER_").lower().split("__")
    for section in sections:
        field = model.model_fields.get(section)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return False
        model = field.annotation
    return leaf in model.model_fields


def _published(svc: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each published port."""
    out = []
    for mapping in svc.get("ports", []):
        host, host_port, container_port = str(mapping).split(":")
        out.append((host, int(host_port), int(container_port)))
    return out


def test_the_checks_themselves_can_fail() -> None:
    assert is_setting("HEADWATER_KAFKA__BOOTSTRAP_SERVERS") and is_setting("HEADWATER_WORKER__WEB_PORT")
    assert not is_setting("HEADWATER_KAFKA__BOOTSTRAP_SERVER") and not is_setting("HEADWATER_NOPE__HOST")
    assert not is_setting("HEADWATER_KAFKA__PARTITIONS__X")
    with pytest.raises(AssertionError):
        resolve(["headwater", "connect", "nope"])
    with pytest.raises(click.UsageError):
        resolve(["headwater", "connect", "http", "--no-such-option"])


def test_compose_v2_file_names_its_project_and_has_every_service() -> None:
    spec = _spec()
    assert spec["name"] == "headwater"  # else the project is named after the folder: "docker"
    assert {"kafka", "weaviate", "mosquitto", "worker", "search", "connect-mqtt", "connect-http"} <= set(
        spec["services"])
    assert {"kafka-data", "weaviate-data", "mosquitto-data", "worker-data"} <= set(spec["volumes"])


def test_every_headwater_service_runs_a_real_cli_command() -> None:
    services = _headwater_services()
    assert {"worker", "search", "connect-mqtt", "connect-http"} <= set(services)
    names = {name: resolve(svc["command"]).name for name, svc in services.items()}
    assert names == {"worker": "worker", "search": "serve", "connect-mqtt": "mqtt", "connect-http": "http"}


def test_every_headwater_variable_is_a_real_setting() -> None:
    names = [k for svc in _spec()["services"].values() for k in svc.get("environment", {})]
    names += re.findall(r"\b(HEADWATER_[A-Z0-9_]+)=", DOCKERFILE.read_text())
    headwater = [n for n in names if n.startswith("HEADWATER_")]
    assert len(headwater) > 10, headwater
    assert [n for n in headwater if not is_setting(n)] == []


def test_ports_are_loopback_only_and_match_the_settings() -> None:
    s, services = Settings(), _spec()["services"]
    for name, svc in services.items():
        assert all(host == "127.0.0.1" for host, _, _ in _published(svc)), name
    assert (s.worker.web_port, s.worker.web_port) in [(h, c) for _, h, c in _published(services["worker"])]
    assert (s.http.port, s.http.port) in [(h, c) for _, h, c in _published(services["connect-http"])]
    assert (s.search.api_port, s.search.api_port) in [(h, c) for _, h, c in _published(services["search"])]
    assert services["worker"]["environment"]["HEADWATER_WORKER__WEB_HOST"] == "0.0.0.0"  # else unreachable
    http = services["connect-http"]["command"]
    assert http[http.index("--host") + 1] == "0.0.0.0"  # 127.0.0.1 inside a container answers nobody outside
    assert http[http.index("--port") + 1] == str(s.http.port)


def test_same_versions_and_heap_as_the_native_stack() -> None:
    s, services = Settings(), _spec()["services"]
    assert services["weaviate"]["image"].endswith(f":{s.stack.weaviate_version}")
    assert services["kafka"]["image"] == f"apache/kafka:{s.stack.kafka_version}"
    assert services["kafka"]["environment"]["KAFKA_HEAP_OPTS"] == s.stack.kafka_heap_opts


def test_services_wait_for_what_they_need_and_report_health() -> None:
    services = _spec()["services"]
    for name in ("worker", "connect-mqtt", "connect-http"):
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy", name
    assert services["worker"]["depends_on"]["weaviate"]["condition"] == "service_healthy"
    assert services["connect-mqtt"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    for name, svc in services.items():
        assert "healthcheck" in svc, f"{name}: the image's check (worker metrics) would wrongly apply"


def test_dockerfile_installs_dependencies_before_the_code() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    first_code = min(i for i, line in enumerate(lines) if re.match(r"COPY (streams|connectors|schemas)\b", line))
    deps = next((i for i, line in enumerate(lines) if line.startswith("COPY pyproject.toml")), None)
    install = next((i for i, line in enumerate(lines) if "pip install -r" in line), None)
    assert deps is not None and install is not None, "no dependency layer keyed on pyproject.toml"
    assert deps < install < first_code
    assert "'datasets'" in DOCKERFILE.read_text()  # replay presets need the datasets extra in the image
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore or ".venv" in ignore  # the build context is the repository root


def test_makefile_and_readme_use_compose_v2() -> None:
    for path in (ROOT / "Makefile", ROOT / "README.md", COMPOSE):
        assert not COMPOSE_V1.search(path.read_text()), f"{path.name} still uses docker-compose (v1)"
    assert "docker compose -f docker/docker-compose.yml up -d --build" in (ROOT / "README.md").read_text()


def test_the_doors_are_secure_and_share_one_key_store_the_readme_shows_how_to_fill() -> None:
    from streams.auth import keys_path

    spec, services = _spec(), _headwater_services()
    assert all("HEADWATER_AUTH__ANONYMOUS" not in svc.get("environment", {}) for svc in services.values())
    stores = set()
    for name in ("search", "connect-http"):
        env = services[name]["environment"]
        folder = str(keys_path(Path(env["HEADWATER_STACK__DATA_DIR"])).parent)
        mounted = [str(v).split(":") for v in services[name].get("volumes", [])]
        volume = next((v for v, target in mounted if target == folder), None)
        assert volume in spec["volumes"], f"{name}: no named volume at the key store {folder}"
        stores.add(volume)
    assert len(stores) == 1, stores  # a key created in one door's container works at the other
    assert "mkdir -p /var/lib/headwater/data/auth" in DOCKERFILE.read_text()  # the volume starts owned by headwater
    docker = (ROOT / "README.md").read_text().split("## Docker", 1)[1].split("\n## ", 1)[0]
    assert "exec -T search \\\n  headwater keys create" in docker and "Authorization: Bearer" in docker
    resolve(["headwater", "keys", "create", "demo", "--tenant", "default", "--scope", "ingest", "--scope", "search"])
