"""Access control: API keys (``keys``), principals and the access log (``principals``), pure checks (``checks``)."""

from streams.auth.checks import Denied, resolve_search_tenant, tenant_problems
from streams.auth.keys import KeyStore, UnknownKey, keys_path
from streams.auth.principals import authenticator, bearer_token, key_store, log_access
from streams.auth.ratelimit import RateLimiter

__all__ = ["Denied", "KeyStore", "RateLimiter", "UnknownKey", "authenticator", "bearer_token", "key_store",
           "keys_path", "log_access", "resolve_search_tenant", "tenant_problems"]
