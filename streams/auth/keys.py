"""The key store: API keys in ``<data_dir>/auth/keys.json``, hashed, re-read when the file changes.

A key is ``hw_<kid>_<secret>``: ``kid`` (random, not derived from the name) finds its entry in
O(1); only ``sha256(salt + secret)`` is stored, with a salt of its own per key. sha256 rather
than a slow KDF on purpose: the secret is 32 random bytes (nothing to brute-force), and every
search request checks a key. The file is written atomically (temp file, then ``os.replace``)
with mode 0600; a lookup re-reads it when its mtime, size or inode changed, so a key revoked
by ``headwater keys revoke`` in another process is refused at the next request.

Example::

    store = KeyStore(keys_path(settings.stack.data_dir))
    key = store.create("alice", tenants=["acme"], scopes=["search"])   # shown once
    store.lookup(key).name == "alice"
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.access import SCOPES, Principal, Scope

PREFIX = "hw_"


class UnknownKey(KeyError):
    """No key of that name (``rotate`` / ``revoke``)."""


def keys_path(data_dir: Path) -> Path:
    return data_dir / "auth" / "keys.json"


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    """``(kid, secret)`` of a well-formed key, else None."""
    if not token.startswith(PREFIX):
        return None
    kid, sep, secret = token[len(PREFIX):].partition("_")
    return (kid, secret) if sep and kid and secret else None


class KeyStore:
    """Keys by kid; one active key per name. Thread-safe within a process; the file is the truth."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._entries: dict[str, dict[str, Any]] = {}

    # --- reading ------------------------------------------------------------------------------

    def entries(self) -> dict[str, dict[str, Any]]:
        """kid -> stored entry (name, salt, hash, tenants, scopes, groups, created), fresh from disk."""
        with self._lock:
            self._refresh()
            return dict(self._entries)

    def _refresh(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._seen, self._entries = None, {}
            return
        seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        if seen != self._seen:
            self._entries = json.loads(self.path.read_text())["keys"]
            self._seen = seen

    def lookup(self, token: str | None) -> Principal | None:
        """The principal of a valid key; None for a missing, malformed, unknown or revoked one."""
        parts = split_key(token) if token else None
        if parts is None:
            return None
        entry = self.entries().get(parts[0])
        if entry is None or not hmac.compare_digest(entry["hash"], _digest(entry["salt"], parts[1])):
            return None
        return Principal(name=entry["name"], tenants=tuple(entry["tenants"]), scopes=frozenset(entry["scopes"]),
                         groups=tuple(entry["groups"]))

    def empty(self) -> bool:
        return not self.entries()

    def principals(self) -> list[Principal]:
        """Every key's principal, by name: what ``keys list`` shows (no secrets, no hashes)."""
        return sorted((Principal(name=e["name"], tenants=tuple(e["tenants"]), scopes=frozenset(e["scopes"]),
                                 groups=tuple(e["groups"])) for e in self.entries().values()),
                      key=lambda p: p.name)

    # --- writing ------------------------------------------------------------------------------

    def create(self, name: str, tenants: Iterable[str], scopes: Iterable[Scope], groups: Iterable[str] = ()) -> str:
        """A new key for ``name`` (replacing any key of that name); the only time the key is seen."""
        bad = sorted(set(scopes) - set(SCOPES))
        if bad:
            raise ValueError(f"unknown scope(s) {bad}; choose from {list(SCOPES)}")
        entry = {"name": name, "tenants": sorted(set(tenants)), "scopes": sorted(set(scopes)),
                 "groups": sorted(set(groups)), "created": datetime.now(UTC).isoformat()}
        return self._put(name, entry)

    def rotate(self, name: str) -> str:
        """A new key with the same grants; the old key is refused from now on."""
        old = self._by_name(name)
        return self._put(name, {k: old[k] for k in ("name", "tenants", "scopes", "groups")}
                         | {"created": datetime.now(UTC).isoformat()})

    def revoke(self, name: str) -> None:
        self._by_name(name)
        with self._lock:
            self._refresh()
            self._write({kid: e for kid, e in self._entries.items() if e["name"] != name})

    def _by_name(self, name: str) -> dict[str, Any]:
        found = [e for e in self.entries().values() if e["name"] == name]
        if not found:
            raise UnknownKey(name)
        return found[0]

    def _put(self, name: str, entry: dict[str, Any]) -> str:
        kid, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_hex(16)
        with self._lock:
            self._refresh()
            keep = {k: e for k, e in self._entries.items() if e["name"] != name}
            self._write(keep | {kid: entry | {"salt": salt, "hash": _digest(salt, secret)}})
        return f"{PREFIX}{kid}_{secret}"

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Atomically: a reader sees the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                json.dump({"version": 1, "keys": entries}, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._entries, self._seen = entries, None  # re-stat at the next read
