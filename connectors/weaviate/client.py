"""One way to open a Weaviate v4 client from settings (local or external cluster), and its errors."""

from __future__ import annotations

import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, Timeout

from connectors.config import WeaviateSettings


def connect(w: WeaviateSettings) -> weaviate.WeaviateClient:
    auth = Auth.api_key(w.api_key.get_secret_value()) if w.api_key is not None else None
    return weaviate.connect_to_custom(
        http_host=w.host, http_port=w.http_port, http_secure=w.secure,
        grpc_host=w.host, grpc_port=w.grpc_port, grpc_secure=w.secure,
        auth_credentials=auth, skip_init_checks=False,
        additional_config=AdditionalConfig(timeout=Timeout(init=20, query=60, insert=120)),
    )


class TargetUnavailable(RuntimeError):
    """Weaviate did not answer; retry later, do not commit offsets."""


def tenant_missing(exc: Exception) -> bool:
    """Weaviate's answer for a tenant that does not exist yet: nothing was ever written to it."""
    text = str(exc).lower()
    return "tenant" in text and "not found" in text
