"""Pure access checks: which tenant a search runs on, which events a key may write. No I/O.

Each check answers with the tenant to use, or raises :class:`Denied` carrying the HTTP status
and the reason (the same text goes to the caller and to the access log).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.access import ANY_TENANT, Principal, Scope

DEFAULT_TENANT = "default"


@dataclass(frozen=True)
class Denied(Exception):
    """A refused request: ``status`` 401 (who are you?), 403 (not allowed) or 429 (slow down)."""

    status: int
    reason: str
    tenant: str | None = None

    def __str__(self) -> str:
        return self.reason


def require_scope(principal: Principal, scope: Scope) -> None:
    if not principal.may(scope):
        raise Denied(403, f"key {principal.name!r} lacks the {scope!r} scope")


def resolve_search_tenant(principal: Principal, asked: str | None) -> str:
    """The tenant a search of ``principal`` runs on; ``asked`` is the body's tenant (None when absent).

    A key of exactly one tenant searches that tenant: the body may leave it out (or say
    "default"), any other name is refused. A key of several tenants must name one of them.
    """
    require_scope(principal, "search")
    own = [t for t in principal.tenants if t != ANY_TENANT]
    if len(own) == 1 and ANY_TENANT not in principal.tenants and asked in (None, DEFAULT_TENANT, own[0]):
        return own[0]
    tenant = asked or DEFAULT_TENANT
    if not principal.has_tenant(tenant):
        raise Denied(403, f"key {principal.name!r} may not read tenant {tenant!r}", tenant)
    return tenant


def tenant_problems(principal: Principal, tenants: Iterable[str], scope: Scope = "ingest") -> list[str]:
    """Why ``principal`` may not write events of these tenants (one reason per tenant); [] = allowed."""
    if not principal.may(scope):
        return [f"key {principal.name!r} lacks the {scope!r} scope"]
    return [f"key {principal.name!r} may not write tenant {t!r}"
            for t in sorted(set(tenants)) if not principal.has_tenant(t)]
