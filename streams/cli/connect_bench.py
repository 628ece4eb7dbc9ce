"""``headwater connect bench``: producer throughput per connector and HTTP ingest figures.

Runs :func:`streams.harness.connect.bench.run` once (fresh topics per case, deleted afterwards),
shows progress on stderr and prints the table on stdout. A service that cannot be
reached ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import sys

import click

from streams.settings import Settings

__all__ = ["bench"]


@click.command()
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Time bound of each case.")
@click.option("--small", is_flag=True, help="Only a few hundred events per case (a smoke test).")
def bench(seconds: float, small: bool) -> None:
    """Measure events/s of each connector into Kafka against the producer's own ceiling."""
    from confluent_kafka import KafkaException

    from streams.harness.connect.bench import format_table, run

    try:
        results = run(Settings(), seconds_per_case=seconds, small=small)
    except (KafkaException, OSError) as exc:  # MqttUnreachable is an OSError
        click.echo(f"error: connect bench: {(str(exc).splitlines() or [type(exc).__name__])[0]}", err=True)
        sys.exit(1)
    click.echo(format_table(results))
