"""One way to open a Weaviate v4 client from settings (local or external cluster)."""

from __future__ import annotations

import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, Timeout

from streams.settings import WeaviateSettings


def connect(w: WeaviateSettings) -> weaviate.WeaviateClient:
    auth = Auth.api_key(w.api_key.get_secret_value()) if w.api_key is not None else None
    return weaviate.connect_to_custom(
        http_host=w.host, http_port=w.http_port, http_secure=w.secure,
        grpc_host=w.host, grpc_port=w.grpc_port, grpc_secure=w.secure,
        auth_credentials=auth, skip_init_checks=False,
        additional_config=AdditionalConfig(timeout=Timeout(init=20, query=60, insert=120)),
    )
