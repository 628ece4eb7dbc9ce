"""From a request's ``Authorization`` header to a principal, and the access log.

The access log is the logger ``headwater.audit.access``: one JSON line per denied request and
per admin action (who by key name, what, when, tenant, outcome, reason), never a key or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas.access import AUDIT_LOGGER, Action, Outcome, Principal, audit_line
from streams.auth.keys import KeyStore, keys_path
from streams.settings import Settings

log = logging.getLogger(AUDIT_LOGGER)
ANONYMOUS = "anonymous"  # the "who" of a request without a valid key


def bearer_token(authorization: str | None) -> str | None:
    """The key of ``Authorization: Bearer <key>``; None when absent or another scheme."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authenticator(store: KeyStore) -> Callable[[str | None], Principal | None]:
    """``authorize(token) -> Principal | None`` for doors that may not import streams (connectors)."""
    return store.lookup


def log_access(who: str, action: Action, outcome: Outcome, *, tenant: str | None = None, reason: str = "",
          **fields: Any) -> None:
    """Write one access-log line, at WARNING: the default logging level must never drop it."""
    line = audit_line(who=who, action=action, outcome=outcome, when=datetime.now(UTC), tenant=tenant,
                      reason=reason, **fields)
    log.warning(line)


def key_store(settings: Settings) -> KeyStore:
    """The key store the settings point at: ``auth.keys_file``, else ``<data_dir>/auth/keys.json``."""
    return KeyStore(settings.auth.keys_file or keys_path(settings.stack.data_dir))
