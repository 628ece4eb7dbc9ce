"""The ``headwater`` command line: one file per command group.

Each command builds ``Settings()`` once and passes it down. Failures the user can
fix end with one line on stderr and exit code 1, never a traceback. The terminal
stays quiet: library warnings nobody can act on and Kafka's start-up chatter are
filtered here, at the entry point (``quiet()``), not inside the libraries' users.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import click

# Warnings from our dependencies' dependencies: a user of Headwater can do nothing about them.
LIBRARY_WARNINGS = (
    r"The httpx module is deprecated",  # authlib, pulled in by weaviate-client
)
# librdkafka's words for "the broker is still starting": it retries these by itself.
STARTUP_RACES = re.compile(
    r"load in progress|coordinator (is )?not available|not coordinator|connection refused|"
    r"broker transport failure|all broker connections are down|timed out in (queue|transmit)",
    re.IGNORECASE)
KAFKA_LOGGER = "headwater.kafka"  # connectors.config.kafka_config hands this logger to every client


class StartupRaceFilter(logging.Filter):
    """Hide librdkafka's retried start-up errors for ``grace_s``; a race that persists is shown.

    Keyed by client name and facility (``GETPID [headwater-demo#producer-1] ...``), so one
    client's long outage is reported while another's passing hiccup stays quiet.
    """

    def __init__(self, grace_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.grace_s, self.clock = grace_s, clock
        self.first_seen: dict[tuple[object, ...], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if not STARTUP_RACES.search(text):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        key = args[:2] or (text,)  # confluent-kafka logs ("%s [%s] %s", facility, client name, text)
        first = self.first_seen.setdefault(key, self.clock())
        return self.clock() - first >= self.grace_s


def quiet() -> None:
    """Filter library warnings and chatter; set before any library is imported (idempotent)."""
    # Model loading: no download progress bars, no transformers info lines (we are offline anyway).
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # authlib installs an "always" filter for its warnings when first imported; ours must come after it.
    with contextlib.suppress(ImportError):
        import authlib.deprecate  # noqa: F401
    for message in LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    # httpx logs every request at INFO (weaviate-client's REST calls): a worker at `-l info` would
    # print a line per batch. Its warnings and errors still show.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    kafka = logging.getLogger(KAFKA_LOGGER)
    if not any(isinstance(f, StartupRaceFilter) for f in kafka.filters):
        kafka.addFilter(StartupRaceFilter())


# Each command's module is imported only when that command runs (or --help lists them all): a command
# pays for its own imports, so `headwater query` never loads faust, fastapi or the stack's modules.
COMMANDS = {
    "stack": "streams.cli.stack:stack", "worker": "streams.cli.worker:worker", "query": "streams.cli.query:query",
    "serve": "streams.cli.query:serve", "schemas": "streams.cli.schemas:schemas", "demo": "streams.cli.demo:demo",
    "bench": "streams.cli.bench:bench", "curate": "streams.cli.curate:curate", "connect": "streams.cli.connect:connect",
    "ingest": "streams.cli.ingest:ingest", "deadletter": "streams.cli.deadletter:deadletter",
    "chaos": "streams.cli.chaos:chaos", "keys": "streams.cli.keys:keys",
    "curation": "streams.cli.curate:curate",  # the name before "curate"; kept so old scripts still run
}
CONNECT_EXTRAS = ("streams.cli.connect_bench:bench", "streams.cli.ingest:connect_http",
                  "streams.cli.ingest:connect_mqtt")


def _load(spec: str) -> click.Command:
    module, _, name = spec.partition(":")
    command = getattr(importlib.import_module(module), name)
    assert isinstance(command, click.Command), spec
    return command


class LazyGroup(click.Group):
    """A group whose subcommands (:data:`COMMANDS`) are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            command = _load(COMMANDS[cmd_name])
            if cmd_name == "connect" and isinstance(command, click.Group):
                for extra in map(_load, CONNECT_EXTRAS):
                    command.add_command(extra)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        from pydantic import ValidationError  # loaded by the settings anyway

        from streams.embed.base import ModelUnavailable

        try:
            return super().invoke(ctx)
        except ModelUnavailable as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except ValidationError as exc:
            if exc.title != "Settings":
                raise
            click.echo("\n".join(setting_errors(exc.errors())), err=True)
            sys.exit(2)


def setting_errors(errors: list[Any]) -> list[str]:
    """One line per bad setting, named as the user sets it (``HEADWATER_EMBED__BACKEND``)."""
    lines = []
    for e in errors:
        var = "HEADWATER_" + "__".join(str(p).upper() for p in e["loc"]) if e["loc"] else "a setting"
        secret = any(w in var for w in ("PASSWORD", "KEY", "SECRET", "TOKEN"))
        got = "" if secret or not e["loc"] else f" (got {str(e.get('input'))[:80]!r})"
        lines.append(f"error: {var}: {e['msg']}{got}; fix the environment or .env")
    return lines


@click.group(cls=LazyGroup)
def main() -> None:
    """Headwater: streaming ingestion and indexing for RAG."""


quiet()
