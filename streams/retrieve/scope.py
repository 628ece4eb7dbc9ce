"""Whose search it is: the tenant a caller's search runs on and the reader tags its hits must carry.

Input: the caller (a :class:`~schemas.access.Principal`, or None when there is none) and the tenant
the request asked for. Output: ``(tenant, readers)``; ``readers`` None means no reader filter.

Semantics, the same at every door (``POST /v1/search`` through :mod:`streams.retrieve.guard`,
``headwater query --local`` in-process):
- ``auth.anonymous``: nothing is checked and nothing is filtered (a laptop demo).
- A principal: its tenant rule (:func:`streams.auth.resolve_search_tenant`, which raises
  :class:`~streams.auth.Denied`) and its reader tags (everyone, its name, its groups).
- No principal (the local CLI without a key): the asked tenant, and only chunks readable by
  the whole tenant (``readers`` holds ``"*"``); a key shows what its principal may read.
"""

from __future__ import annotations

from schemas.access import EVERYONE, Principal, reader_tags
from streams.auth.checks import resolve_search_tenant

__all__ = ["TENANT_WIDE", "search_scope"]

TENANT_WIDE = [EVERYONE]  # the reader tags of a caller nobody named: what the whole tenant may read


def search_scope(principal: Principal | None, asked: str | None, *, anonymous: bool,
                 default_tenant: str = "default") -> tuple[str, list[str] | None]:
    """The tenant to search and the reader tags to filter on (None = no filter, anonymous mode only).

    Raises:
        Denied: the principal lacks the search scope or may not read the asked tenant.
    """
    if anonymous:
        return asked or default_tenant, None
    if principal is None:
        return asked or default_tenant, list(TENANT_WIDE)
    return resolve_search_tenant(principal, asked), reader_tags(principal)
