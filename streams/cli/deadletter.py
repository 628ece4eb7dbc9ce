"""``headwater deadletter``: list the dead letters, show one, replay them once fixed.

Reads ``settings.topics.dead_letter`` from the beginning to its end at the time of the call
(:func:`connectors.dead_letter_read.read`). Replays go through the one producer
(:mod:`connectors.producer`) to the record's source topic: the ``headwater.topic`` header
of a worker's dead letter, else the input topic of the value's ``kind``. Failures end with
one line on stderr and exit code 1; a bad line of a ``--from-file`` is named with its field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from connectors.config import TopicSettings
from connectors.dead_letter_read import DeadLetter, read, read_at, select
from schemas import InvalidEvent, decode, message_key, parse_json
from streams.settings import Settings

REASON_CHARS = 100


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO time, e.g. 2026-01-31T12:00:00+00:00") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # a time without zone is UTC


def _filters(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--topic", help="Only dead letters read from this source topic.")(fn)
    fn = click.option("--since", callback=_since, help="Only those dead-lettered at or after this ISO time "
                                                       "(UTC when it names no zone).")(fn)
    fn = click.option("--stage", help="Only this stage (validate, mqtt, http, files, ...).")(fn)
    return click.option("--reason", help="Only those whose reason contains this text (any case).")(fn)


def _letters(s: Settings, **filters: Any) -> Iterator[DeadLetter]:
    from confluent_kafka import KafkaException

    from connectors import kafka_admin

    try:
        kafka_admin.require(s.kafka)
        yield from select(read(s.kafka, s.topics.dead_letter), **filters)
    except kafka_admin.KafkaUnreachable as exc:
        _fail(str(exc))
    except KafkaException as exc:
        _fail(f"cannot read {s.topics.dead_letter}: {exc}")


@click.group()
def deadletter() -> None:
    """Dead letters: what was refused, why, and replaying it once fixed."""


# --- list and show ----------------------------------------------------------------------------


def format_line(d: DeadLetter) -> str:
    """One line: id (partition:offset), time, stage, reason (first 100 characters), source position."""
    h = d.headers
    where = f"{h.get('headwater.topic') or '-'}[{h.get('headwater.partition', '-1')}]@{h.get('headwater.offset', '-1')}"
    reason = d.reason if len(d.reason) <= REASON_CHARS else d.reason[:REASON_CHARS - 1] + "…"
    return f"{d.partition}:{d.offset}  {d.time.isoformat(timespec='seconds')}  {d.stage or '-'}  {reason}  {where}"


@deadletter.command("list")
@_filters
def list_(reason: str | None, stage: str | None, since: datetime | None, topic: str | None) -> None:
    """One line per dead letter: id, time, stage, reason, source topic[partition]@offset."""
    s = Settings()
    n = 0
    for d in _letters(s, reason=reason, stage=stage, since=since, topic=topic):
        click.echo(format_line(d))
        n += 1
    click.echo(f"{n} dead letters in {s.topics.dead_letter}", err=True)


def _position(text: str) -> tuple[int | None, int]:
    part, _, off = text.rpartition(":")
    try:
        return (int(part) if part else None), int(off)
    except ValueError:
        raise click.BadParameter(f"{text!r}: give OFFSET or PARTITION:OFFSET (as `deadletter list` prints)"
                                 ) from None


@deadletter.command()
@click.argument("offset")
def show(offset: str) -> None:
    """The headers and value of one dead letter (OFFSET or PARTITION:OFFSET); JSON values pretty-printed."""
    from confluent_kafka import KafkaException

    s = Settings()
    partition, at = _position(offset)
    try:
        found = read_at(s.kafka, s.topics.dead_letter, at, partition)
    except KafkaException as exc:
        _fail(f"cannot read {s.topics.dead_letter}: {exc}")
    if not found:
        _fail(f"no dead letter at offset {offset} in {s.topics.dead_letter}")
    if len(found) > 1:
        _fail(f"offset {at} exists in partitions {[d.partition for d in found]}; give PARTITION:OFFSET")
    click.echo(format_value(found[0]))


def format_value(d: DeadLetter) -> str:
    """Headers, key and value of one dead letter; the value as indented JSON when it is JSON (pure)."""
    lines = [f"{k}: {v}" for k, v in sorted(d.headers.items())]
    lines.append(f"key: {d.key.decode('utf-8', errors='replace') if d.key is not None else '-'}")
    try:
        value = json.dumps(parse_json(d.value or b""), indent=2, ensure_ascii=False)
    except InvalidEvent:
        value = (d.value or b"").decode("utf-8", errors="replace")
    return "\n".join([*lines, "", value])


# --- replay -----------------------------------------------------------------------------------

Outgoing = tuple[str, bytes, bytes | None]  # topic, value, key of one record to send


def replay_target(d: DeadLetter, topics: TopicSettings) -> Outgoing | str:
    """Where a dead letter goes back to, or why it cannot (pure)."""
    if d.headers.get("headwater.value") == "reference" or d.value is None:
        return "its original was not kept, only a reference to it (too large for Kafka, or not text)"
    key: bytes | None
    try:
        event = decode(d.value, max_bytes=len(d.value))
        kind: Any = event.kind.value
        key = d.key or message_key(event)
    except InvalidEvent:  # replayed as it is: a worker that was upgraded or fixed may take it now
        obj = _json_or_none(d.value)
        kind, key = (obj.get("kind") if isinstance(obj, dict) else None), d.key
    topic = d.source_topic
    if not topic:
        try:
            topic = topics.for_kind(str(kind))
        except ValueError:
            return "no headwater.topic header and no known kind in the value; fix it and use --from-file"
    return topic, d.value, key


def _json_or_none(value: bytes) -> Any:
    try:
        return parse_json(value)
    except InvalidEvent:
        return None


def fixed_records(path: Path, topics: TopicSettings, max_bytes: int) -> tuple[list[Outgoing], list[str]]:
    """The events of a JSONL file, each for its kind's topic, and one problem per bad line (pure but the read)."""
    records: list[Outgoing] = []
    problems: list[str] = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = decode(line.strip(), max_bytes=max_bytes)
        except InvalidEvent as exc:
            problems.append(f"{path}:{number}: {exc.reason}")
            continue
        records.append((topics.for_kind(event.kind.value), line.strip(), message_key(event)))
    return records, problems


@deadletter.command()
@_filters
@click.option("--from-file", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Replay the fixed events of this JSONL file (one event per line) instead.")
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter (when no filter is given).")
def replay(reason: str | None, stage: str | None, since: datetime | None, topic: str | None,
           from_file: Path | None, everything: bool) -> None:
    """Send the selected dead letters, or the fixed records of --from-file, back to their source topic."""
    s = Settings()
    if from_file is not None:
        records, problems = fixed_records(from_file, s.topics, s.kafka.max_event_bytes)
        if problems:  # all or nothing: a half-replayed file is harder to reason about
            _fail(f"nothing replayed; {len(problems)} bad lines: " + " | ".join(problems[:5]))
    else:
        if not (everything or reason or stage or since or topic):
            raise click.UsageError("select dead letters with --reason/--stage/--since/--topic, or pass --all")
        records, problems = _targets(s, reason=reason, stage=stage, since=since, topic=topic)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    click.echo(f"replayed {_send(s, records)} records" + (f", skipped {len(problems)}" if problems else ""))


def _targets(s: Settings, **filters: Any) -> tuple[list[Outgoing], list[str]]:
    records: list[Outgoing] = []
    problems: list[str] = []
    for d in _letters(s, **filters):
        target = replay_target(d, s.topics)
        if isinstance(target, str):
            problems.append(f"{d.partition}:{d.offset}: {target}")
        else:
            records.append(target)
    return records, problems


def _send(s: Settings, records: list[Outgoing]) -> int:
    from connectors.producer import DeliveryFailed, Producer

    producer = Producer(s.kafka, client_id="headwater-deadletter")
    try:
        futures = [producer.submit(topic, value, key) for topic, value, key in records]
        return len([f.result(timeout=150) for f in futures])
    except DeliveryFailed as exc:
        _fail(f"{exc}; check that Kafka runs (`headwater stack status`); records before it may be replayed")
    finally:
        producer.close()
