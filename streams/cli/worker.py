"""``headwater worker``: the long-lived stream worker."""

from __future__ import annotations

import sys

import click

from streams.settings import Settings


@click.command()
@click.option("-l", "--loglevel", default="info", type=click.Choice(["crit", "error", "warn", "info", "debug"]))
def worker(loglevel: str) -> None:
    """Run the stream worker (validate, render, chunk, enrich, embed, upsert) until Ctrl-C."""
    from streams.agents.app import create_app

    app = create_app(Settings())
    # The model is loaded and warm before the worker joins its consumer group: partitions are never
    # assigned to a worker that cannot index yet, and the first minute meets the same freshness.
    app.headwater_runtime.prepare()  # type: ignore[attr-defined]
    sys.argv = ["headwater", "worker", "-l", loglevel]
    app.main()
