"""HTTP source: ``POST /v1/events`` puts events into Kafka; OpenAPI docs at ``/docs``.

Input: one event as a JSON object, a JSON array of events, or NDJSON (``Content-Type:
application/x-ndjson``, one event per line, blank lines ignored). Output: each event,
with ``ingest_time`` set to the server's clock (unless already set), on its kind's topic.

Semantics:
- All or nothing on validation: when any item is invalid the answer is 422 with
  ``{"detail": [{"index": i, "errors": [{"loc": "payload.value", "msg": ...}]}]}`` for
  every invalid item (``i`` counts items from 0; NDJSON blank lines are not items) and
  nothing is produced.
- 202 ``{"accepted": n, "event_ids": [...]}`` only after Kafka confirmed every record
  (acks=all), so a 202 means durable.
- 503 with ``Retry-After`` when too many records await Kafka's confirmation or Kafka did
  not confirm in time; 502 when Kafka refused a record for good. After a 5xx some events
  of the request may be in Kafka already: send the same request again, the events' ids
  make the duplicates harmless downstream.
- Auth: with ``authorize`` (the CLI builds it from ``streams.auth``), every request needs a key
  (``Authorization: Bearer <key>`` or ``X-API-Key``) that it maps to a principal with the
  ``ingest`` scope (else 401 / 403), and every event's tenant must be one of the principal's
  (else 403 naming each refused tenant; nothing is produced). Deletes are events too: a
  ``deleted: true`` document of a foreign tenant is refused the same way. Each refusal is one
  JSON line on the logger ``headwater.audit.access`` (key name, never the key). Without
  ``authorize``: the deprecated global ``http.api_keys`` (any of them writes any tenant;
  empty = no auth).
- Limits: 413 when the body exceeds ``http.max_body_bytes`` (checked on ``Content-Length``
  and while reading), holds more than ``http.max_in_flight`` events, or holds an event
  larger than the producer's ``max_event_bytes`` (``HEADWATER_KAFKA__MAX_EVENT_BYTES``, the
  one event limit the worker applies too); 400 when it is not JSON or NDJSON (too deeply
  nested, a number past 4300 digits) or holds no event. Bad input is never a 500.

Example::

    producer = Producer(settings.kafka, max_in_flight=settings.http.max_in_flight)
    uvicorn.run(create_ingest_api(settings, producer), host=settings.http.host, port=settings.http.port)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import FastAPI, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from connectors.config import HttpIngestSettings, TopicSettings
from connectors.http_auth import (
    API_KEY,
    BEARER,
    Authorize,
    check_global_keys,
    check_tenants,
    given_key,
    require_caller,
)
from connectors.http_body import BadBody, item_bytes, oversize, parse_body, validate_items
from connectors.producer import Delivered, DeliveryFailed, Producer, QueueFull
from connectors.source import utcnow
from schemas import AnyEvent, encode, message_key, stamp

__all__ = ["Accepted", "IngestSettings", "create_ingest_api"]


class IngestSettings(Protocol):
    """What the ingest API reads from ``streams.settings.Settings``."""

    @property
    def http(self) -> HttpIngestSettings: ...

    @property
    def topics(self) -> TopicSettings: ...


class Accepted(BaseModel):
    """Every event of the request is in Kafka."""

    accepted: int
    event_ids: list[str]


_EXAMPLE = {"kind": "sensor", "event_id": "dev-1-0001", "source": "gateway",
            "event_time": "2026-01-01T00:00:00Z",
            "payload": {"device_id": "dev-1", "metric": "temperature", "value": 21.5}}
_ONE_OR_MANY = {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}
_BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _ONE_OR_MANY, "example": _EXAMPLE},
    "application/x-ndjson": {"schema": {"type": "string", "description": "one event object per line"}}}}}

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Body is not JSON / NDJSON or holds no event"},
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The key lacks the ingest scope, or an event's tenant is not one of the key's"},
    413: {"description": "Body larger than max_body_bytes, more events than max_in_flight, or an event "
                         "larger than max_event_bytes (HEADWATER_KAFKA__MAX_EVENT_BYTES)"},
    422: {"description": "Some items are invalid: their index and field errors; nothing was produced"},
    502: {"description": "Kafka refused a record for good"},
    503: {"description": "Kafka is busy or did not confirm in time; retry after Retry-After seconds"},
}


def create_ingest_api(settings: IngestSettings, producer: Producer, *, authorize: Authorize | None = None,
                      clock: Callable[[], datetime] = utcnow, retry_after_s: int = 1) -> FastAPI:
    """The ingest app; ``producer`` stays the caller's (close it after the server stopped).

    ``authorize(key) -> principal or None`` turns on per-key, per-tenant checks (module docstring).
    """
    http, topics = settings.http, settings.topics
    keys = [k.get_secret_value().encode() for k in http.api_keys]
    app = FastAPI(title="Headwater ingest", version="1",
                  description="Events in: validated, stamped and acknowledged only once Kafka holds them.")

    @app.post("/v1/events", status_code=202, response_model=Accepted, responses=_ERRORS,
              openapi_extra=_BODY_DOC)
    async def post_events(request: Request, api_key: Annotated[str | None, Security(API_KEY)] = None,
                          bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None
                          ) -> Accepted:
        """Validate every event (all or nothing), stamp ``ingest_time``, produce, wait for Kafka."""
        given = given_key(api_key, bearer)
        caller = require_caller(authorize, given) if authorize else None
        if authorize is None:
            check_global_keys(keys, given)
        body = await _read_body(request, http.max_body_bytes)
        items = _parsed(body, request.headers.get("content-type", ""))
        if len(items) > http.max_in_flight:
            raise HTTPException(413, f"{len(items)} events in one request; send at most {http.max_in_flight}")
        if len(body) > producer.max_event_bytes:  # an item may be too big for Kafka: refuse before validating
            _refuse_oversize([item_bytes(i) for i in items], producer.max_event_bytes)
        events, problems = validate_items(items)
        if problems:
            raise HTTPException(422, problems)
        if caller is not None:
            check_tenants(caller, events)
        now = clock()
        stamped = [stamp(e, now) for e in events]
        values = [encode(e) for e in stamped]
        _refuse_oversize([len(v) for v in values], producer.max_event_bytes)  # exact: what Kafka would hold
        await _produce_all(producer, topics, stamped, values, retry_after_s)
        return Accepted(accepted=len(stamped), event_ids=[e.event_id for e in stamped])

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, and the producer's counters (``produced``, ``failed``, ``in_flight``)."""
        return {"status": "ok", **producer.counters()}

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    too_big = (f"body is larger than {limit} bytes (max_body_bytes, HEADWATER_HTTP__MAX_BODY_BYTES); "
               "send fewer events per request")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, too_big)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, too_big)
    return bytes(body)


def _parsed(body: bytes, content_type: str) -> list[Any]:
    try:
        return parse_body(body, content_type)
    except BadBody as exc:
        raise HTTPException(400, str(exc)) from None


def _refuse_oversize(sizes: list[int], limit: int) -> None:
    detail = oversize(sizes, limit)
    if detail is not None:
        raise HTTPException(413, detail)


async def _produce_all(producer: Producer, topics: TopicSettings, events: list[AnyEvent], values: list[bytes],
                       retry_after_s: int) -> None:
    """Send every event (``block=False``), wait for all reports, map failures to 503 / 502."""
    sends = [producer.send(topics.for_kind(e.kind.value), v, message_key(e), block=False)
             for e, v in zip(events, values, strict=True)]
    results: list[Delivered | BaseException] = await asyncio.gather(*sends, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if not failures:
        return
    stored = f"{len(results) - len(failures)} of {len(results)} events are in Kafka"
    retry = {"Retry-After": str(retry_after_s)}
    if any(isinstance(f, QueueFull) for f in failures):
        raise HTTPException(503, f"too many events await Kafka's confirmation ({stored}); "
                                 f"send the request again after {retry_after_s} s", headers=retry)
    failed = next((f for f in failures if isinstance(f, DeliveryFailed)), None)
    if failed is None:
        raise failures[0]
    if failed.retriable:
        raise HTTPException(503, f"Kafka did not confirm ({failed}; {stored}); send the request again "
                                 f"after {retry_after_s} s", headers=retry)
    raise HTTPException(502, f"Kafka refused an event ({failed}; {stored}); the request cannot succeed as is")
