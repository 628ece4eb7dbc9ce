"""The worker talks to a secured Kafka with the same settings as the connectors."""

import pytest
from faust.types.auth import AuthProtocol, SASLMechanism

from connectors.config import KafkaSettings
from streams.agents.app import broker_credentials

pytestmark = pytest.mark.unit


def test_plaintext_needs_no_credentials() -> None:
    assert broker_credentials(KafkaSettings()) is None


def test_sasl_over_tls() -> None:
    creds = broker_credentials(KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                                             sasl_username="hw", sasl_password="secret"))
    assert creds is not None
    assert creds.protocol == AuthProtocol.SASL_SSL
    assert creds.mechanism == SASLMechanism.SCRAM_SHA_512  # type: ignore[attr-defined]
    assert (creds.username, creds.password) == ("hw", "secret")  # type: ignore[attr-defined]


def test_tls_without_sasl() -> None:
    creds = broker_credentials(KafkaSettings(security_protocol="SSL"))
    assert creds is not None and creds.protocol == AuthProtocol.SSL
