"""``headwater connect``: move data from a source into Kafka.

``replay`` plays a file (or a built-in real dataset) as events, ``simulate`` a seeded
sensor fleet and app stream. Both print a progress line on stderr every ~1.5 s and, at
the end, their counters as one JSON line on stdout. Errors end with one line on stderr
and exit code 1; Ctrl-C stops after the records in flight settle (exit code 130).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from streams.settings import Settings

__all__ = ["connect"]


@click.group()
def connect() -> None:
    """Feed Kafka from files, datasets or simulators."""


@connect.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--preset", type=click.Choice(["occupancy", "jeopardy", "jeopardy10k", "wiki100"]),
              help="A built-in real dataset; with PATH, its mapping applied to PATH.")
@click.option("--mapping", "mapping_arg",
              help="ReplayMapping as JSON, or a path to a JSON file (needed for PATH alone).")
@click.option("--per-row", is_flag=True,
              help="One event per row: a melted sensor row gives only its first metric.")
@click.option("--column", help="With --per-row: the metric column to keep.")
@click.option("--rate", type=float, default=None,
              help="Events per second (default: as fast as Kafka takes them).")
@click.option("--limit", type=int, default=None, help="Only the first N rows (records).")
@click.option("--tenant", default="default", show_default=True)
@click.option("--name", help="Source name in events and ids (default: preset name or file stem).")
def replay(path: Path | None, preset: str | None, mapping_arg: str | None, per_row: bool, column: str | None,
           rate: float | None, limit: int | None, tenant: str, name: str | None) -> None:
    """Replay PATH (CSV, JSONL, JSON array, folder of .txt) or a --preset dataset into Kafka."""
    from connectors.replay_source import ReplaySource

    def build() -> tuple[ReplaySource, int]:
        file, mapping = _replay_input(path, preset, mapping_arg)
        if per_row or column:
            mapping = mapping.per_row(column)
        src = ReplaySource(file, mapping, name=name or preset or file.stem, tenant=_tenant(tenant),
                           rate=rate or None, limit=limit)
        return src, src.total()

    _run(Settings(), "replay", build)


@connect.command()
@click.option("--devices", default=5, show_default=True)
@click.option("--metrics", default="temperature,humidity,co2", show_default=True,
              help="Comma-separated names; known: temperature, humidity, co2, pressure, vibration, flow.")
@click.option("--kind", type=click.Choice(["sensor", "app", "mixed"]), default="sensor", show_default=True)
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="Events per second; 0 = as fast as possible.")
@click.option("--count", type=int, default=None, help="Stop after N events (default: until Ctrl-C).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--anomaly-p", type=float, default=0.01, show_default=True,
              help="Probability of a spike per reading.")
@click.option("--tenant", default="default", show_default=True)
def simulate(devices: int, metrics: str, kind: str, rate: float, count: int | None, seed: int,
             anomaly_p: float, tenant: str) -> None:
    """Stream a seeded sensor fleet and/or app events into Kafka (same seed, same events)."""
    from connectors.simulate_source import AppStream, SensorFleet, SimulateSource, interleave

    def build() -> tuple[SimulateSource, int | None]:
        names, valid_tenant = tuple(m.strip() for m in metrics.split(",") if m.strip()), _tenant(tenant)
        if devices < 1 or not names:
            raise ValueError("need at least one device and one metric")
        fleet = SensorFleet(seed=seed, devices=devices, metrics=names, anomaly_p=anomaly_p,
                            tenant=valid_tenant)
        apps = AppStream(seed=seed, tenant=valid_tenant)
        if kind == "mixed":
            events: Any = interleave(fleet.events(), apps.events(), devices * len(names))
        else:
            events = fleet.events() if kind == "sensor" else apps.events()
        return SimulateSource(events, rate=rate or None, count=count), count

    _run(Settings(), "simulate", build)


def _replay_input(path: Path | None, preset: str | None, mapping_arg: str | None) -> tuple[Path, Any]:
    from connectors.replay_source import ReplayMapping
    from connectors.replay_source import preset as load_preset

    if mapping_arg is not None:
        text = Path(mapping_arg).read_text() if Path(mapping_arg).is_file() else mapping_arg
        mapping = ReplayMapping.model_validate_json(text)
        if path is None and preset is None:
            raise click.UsageError("--mapping needs PATH or --preset")
        return path or load_preset(str(preset))[0], mapping
    if preset is not None:
        file, mapping = load_preset(preset)
        return path or file, mapping
    raise click.UsageError("give PATH with --mapping, or --preset")


def _tenant(tenant: str) -> str:
    from pydantic import TypeAdapter, ValidationError

    from schemas.envelope import TenantName

    try:
        return str(TypeAdapter(TenantName).validate_python(tenant))
    except ValidationError:
        raise ValueError(f"tenant {tenant!r}: a letter, then up to 63 letters, digits, '_' or '-'") from None


def _run(settings: Settings, label: str, build: Any) -> None:
    """Build the source, run it into Kafka, print counters; every expected failure is one line."""
    from confluent_kafka import KafkaException
    from pydantic import ValidationError

    from connectors.producer import DeliveryFailed, Producer
    from connectors.replay_source import ProgressLine
    from connectors.source import run_source
    from streams.agents.dead_letter import redactor

    try:
        source, total = build()
        producer = Producer(settings.kafka, client_id=f"headwater-connect-{label}")
    except (OSError, ValueError, KeyError, ValidationError, KafkaException) as exc:
        _fail(f"{label}: {_message(exc)}")
    progress = ProgressLine(label, total)
    started = time.monotonic()
    try:
        counts = asyncio.run(run_source(source, producer, settings.topics, progress,
                                        redact_text=redactor(settings.curate)))
    except KeyboardInterrupt:
        click.echo(f"{label}: interrupted after {json.dumps(progress.last)}", err=True)
        sys.exit(130)
    except (DeliveryFailed, OSError, ValueError) as exc:
        _fail(f"{label}: {_message(exc)}")
    finally:
        producer.close()
    progress.show(counts)
    click.echo(json.dumps({**counts, "seconds": round(time.monotonic() - started, 3)}))


def _message(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "invalid mapping: " + "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                                                 for e in exc.errors()[:5])
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
