"""``headwater demo``: stack, worker, real data streaming in, live questions answered."""

from __future__ import annotations

import sys

import click

from streams.cli.errors import friendly as _friendly
from streams.settings import Settings


@click.command()
@click.option("--rate", default=20.0, show_default=True, help="Background events per second.")
@click.option("--every", default=4.0, show_default=True, help="Seconds between planted facts.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C).")
@click.option("--burst", default=15, show_default=True,
              help="wiki100 articles produced at once after the third fact (0: none).")
@_friendly
def demo(rate: float, every: float, duration: float | None, burst: int) -> None:
    """Stack + worker + real data streaming in + live questions answered within seconds (Ctrl-C stops, exit 0)."""
    try:
        from streams.harness.demo.live import run

        code = run(Settings(), rate=rate, every_s=every, duration_s=duration, burst=burst)
    except KeyboardInterrupt:  # Ctrl-C is the documented way to stop, even while modules still load
        code = 0
    sys.exit(code)
