"""Access control: API keys (``keys``), principals and the audit log (``principals``), pure checks (``access``)."""

from streams.auth.access import Denied, resolve_search_tenant, tenant_problems
from streams.auth.keys import KeyStore, UnknownKey, keys_path
from streams.auth.principals import audit, authenticator, bearer_token, key_store
from streams.auth.ratelimit import RateLimiter

__all__ = ["Denied", "KeyStore", "RateLimiter", "UnknownKey", "audit", "authenticator", "bearer_token",
           "key_store", "keys_path", "resolve_search_tenant", "tenant_problems"]
