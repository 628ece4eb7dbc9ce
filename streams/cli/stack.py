"""``headwater stack``: the native Kafka, Weaviate and Mosquitto, without Docker."""

from __future__ import annotations

import sys
from typing import Any

import click

from streams.cli.errors import friendly as _friendly
from streams.settings import Settings


@click.group()
def stack() -> None:
    """Run Kafka, Weaviate and Mosquitto locally, without Docker."""


@stack.command("up")
@_friendly
def stack_up() -> None:
    """Install (first time), start and wait for every service."""
    from streams import stack as st

    _print_status(st.up(Settings()))


@stack.command("down")
@click.option("--wipe", is_flag=True, help="Also delete all service data.")
@_friendly
def stack_down(wipe: bool) -> None:
    """Stop every service; the data stays unless --wipe."""
    from streams import stack as st

    st.down(Settings(), wipe=wipe)


@stack.command("status")
@_friendly
def stack_status() -> None:
    """Show each service's state, version, address and data directory."""
    from streams import stack as st

    rows = st.status(Settings())
    _print_status(rows)
    sys.exit(0 if all(r.state == "ready" for r in rows) else 3)


@stack.command("logs")
@click.argument("service", type=click.Choice(["kafka", "weaviate", "mosquitto"]))
@click.option("-n", "--lines", default=40, show_default=True)
def stack_logs(service: str, lines: int) -> None:
    """Print the end of a service's log."""
    from streams import stack as st

    svc = next(s for s in st.services(Settings()) if s.name == service)
    click.echo(f"# {svc.proc.log_file}")
    click.echo(svc.proc.tail(lines))


def _print_status(rows: list[Any]) -> None:
    click.echo(f"{'service':10} {'state':9} {'version':9} {'pid':>7}  {'address':38} data")
    for r in rows:
        click.echo(f"{r.name:10} {r.state:9} {r.version:9} {r.pid or '-':>7}  {r.address:38} {r.data_dir}")
