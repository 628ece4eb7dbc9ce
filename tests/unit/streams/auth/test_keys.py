import json
import logging
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas.access import AUDIT_LOGGER
from streams.auth import KeyStore, UnknownKey
from streams.auth.keys import split_key

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "auth" / "keys.json")


def test_a_created_key_finds_its_principal_and_is_stored_only_hashed(store: KeyStore) -> None:
    key = store.create("alice", ["acme"], ["search"], ["hr"])
    p = store.lookup(key)
    assert p is not None and (p.name, p.tenants, p.scopes, p.groups) == ("alice", ("acme",), {"search"}, ("hr",))
    text = store.path.read_text()
    kid, secret = split_key(key) or ("", "")
    assert secret not in text and key not in text and kid in text
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert json.loads(text)["keys"][kid]["salt"]


def test_wrong_malformed_and_missing_keys_are_refused(store: KeyStore) -> None:
    key = store.create("alice", ["acme"], ["search"])
    kid, _ = split_key(key) or ("", "")
    for bad in (None, "", "hw_", "nonsense", f"hw_{kid}_wrong", key + "x", f"hw_other_{key[-10:]}"):
        assert store.lookup(bad) is None


def test_two_keys_get_different_kids_and_salts(store: KeyStore) -> None:
    a, b = store.create("a", ["t"], ["search"]), store.create("b", ["t"], ["search"])
    entries = store.entries()
    assert len(entries) == 2 and split_key(a) != split_key(b)
    assert len({e["salt"] for e in entries.values()}) == 2


def test_revoke_from_another_store_object_is_seen_at_the_next_lookup(store: KeyStore) -> None:
    key = store.create("alice", ["acme"], ["search"])
    assert store.lookup(key) is not None
    KeyStore(store.path).revoke("alice")  # another process, as `headwater keys revoke` would be
    assert store.lookup(key) is None


def test_rotate_keeps_the_grants_and_refuses_the_old_key(store: KeyStore) -> None:
    old = store.create("alice", ["acme", "beta"], ["search", "ingest"], ["hr"])
    new = KeyStore(store.path).rotate("alice")
    assert store.lookup(old) is None
    p = store.lookup(new)
    assert p is not None and p.tenants == ("acme", "beta") and p.scopes == {"search", "ingest"}
    assert len(store.entries()) == 1


def test_unknown_names_and_scopes_are_errors(store: KeyStore) -> None:
    with pytest.raises(UnknownKey):
        store.rotate("nobody")
    with pytest.raises(UnknownKey):
        store.revoke("nobody")
    with pytest.raises(ValueError, match="unknown scope"):
        store.create("x", ["t"], ["root"])  # type: ignore[list-item]


def test_cli_create_prints_the_key_last_and_list_rotate_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from streams.cli import main

    monkeypatch.setenv("HEADWATER_STACK__DATA_DIR", str(tmp_path))
    runner = CliRunner()
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        out = runner.invoke(main, ["keys", "create", "bob", "--tenant", "acme", "--scope", "search",
                                   "--group", "hr"])
        assert out.exit_code == 0, out.output
        key = out.stdout.strip().splitlines()[-1]
        store = KeyStore(tmp_path / "auth" / "keys.json")
        assert store.lookup(key) is not None
        listed = runner.invoke(main, ["keys", "list"])
        assert "bob" in listed.output and "acme" in listed.output and key not in listed.output
        rotated = runner.invoke(main, ["keys", "rotate", "bob"]).stdout.strip().splitlines()[-1]
        assert store.lookup(key) is None and store.lookup(rotated) is not None
        assert runner.invoke(main, ["keys", "revoke", "bob"]).exit_code == 0
        assert store.lookup(rotated) is None
        assert runner.invoke(main, ["keys", "revoke", "bob"]).exit_code == 1
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert [line["action"] for line in lines] == ["key.create", "key.rotate", "key.revoke"]
    assert all(line["who"] == "bob" for line in lines)
    assert not any(key in r.getMessage() or rotated in r.getMessage() for r in caplog.records)
