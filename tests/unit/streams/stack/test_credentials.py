"""A secure stack's credentials: made once, private, and picked up by Settings for loopback services only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from connectors.config import KafkaSettings, WeaviateSettings
from streams.settings import Settings, StackSettings, credentials_path, load_stack_credentials
from streams.stack.credentials import generate, resolve, save
from streams.stack.kafka import secure_listeners
from streams.stack.process import StackError
from streams.stack.weaviate import secure_env

pytestmark = pytest.mark.unit


def _settings(data_dir: Path, **sections: object) -> Settings:
    return Settings(stack=StackSettings(data_dir=data_dir), **sections)  # type: ignore[arg-type]


def test_a_new_secure_stack_gets_private_random_credentials(tmp_path: Path) -> None:
    first = resolve(tmp_path, want_secure=True, kafka="fresh")
    assert first is not None
    assert stat.S_IMODE(credentials_path(tmp_path).stat().st_mode) == 0o600
    assert load_stack_credentials(tmp_path) == first
    assert resolve(tmp_path, want_secure=False, kafka="secure") == first  # made once, then kept
    assert first.kafka_password != generate().kafka_password


def test_a_stack_asked_for_nothing_stays_open(tmp_path: Path) -> None:
    assert resolve(tmp_path, want_secure=False, kafka="fresh") is None
    assert resolve(tmp_path, want_secure=False, kafka="plain") is None
    assert not credentials_path(tmp_path).exists()


def test_an_open_stack_cannot_become_secure_in_place(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"without --secure.*stack down --wipe"):
        resolve(tmp_path, want_secure=True, kafka="plain")
    assert not credentials_path(tmp_path).exists()


def test_lost_credentials_of_a_secure_stack_name_the_file_and_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=rf"{credentials_path(tmp_path)} is missing.*stack up --secure"):
        resolve(tmp_path, want_secure=False, kafka="secure")


def test_settings_use_the_stack_credentials_for_loopback_services(tmp_path: Path) -> None:
    creds = generate()
    save(credentials_path(tmp_path), creds)
    s = _settings(tmp_path)
    assert (s.kafka.security_protocol, s.kafka.sasl_mechanism, s.kafka.sasl_username) == (
        "SASL_PLAINTEXT", "SCRAM-SHA-512", "headwater")
    assert s.kafka.sasl_password == creds.kafka_password
    assert s.weaviate.api_key == creds.weaviate_api_key


def test_settings_never_send_the_stack_credentials_elsewhere_or_over_explicit_ones(tmp_path: Path) -> None:
    save(credentials_path(tmp_path), generate())
    remote = _settings(tmp_path, kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9092,kafka.example:9092"),
                       weaviate=WeaviateSettings(host="weaviate.example"))
    assert remote.kafka.sasl_mechanism is None and remote.weaviate.api_key is None
    own = _settings(tmp_path, kafka=KafkaSettings(sasl_mechanism="PLAIN", sasl_username="me"),
                    weaviate=WeaviateSettings(api_key=SecretStr("mine")))
    assert own.kafka.sasl_username == "me"
    assert own.weaviate.api_key is not None and own.weaviate.api_key.get_secret_value() == "mine"


def test_no_credentials_file_changes_nothing(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    assert s.kafka == KafkaSettings() and s.weaviate == WeaviateSettings()


def test_a_broken_credentials_file_is_named(tmp_path: Path) -> None:
    credentials_path(tmp_path).write_text("{}")
    with pytest.raises(ValidationError, match="credentials.json is not a valid stack credentials file"):
        _settings(tmp_path)


def test_kafka_refuses_what_no_acl_allows_and_has_no_plaintext_listener() -> None:
    props = secure_listeners(9092, 9093, generate())
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:headwater;User:controller"
    assert "PLAINTEXT://" not in props["listeners"].replace("SASL_PLAINTEXT://", "")
    assert set(props["listener.security.protocol.map"].split(",")) == {
        "SASL_PLAINTEXT:SASL_PLAINTEXT", "CONTROLLER:SASL_PLAINTEXT"}


def test_weaviate_has_no_anonymous_access_and_one_root_user() -> None:
    creds = generate()
    env = secure_env(creds)
    assert env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "false"
    assert env["AUTHORIZATION_RBAC_ENABLED"] == "true"
    assert env["AUTHENTICATION_APIKEY_USERS"] == env["AUTHORIZATION_RBAC_ROOT_USERS"] == "headwater"
    assert env["AUTHENTICATION_APIKEY_ALLOWED_KEYS"] == creds.weaviate_api_key.get_secret_value()
