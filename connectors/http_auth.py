"""HTTP ingest auth: who sends a request, and whether it may write each event's tenant.

Input: the key of a request (``X-API-Key`` or ``Authorization: Bearer``) and ``authorize(key) ->
principal or None`` (the CLI builds it from ``streams.auth``). Output: the caller, or an
``HTTPException`` (401 / 403) whose detail says what to do.

Semantics: every refusal is one JSON line on the logger ``headwater.audit.access`` (the key's
name, never the key). :func:`check_tenants` refuses the whole request when any event, a delete
too, names a tenant the caller lacks. :func:`check_global_keys` is the deprecated global
``http.api_keys``: any of them writes any tenant, none configured means no auth.

Example::

    caller = require_caller(authorize, given_key(api_key, bearer))
    check_tenants(caller, events)
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fastapi import HTTPException
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from connectors.source import utcnow
from schemas import AnyEvent

__all__ = ["API_KEY", "BEARER", "Authorize", "Caller", "check_global_keys", "check_tenants", "given_key",
           "log_denied", "require_caller"]

ACCESS_LOG = logging.getLogger("headwater.audit.access")  # schemas.access.AUDIT_LOGGER

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="One of HEADWATER_HTTP__API_KEYS")
BEARER = HTTPBearer(auto_error=False, description="Authorization: Bearer <one of HEADWATER_HTTP__API_KEYS>")


class Caller(Protocol):
    """What ``authorize`` returns: a principal-like object (``schemas.access.Principal``)."""

    @property
    def name(self) -> str: ...

    def may(self, scope: Any) -> bool: ...

    def has_tenant(self, tenant: str) -> bool: ...


Authorize = Callable[[str | None], Caller | None]


def log_denied(who: str, reason: str, status: int, tenant: str | None = None, action: str = "ingest") -> None:
    """One access-log line (the format of ``schemas.access.audit_line``); names and reasons only."""
    ACCESS_LOG.warning(json.dumps({"who": who, "action": action, "outcome": "denied", "when": utcnow().isoformat(),
                              "tenant": tenant, "reason": reason, "status": status}, sort_keys=True))


def require_caller(authorize: Authorize, given: str | None) -> Caller:
    """The principal of key ``given``; 401 (unknown or missing key) or 403 (no ingest scope), logged."""
    caller = authorize(given)
    if caller is None:
        reason = ("missing or unknown API key: send Authorization: Bearer <key> with a key from "
                  "`headwater keys create NAME --tenant T --scope ingest`")
        log_denied("anonymous", reason, 401)
        raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})
    if not caller.may("ingest"):
        reason = f"key {caller.name!r} lacks the 'ingest' scope"
        log_denied(caller.name, reason, 403)
        raise HTTPException(403, reason)
    return caller


def check_tenants(caller: Caller, events: Sequence[AnyEvent]) -> None:
    """403 with one reason per event of a foreign tenant: the whole request is refused."""
    foreign = [(i, e) for i, e in enumerate(events) if not caller.has_tenant(e.tenant)]
    if not foreign:
        return
    for tenant in sorted({e.tenant for _, e in foreign}):
        deletes = any(getattr(e.payload, "deleted", False) for _, e in foreign if e.tenant == tenant)
        log_denied(caller.name, f"may not write tenant {tenant!r}", 403, tenant, "delete" if deletes else "ingest")
    raise HTTPException(403, [{"index": i, "tenant": e.tenant, "msg": f"key {caller.name!r} may not write tenant "
                                                                     f"{e.tenant!r}"} for i, e in foreign])


def check_global_keys(keys: list[bytes], given: str | None) -> None:
    """The deprecated global keys: any of them may write any tenant."""
    if not keys:
        return
    how = "send X-API-Key: <key> or Authorization: Bearer <key> with a key from HEADWATER_HTTP__API_KEYS"
    if not given:
        raise HTTPException(401, f"missing API key: {how}", headers={"WWW-Authenticate": "Bearer"})
    if not any(hmac.compare_digest(given.encode(), key) for key in keys):
        raise HTTPException(401, f"unknown API key: {how}", headers={"WWW-Authenticate": "Bearer"})


def given_key(api_key: str | None, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    """The key a request sent: ``X-API-Key`` first, else the bearer token, else None."""
    return api_key or (bearer.credentials if bearer else None)
