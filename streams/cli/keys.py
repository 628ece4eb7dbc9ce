"""``headwater keys``: create, list, rotate and revoke API keys (README: "Access control").

A new key is printed once, as the last line of ``create`` and ``rotate``; only its salted hash
is stored. Every change is written to the access log with the key's name, never the key.
"""

from __future__ import annotations

import click

from schemas.access import SCOPES
from streams.settings import Settings


@click.group()
def keys() -> None:
    """API keys: who may search and ingest which tenants."""


@keys.command("create")
@click.argument("name")
@click.option("--tenant", "tenants", multiple=True, required=True, help="A tenant the key may touch "
              "(repeatable; '*' = every tenant).")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="A door the key may use (repeatable).")
@click.option("--group", "groups", multiple=True, help="A group the holder belongs to, for document readers.")
def create(name: str, tenants: tuple[str, ...], scopes: tuple[str, ...], groups: tuple[str, ...]) -> None:
    """Create a key for NAME (replacing NAME's key if it has one); prints the key last, once."""
    from streams.auth import key_store, log_access

    key = key_store(Settings()).create(name, tenants, scopes, groups)  # type: ignore[arg-type]  # click.Choice
    log_access(name, "key.create", "allowed", tenants=sorted(tenants), scopes=sorted(scopes), groups=sorted(groups))
    click.echo(f"created key for {name!r}; store it now, it is not shown again:", err=True)
    click.echo(key)


@keys.command("list")
def list_keys() -> None:
    """Every key's name, tenants, scopes and groups (no secrets)."""
    from streams.auth import key_store

    for p in key_store(Settings()).principals():
        click.echo(f"{p.name}\ttenants={','.join(p.tenants)}\tscopes={','.join(sorted(p.scopes))}"
                   f"\tgroups={','.join(p.groups)}")


@keys.command("rotate")
@click.argument("name")
def rotate(name: str) -> None:
    """A new key for NAME with the same grants; the old key is refused from now on."""
    from streams.auth import UnknownKey, key_store, log_access

    try:
        key = key_store(Settings()).rotate(name)
    except UnknownKey:
        raise click.ClickException(f"no key named {name!r} (see `headwater keys list`)") from None
    log_access(name, "key.rotate", "allowed")
    click.echo(f"rotated the key of {name!r}; the old one is refused now. The new key:", err=True)
    click.echo(key)


@keys.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Delete NAME's key: running servers refuse it at the next request."""
    from streams.auth import UnknownKey, key_store, log_access

    try:
        key_store(Settings()).revoke(name)
    except UnknownKey:
        raise click.ClickException(f"no key named {name!r} (see `headwater keys list`)") from None
    log_access(name, "key.revoke", "allowed")
    click.echo(f"revoked the key of {name!r}")
