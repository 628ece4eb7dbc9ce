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


_NODES = click.option("--nodes", type=click.IntRange(1, 5), default=1, show_default=True,
                       help="1: the single-node stack; 3: a 3-broker Kafka and 3-node Weaviate cluster "
                            "on ports +10000 per node (data under <data_dir>/cluster).")


@stack.command("up")
@_NODES
@click.option("--secure", is_flag=True,
              help="Kafka SASL/SCRAM with ACLs and Weaviate API keys with RBAC, credentials generated once into "
                   "<data_dir>/credentials.json (mode 0600) and used by every Headwater command. Only for a new "
                   "data dir; a secure one stays secure. Same as HEADWATER_STACK__SECURE=true.")
@_friendly
def stack_up(nodes: int, secure: bool) -> None:
    """Install (first time), start and wait for every service."""
    from streams import stack as st

    settings = _with_secure(Settings(), secure)
    if nodes > 1:
        from streams.stack import cluster

        if settings.stack.secure:
            raise st.StackError("--secure is for the single-node stack only (a cluster's nodes would each need "
                                "the SCRAM users at format time): run `headwater stack up --secure` without --nodes")
        _print_status(cluster.up(settings, nodes))
        return
    _print_status(st.up(settings))


def _with_secure(settings: Settings, secure: bool) -> Settings:
    if not secure:
        return settings
    return settings.model_copy(update={"stack": settings.stack.model_copy(update={"secure": True})})


@stack.command("down")
@click.option("--wipe", is_flag=True, help="Also delete all service data.")
@_NODES
@_friendly
def stack_down(wipe: bool, nodes: int) -> None:
    """Stop every service; the data stays unless --wipe."""
    from streams import stack as st

    if nodes > 1:
        from streams.stack import cluster

        cluster.down(Settings(), nodes, wipe=wipe)
        return
    st.down(Settings(), wipe=wipe)


@stack.command("status")
@_NODES
@_friendly
def stack_status(nodes: int) -> None:
    """Show each service's state, version, address and data directory."""
    from streams import stack as st

    if nodes > 1:
        from streams.stack import cluster

        rows = cluster.status(Settings(), nodes)
    else:
        rows = st.status(Settings())
    _print_status(rows)
    if nodes == 1:
        click.echo(st.security(Settings()), err=True)  # stderr: stdout stays the table that scripts read
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
    click.echo(f"{'service':10} {'state':9} {'version':9} {'pid':>7}  {'address':38} {'auth':11} data")
    for r in rows:
        click.echo(f"{r.name:10} {r.state:9} {r.version:9} {r.pid or '-':>7}  {r.address:38} {r.auth:11} "
                   f"{r.data_dir}")
