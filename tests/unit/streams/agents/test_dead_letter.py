"""The worker's dead letters: never above the producer's limit, a reference when Kafka refuses one for
its own sake, transient errors raised for the caller to retry; one redaction rule for worker and doors."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError

from schemas.chunk import KafkaPosition
from streams.agents import dead_letter
from streams.observe.metrics import Metrics
from streams.settings import CurateSettings, Settings
from streams.transforms.curate.policy import Curation
from streams.transforms.validate import Item, Rejected

pytestmark = pytest.mark.unit


class Topic:
    """A faust topic: ``send`` hands over (and may refuse at once, as aiokafka does for size), the
    future it returns settles with the broker's answer."""

    def __init__(self, refuse: list[BaseException] | None = None, max_request: int = 4_194_304) -> None:
        self.refuse, self.max_request = refuse or [], max_request
        self.sent: list[tuple[bytes | None, bytes | None, dict[str, str]]] = []

    async def send(self, *, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
        size = len(value or b"") + len(key or b"") + sum(len(k) + len(v) for k, v in headers)
        if size > self.max_request:
            raise ProducerSendError("Error while sending") from MessageSizeTooLargeError("too large")
        if self.refuse:
            raise self.refuse.pop(0)
        self.sent.append((key, value, {k: v.decode() for k, v in headers}))
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        done.set_result(len(self.sent))
        return done


def _rt(**curate: Any) -> Any:
    settings = Settings().model_copy(update={"curate": CurateSettings(**curate)})
    return SimpleNamespace(settings=settings, curation=None, metrics=Metrics())


def _rejected(value: bytes, key: bytes = b"t/k") -> Rejected:
    return Rejected(Item(value, key, KafkaPosition("t.document", 0, 7)), "json: not UTF-8", "validate")


def test_a_binary_value_of_one_and_a_half_mb_is_a_reference_not_three_times_its_size() -> None:
    original = bytes(range(128, 256)) * 12_000
    topic = Topic()
    asyncio.run(dead_letter.send(_rt(), topic, [_rejected(original)]))
    [(key, value, headers)] = topic.sent
    assert key == b"t/k" and headers["headwater.value"] == "reference" and headers["headwater.redacted"] == "true"
    ref = json.loads(value or b"")["reference"]
    assert (ref["why"], ref["bytes"], ref["sha256"]) == ("binary", len(original), hashlib.sha256(original).hexdigest())
    assert headers["headwater.topic"] == "t.document" and headers["headwater.offset"] == "7"


def test_without_redaction_a_value_over_the_producers_limit_is_a_reference() -> None:
    original = b"x" * 4_150_000  # over the event limit: the broker (and the producer's request) could not hold it
    topic = Topic()
    rt = _rt(redact_dead_letters=False)
    rt.settings = rt.settings.model_copy(update={"kafka": rt.settings.kafka.model_copy(
        update={"max_event_bytes": 8_000_000})})  # a raised event limit: the producer's request limit still holds
    asyncio.run(dead_letter.send(rt, topic, [_rejected(original)]))
    [(_, value, headers)] = topic.sent
    assert headers["headwater.value"] == "reference" and json.loads(value or b"")["reference"]["why"] == "oversize"


def test_a_letter_kafka_refuses_for_its_own_sake_becomes_a_reference() -> None:
    refused = ProducerSendError("Error while sending")
    refused.__cause__ = MessageSizeTooLargeError("broker: record too large")
    topic = Topic(refuse=[refused])
    asyncio.run(dead_letter.send(_rt(), topic, [_rejected(b'{"event_id": "e-1", "text": "mail a@b.io"}')]))
    [(_, value, headers)] = topic.sent
    assert json.loads(value or b"")["reference"]["why"] == "refused" and b"a@b.io" not in (value or b"")


@pytest.mark.parametrize("error", [KafkaTimeoutError(), KafkaConnectionError("down"), TimeoutError()])
def test_a_transient_failure_is_raised_for_the_caller_to_retry(error: BaseException) -> None:
    wrapped = ProducerSendError("Error while sending")
    wrapped.__cause__ = error
    for raised in (error, wrapped):
        topic = Topic(refuse=[raised])
        with pytest.raises(type(raised)):
            asyncio.run(dead_letter.send(_rt(), topic, [_rejected(b"{}")]))
        assert topic.sent == []


def test_transient_asks_the_error_and_what_caused_it() -> None:
    wrapped = ProducerSendError("x")
    wrapped.__cause__ = MessageSizeTooLargeError("too large")
    assert not dead_letter.transient(wrapped) and not dead_letter.transient(ValueError("bad header"))
    assert dead_letter.transient(KafkaConnectionError("down"))


def test_redactor_follows_the_settings() -> None:
    assert dead_letter.redactor(CurateSettings(redact_dead_letters=False)) is None
    door = dead_letter.redactor(CurateSettings(pii_patterns={"EMPLOYEE": r"EMP-\d{6}"}))
    assert door is not None and door("EMP-123456 mailed jane@example.com") == "[EMPLOYEE] mailed [EMAIL]"
    # The worker's own curation when it redacts (its recognizer too); the door's patterns when it does not.
    worker = Curation(patterns=(("ROOM", re.compile(r"room \d+")),))
    assert dead_letter.redactor(CurateSettings(), worker)("room 12") == "[ROOM]"  # type: ignore[misc]
    off = Curation(redact_pii=False)
    assert dead_letter.redactor(CurateSettings(), off)("a@b.io") == "[EMAIL]"  # type: ignore[misc]
