"""The search API's door: who is asking (``Authorization: Bearer``), how fast, for which tenant.

Input: the request's ``Authorization`` header and its :class:`SearchRequest`. Output: the request
to run (its tenant decided by the key) and the reader tags its hits must carry, or an
``HTTPException`` (401 no valid key, 403 not allowed, 429 too fast with ``Retry-After``) after
one access-log line. With ``auth.anonymous`` nothing is checked and no reader filter applies.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from streams.auth import Denied, KeyStore, RateLimiter, bearer_token, log_access
from streams.auth.principals import ANONYMOUS
from streams.auth.ratelimit import retry_after
from streams.retrieve.scope import search_scope
from streams.retrieve.search import SearchRequest
from streams.settings import Settings

log = logging.getLogger(__name__)
_BEARER = HTTPBearer(auto_error=False, description="Authorization: Bearer <key from `headwater keys create`>")
Checked = tuple[SearchRequest, list[str] | None]  # the request to run, and its reader tags (None = no filter)
HOW = "send Authorization: Bearer <key> with a key from `headwater keys create NAME --scope search`"


class SearchGuard:
    """Checks one search request; built once per server."""

    def __init__(self, settings: Settings, store: KeyStore, limiter: RateLimiter | None = None) -> None:
        self.anonymous, self.store = settings.auth.anonymous, store
        self.limiter = limiter or RateLimiter(settings.search.rate_per_s, settings.search.burst)
        if self.anonymous:
            log.warning("WARNING: authentication is OFF (HEADWATER_AUTH__ANONYMOUS=true): anyone who reaches "
                        "this port may search every tenant and every document")

    def dependency(self, req: SearchRequest,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None) -> Checked:
        """The FastAPI dependency of ``POST /v1/search`` (it also puts the bearer scheme in the docs)."""
        return self.check(f"Bearer {bearer.credentials}" if bearer else None, req)

    def check(self, authorization: str | None, req: SearchRequest) -> Checked:
        """The request to run and its reader tags (None = no ACL filter, anonymous mode only)."""
        if self.anonymous:
            return req, None
        asked = req.tenant if "tenant" in req.model_fields_set else None
        principal = self.store.lookup(bearer_token(authorization))
        if principal is None:
            self._refuse(ANONYMOUS, Denied(401, f"missing or unknown API key: {HOW}", asked))
            raise AssertionError  # _refuse always raises
        wait = self.limiter.take(principal.name)
        if wait is not None:
            self._refuse(principal.name, Denied(429, f"more than {self.limiter.rate:g} searches a second "
                                                     f"(burst {self.limiter.burst}); retry later", asked),
                         {"Retry-After": retry_after(wait)})
        try:
            tenant, readers = search_scope(principal, asked, anonymous=False)
        except Denied as denied:
            self._refuse(principal.name, denied)
        return req.model_copy(update={"tenant": tenant}), readers

    @staticmethod
    def _refuse(who: str, denied: Denied, headers: dict[str, str] | None = None) -> None:
        log_access(who, "search", "denied", tenant=denied.tenant, reason=denied.reason, status=denied.status)
        if denied.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        raise HTTPException(denied.status, denied.reason, headers=headers)
