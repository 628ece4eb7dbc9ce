"""Who may do what: principals, scopes, reader tags and the audit line. Pure data, no I/O.

A :class:`Principal` is what an API key stands for: a name, the tenants it may touch, the
scopes (doors) it may use and the groups it belongs to. Documents name their readers with
the tags of :func:`reader_tags` ("group:NAME", "principal:NAME"); ``"*"`` on a stored chunk
means "everyone in the tenant".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Scope = Literal["ingest", "search", "admin", "memory"]
SCOPES: tuple[Scope, ...] = ("ingest", "search", "admin", "memory")
# What an audit line says happened; key.* are admin actions, the others requests at a door.
Action = Literal["search", "ingest", "delete", "key.create", "key.rotate", "key.revoke"]
Outcome = Literal["allowed", "denied"]

EVERYONE = "*"  # the reader tag of a chunk whose event named no readers
ANY_TENANT = "*"  # a principal with this tenant may touch every tenant (operators, tests)
AUDIT_LOGGER = "headwater.audit.access"


class Principal(BaseModel):
    """The caller behind a key. ``tenants`` holding ``"*"`` means every tenant."""

    model_config = ConfigDict(frozen=True)

    name: str
    tenants: tuple[str, ...]
    scopes: frozenset[Scope]
    groups: tuple[str, ...] = ()

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes

    def has_tenant(self, tenant: str) -> bool:
        return ANY_TENANT in self.tenants or tenant in self.tenants


def reader_tags(principal: Principal) -> list[str]:
    """The reader tags a chunk must hold one of for ``principal`` to read it."""
    return [EVERYONE, f"principal:{principal.name}", *(f"group:{g}" for g in principal.groups)]


def audit_line(*, who: str, action: Action, outcome: Outcome, when: datetime, tenant: str | None = None,
               reason: str = "", **fields: Any) -> str:
    """One JSON audit line. Callers pass names and reasons only: never a key, never a body."""
    record = {"who": who, "action": action, "outcome": outcome, "when": when.isoformat(), "tenant": tenant,
              "reason": reason, **fields}
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
