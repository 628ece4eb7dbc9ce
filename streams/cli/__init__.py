"""The ``headwater`` command line: one file per command group.

Each command builds ``Settings()`` once and passes it down. Failures the user can
fix end with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Headwater: streaming ingestion and indexing for RAG."""


def _register() -> None:
    from streams.cli.bench import bench
    from streams.cli.connect import connect
    from streams.cli.connect_bench import bench as connect_bench
    from streams.cli.curate import curate
    from streams.cli.deadletter import deadletter
    from streams.cli.demo import demo
    from streams.cli.ingest import connect_http, connect_mqtt, ingest
    from streams.cli.keys import keys
    from streams.cli.query import query, serve
    from streams.cli.schemas import schemas
    from streams.cli.stack import stack
    from streams.cli.worker import worker

    for command in (connect_bench, connect_http, connect_mqtt):
        connect.add_command(command)
    for command in (stack, worker, query, serve, schemas, demo, bench, curate, connect, ingest):
        main.add_command(command)
    main.add_command(deadletter)
    main.add_command(keys)
    main.add_command(curate, "curation")  # the name before "curate"; kept so old scripts still run


_register()
