import json
from datetime import UTC, datetime

import pytest

from schemas.access import Principal, audit_line, reader_tags
from streams.auth import Denied, RateLimiter, bearer_token, resolve_search_tenant, tenant_problems
from streams.auth.ratelimit import retry_after

pytestmark = pytest.mark.unit


def who(tenants: tuple[str, ...] = ("a",), scopes: tuple[str, ...] = ("search",),
        groups: tuple[str, ...] = ()) -> Principal:
    return Principal(name="p", tenants=tenants, scopes=frozenset(scopes), groups=groups)  # type: ignore[arg-type]


@pytest.mark.parametrize(("tenants", "asked", "want"), [
    (("a",), None, "a"), (("a",), "default", "a"), (("a",), "a", "a"),
    (("a", "b"), "b", "b"), (("*",), "zz", "zz"), (("default", "b"), None, "default"),
])
def test_the_tenant_comes_from_the_key_or_must_be_one_of_its_tenants(tenants: tuple[str, ...], asked: str | None,
                                                                     want: str) -> None:
    assert resolve_search_tenant(who(tenants), asked) == want


@pytest.mark.parametrize(("tenants", "asked"), [(("a",), "b"), (("a", "b"), "c"), (("a", "b"), None)])
def test_a_tenant_the_key_lacks_is_403(tenants: tuple[str, ...], asked: str | None) -> None:
    with pytest.raises(Denied) as err:
        resolve_search_tenant(who(tenants), asked)
    assert err.value.status == 403 and "may not read tenant" in err.value.reason


def test_search_needs_the_search_scope() -> None:
    with pytest.raises(Denied, match="lacks the 'search' scope"):
        resolve_search_tenant(who(scopes=("ingest",)), "a")


def test_tenant_problems_name_each_foreign_tenant_once() -> None:
    p = who(("a",), ("ingest",))
    assert tenant_problems(p, ["a", "a"]) == []
    assert tenant_problems(p, ["b", "a", "b"]) == ["key 'p' may not write tenant 'b'"]
    assert tenant_problems(who(("a",), ("search",)), ["a"]) == ["key 'p' lacks the 'ingest' scope"]


def test_reader_tags_and_bearer() -> None:
    assert reader_tags(who(groups=("hr", "ops"))) == ["*", "principal:p", "group:hr", "group:ops"]
    assert bearer_token("Bearer hw_x_y") == "hw_x_y" and bearer_token("bearer  k ") == "k"
    assert bearer_token(None) is None and bearer_token("Basic abc") is None and bearer_token("Bearer ") is None


def test_token_bucket_allows_a_burst_then_asks_to_wait_then_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("k") for _ in range(3)] == [None, None, None]
    wait = limiter.take("k")
    assert wait == pytest.approx(0.5) and retry_after(wait) == "1"
    assert limiter.take("other") is None  # buckets are per key
    now[0] = 0.5
    assert limiter.take("k") is None and limiter.take("k") is not None


def test_audit_line_is_one_json_object() -> None:
    line = audit_line(who="p", action="search", outcome="denied", when=datetime(2026, 1, 1, tzinfo=UTC),
                      tenant="a", reason="no")
    assert "\n" not in line and json.loads(line)["when"] == "2026-01-01T00:00:00+00:00"
