"""``headwater chaos``: a seeded event stream under kills, an outage, a broker restart and rebalances,
checked by the independent oracle."""

from __future__ import annotations

import sys

import click

from streams.settings import Settings


@click.command()
@click.option("--events", "n", default=100_000, show_default=True, help="How many events to stream.")
@click.option("--kills", default=5, show_default=True, help="SIGKILLs of a worker while the events flow.")
@click.option("--outage-seconds", default=30.0, show_default=True,
              help="How long Weaviate is stopped (a worker is SIGKILLed halfway through); 0: no outage.")
@click.option("--broker-restart/--no-broker-restart", default=True, show_default=True,
              help="Restart the Kafka broker while the events flow.")
@click.option("--rate", default=400.0, show_default=True, help="Events per second offered.")
@click.option("--seed", default=7, show_default=True)
def chaos(n: int, kills: int, outage_seconds: float, broker_restart: bool, rate: float, seed: int) -> None:
    """Stream, break things while it flows, then count missing, stale, orphan and duplicate objects (all must be 0).

    Needs the native stack (``headwater stack up``): a fault that cannot be injected fails the run.
    """
    from streams.harness.chaos.run import run

    f = run(Settings(), n, kills=kills, outage_s=outage_seconds, rate=rate, seed=seed, broker_restart=broker_restart)
    findings = f.pop("findings")
    for key, value in f.items():
        click.echo(f"{key:18} {value:12.1f}" if isinstance(value, float) else f"{key:18} {value:12}")
    for kind, lines in findings.items():
        for line in lines if kind != "counts" else ():
            click.echo(f"{kind:18} {line}")
    bad = f["missing"] + f["stale"] + f["orphan"] + f["duplicate"]
    sys.exit(0 if bad == 0 else 1)
