"""Weaviate as a local process, built once from its Go module.

Started with persistence, no vectorizer module (Headwater brings its own vectors),
anonymous access unless an API key is set; a secure stack (``stack up --secure``) has
API-key authentication and RBAC, its generated key belonging to the one root user.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request

from pydantic import SecretStr

from streams.settings import Settings, StackCredentials, load_stack_credentials
from streams.stack.process import ServiceProcess, StackError, run_with_progress


class Weaviate:
    name = "weaviate"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.proc = ServiceProcess(self.name, settings.stack.data_dir)
        self.version = settings.stack.weaviate_version
        self.cache = settings.stack.cache_dir
        self.binary = self.cache / "weaviate" / f"v{self.version}" / "weaviate-server"
        self.home = settings.stack.data_dir / "weaviate"
        st = settings.stack
        self.ports = [settings.weaviate.http_port, settings.weaviate.grpc_port, st.weaviate_gossip_port,
                      st.weaviate_data_port, st.weaviate_raft_port, st.weaviate_raft_rpc_port]
        self.creds = load_stack_credentials(settings.stack.data_dir)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.s.weaviate.http_port} grpc :{self.s.weaviate.grpc_port}"

    @property
    def auth(self) -> str:
        if self.creds is not None:
            return "apikey+rbac"
        return "anonymous" if self.s.weaviate.api_key is None else "apikey"

    @property
    def api_key(self) -> SecretStr | None:
        return self.creds.weaviate_api_key if self.creds else self.s.weaviate.api_key

    def install(self) -> None:
        if self.binary.exists():
            return
        if shutil.which("go") is None:
            raise StackError("go not found: install Go 1.26+ (https://go.dev/dl) to build Weaviate, "
                             "or point HEADWATER_WEAVIATE__HOST at a running Weaviate")
        env = {
            "GOBIN": str(self.binary.parent),
            "GOMODCACHE": str(self.cache / "go" / "mod"),
            "GOCACHE": str(self.cache / "go" / "build"),
            "GOFLAGS": "-buildvcs=false",
            "CGO_ENABLED": os.environ.get("CGO_ENABLED", "1"),
        }
        run_with_progress(
            ["go", "install", "-v", f"github.com/weaviate/weaviate/cmd/weaviate-server@v{self.version}"],
            self.proc.log_file.with_name("weaviate-build.log"),
            f"weaviate v{self.version}: building from its Go module (first time only, several minutes)",
            env=env,
        )

    def _env(self) -> dict[str, str]:
        st, w = self.s.stack, self.s.weaviate
        env = {
            "PERSISTENCE_DATA_PATH": str(self.home / "data"),
            "DEFAULT_VECTORIZER_MODULE": "none",
            "ENABLE_MODULES": "",
            "QUERY_DEFAULTS_LIMIT": "20",
            "GRPC_PORT": str(w.grpc_port),
            "CLUSTER_HOSTNAME": "node1",
            "CLUSTER_IN_LOCALHOST": "true",
            "CLUSTER_GOSSIP_BIND_PORT": str(st.weaviate_gossip_port),
            "CLUSTER_DATA_BIND_PORT": str(st.weaviate_data_port),
            "RAFT_PORT": str(st.weaviate_raft_port),
            "RAFT_INTERNAL_RPC_PORT": str(st.weaviate_raft_rpc_port),
            "RAFT_JOIN": f"node1:{st.weaviate_raft_port}",
            "RAFT_BOOTSTRAP_EXPECT": "1",
            "DISABLE_TELEMETRY": "true",
            "LIMIT_RESOURCES": "true",
            "GOMAXPROCS": "2",
            "PROMETHEUS_MONITORING_ENABLED": "false",
        }
        if self.creds is not None:
            env |= secure_env(self.creds)
        elif w.api_key is not None:
            env |= {
                "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "false",
                "AUTHENTICATION_APIKEY_ENABLED": "true",
                "AUTHENTICATION_APIKEY_ALLOWED_KEYS": w.api_key.get_secret_value(),
                "AUTHENTICATION_APIKEY_USERS": "headwater",
            }
        else:
            env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] = "true"
        return env

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.s.weaviate.http_port),
                "--scheme", "http", "--read-timeout=600s", "--write-timeout=600s"]
        self.proc.start(argv, env=self._env(), cwd=self.home)

    def _get(self, path: str) -> bytes | None:
        url = f"http://127.0.0.1:{self.s.weaviate.http_port}{path}"
        req = urllib.request.Request(url)  # noqa: S310 - loopback URL built from settings
        if self.api_key is not None:
            req.add_header("Authorization", f"Bearer {self.api_key.get_secret_value()}")
        try:
            with urllib.request.urlopen(req, timeout=2) as resp:  # noqa: S310
                return resp.read() if resp.status == 200 else None
        except urllib.error.HTTPError as exc:
            exc.close()  # an error answer (503 while starting) holds its socket until closed: ResourceWarning
            return None
        except OSError:
            return None

    def ready(self) -> bool:
        return self._get("/v1/.well-known/ready") is not None

    def running_version(self) -> str | None:
        body = self._get("/v1/meta")
        return json.loads(body).get("version") if body else None

    def wipe(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def secure_env(c: StackCredentials) -> dict[str, str]:
    """API keys and RBAC (names as read by Weaviate 1.39's usecases/config/environment.go)."""
    return {
        "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "false",
        "AUTHENTICATION_APIKEY_ENABLED": "true",
        "AUTHENTICATION_APIKEY_ALLOWED_KEYS": c.weaviate_api_key.get_secret_value(),
        "AUTHENTICATION_APIKEY_USERS": c.weaviate_user,
        # Users made at run time by the root user (client.users.db.create) start with no role at all:
        # how a least-privilege key (a read-only search service) is added without a restart.
        "AUTHENTICATION_DB_USERS_ENABLED": "true",
        "AUTHORIZATION_RBAC_ENABLED": "true",
        "AUTHORIZATION_RBAC_ROOT_USERS": c.weaviate_user,
        # The Go profiling listener answers on every interface without authentication: closed when secure.
        "GO_PROFILING_DISABLE": "true",
    }
