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
    sys.argv = ["headwater", "worker", "-l", loglevel]
    app.main()
