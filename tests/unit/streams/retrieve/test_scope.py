"""search_scope: the tenant and reader tags of a search, the same at the API and in the local CLI (pure)."""

from __future__ import annotations

import pytest

from schemas.access import Principal
from streams.auth import Denied
from streams.retrieve.scope import search_scope

pytestmark = pytest.mark.unit

HR = Principal(name="hr-a", tenants=("a",), scopes=frozenset({"search"}), groups=("hr",))


def test_anonymous_mode_filters_nothing() -> None:
    assert search_scope(None, "a", anonymous=True) == ("a", None)
    assert search_scope(HR, None, anonymous=True) == ("default", None)


def test_nobody_named_finds_only_what_the_whole_tenant_may_read() -> None:
    assert search_scope(None, "a", anonymous=False) == ("a", ["*"])
    assert search_scope(None, None, anonymous=False) == ("default", ["*"])


def test_a_principal_gets_its_tenant_and_its_reader_tags() -> None:
    assert search_scope(HR, "default", anonymous=False) == ("a", ["*", "principal:hr-a", "group:hr"])


@pytest.mark.parametrize(("principal", "asked", "status"), [
    (HR, "b", 403),
    (Principal(name="ingest-a", tenants=("a",), scopes=frozenset({"ingest"})), "a", 403),
])
def test_a_principal_is_refused_what_the_api_refuses(principal: Principal, asked: str, status: int) -> None:
    with pytest.raises(Denied) as refused:
        search_scope(principal, asked, anonymous=False)
    assert refused.value.status == status
