"""Files source, pure parts: text extraction per type (a real PDF included), snapshot diff, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.files_source import (
    ExtractError,
    FileState,
    delete_event,
    diff,
    event_id_for,
    extract_text,
    file_item,
    scan,
    upsert_event,
)
from tests.pdf_kit import minimal_pdf

pytestmark = pytest.mark.unit


def test_plain_text() -> None:
    got = extract_text("notes.txt", "héllo\nworld".encode())
    assert (got.title, got.text, got.content_type) == ("notes.txt", "héllo\nworld", "text/plain")


def test_markdown_title_is_first_heading() -> None:
    got = extract_text("a.md", b"intro line\n\n## Pump 7 manual ##\n\ntext\n# later")
    assert (got.title, got.content_type) == ("Pump 7 manual", "text/markdown")
    assert got.text.startswith("intro line")
    assert extract_text("b.markdown", b"no heading").title == "b.markdown"


def test_html_strips_tags_scripts_styles_and_keeps_blocks() -> None:
    html = (b"<html><head><title>Pump &amp; valve</title><style>p {color: red}</style></head>"
            b"<body><h1>Manual</h1><p>Open   the\nvalve.</p><script>alert(1)</script>"
            b"<ul><li>one</li><li>two &lt;3</li></ul></body></html>")
    got = extract_text("page.HTM", html)
    assert got.title == "Pump & valve"
    assert got.text == "Manual\n\nOpen the\nvalve.\n\none\n\ntwo <3"
    assert "alert" not in got.text and "color" not in got.text


def test_html_without_title_uses_file_name() -> None:
    assert extract_text("x.html", b"<p>hi</p>").title == "x.html"


def test_pdf_text() -> None:
    got = extract_text("manual.pdf", minimal_pdf("Pump 7 needs new seals"))
    assert got.text == "Pump 7 needs new seals"
    assert (got.title, got.content_type) == ("manual.pdf", "text/plain")


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("scan.pdf", minimal_pdf(""), "no extractable text"),
    ("broken.pdf", b"%PDF-1.4 garbage", "cannot be read"),
    ("latin.txt", "café".encode("latin-1"), "not UTF-8"),
    ("latin.html", "<p>café</p>".encode("latin-1"), "not UTF-8"),
    ("doc.docx", b"PK", "unsupported"),
])
def test_extract_errors_say_why(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ExtractError, match=reason) as info:
        extract_text(name, data)
    assert name in str(info.value)


def _s(mtime: int, size: int = 1, doc_id: str = "d") -> FileState:
    return FileState(mtime, size, doc_id)


def test_diff() -> None:
    a, b, c, d = Path("/a"), Path("/b"), Path("/c"), Path("/d")
    old = {a: _s(1), b: _s(1), c: _s(1)}
    new = {a: _s(1), b: _s(2), d: _s(1)}
    change = diff(old, new)
    assert (change.new, change.changed, change.deleted) == ([d], [b], [c])
    assert diff(new, new) == diff({}, {})
    assert diff({a: _s(1, 1)}, {a: _s(1, 2)}).changed == [a]


def test_scan_walks_folders_and_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("a.txt", "sub/b.md", "sub/c.html", "d.pdf", "e.jpg", ".hidden.txt", ".git/f.txt"):
        (tmp_path / name).write_text("x")
    single = tmp_path / "e.jpg"
    snap = scan([tmp_path, single], id_root=tmp_path)
    by_id = {s.doc_id: p for p, s in snap.items()}
    assert set(by_id) == {"a.txt", "sub/b.md", "sub/c.html", "d.pdf", "e.jpg"}
    assert by_id["sub/b.md"] == tmp_path / "sub" / "b.md"


def test_a_file_has_one_id_however_it_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "moon.txt").write_text("The moon.")
    (tmp_path / "link").symlink_to(docs)
    monkeypatch.chdir(tmp_path)
    ids = {scan([Path("docs")])[docs / "moon.txt"].doc_id, *(s.doc_id for s in scan([Path("docs/moon.txt")]).values()),
           *(s.doc_id for s in scan([(tmp_path / "link" / ".." / "docs" / "moon.txt")]).values()),
           *(s.doc_id for s in scan([tmp_path / "link" / "moon.txt"]).values())}
    assert ids == {(docs / "moon.txt").resolve().as_posix()}


def test_event_id_is_doc_id_and_content_hash() -> None:
    assert event_id_for("a.txt", b"x") == event_id_for("a.txt", b"x")
    assert event_id_for("a.txt", b"x").startswith("a.txt#")
    assert event_id_for("a.txt", b"x") != event_id_for("a.txt", b"y")
    assert len(event_id_for("d/" * 300, b"x")) <= 200


def test_upsert_event(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    state = FileState(1_767_225_600_123_456_789, 20, "guide.md")
    e = upsert_event(path, state, b"# Guide\nturn it off", version=1_767_225_600_123, source="files",
                     tenant="acme")
    doc = e.payload
    assert (doc.doc_id, doc.title, doc.deleted) == ("guide.md", "Guide", False)
    assert doc.version == 1_767_225_600_123
    assert doc.uri == path.as_uri() and doc.uri.startswith("file://")
    assert (e.tenant, e.source) == ("acme", "files")
    assert e.event_id == event_id_for("guide.md", b"# Guide\nturn it off")
    assert e.event_time == datetime(2026, 1, 1, 0, 0, 0, 123457, tzinfo=UTC)


def test_delete_event() -> None:
    now = datetime(2026, 2, 1, tzinfo=UTC)
    e = delete_event(Path("/x/a.txt"), "a.txt", version=7, now=now, source="files", tenant="default")
    assert (e.payload.deleted, e.payload.version, e.payload.text, e.event_time) == (True, 7, "", now)
    assert e.event_id == "a.txt#deleted@7"


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("empty.txt", b"   \n", "text must not be empty"),
    ("scan.pdf", minimal_pdf(""), "no extractable text"),
])
def test_file_item_turns_failures_into_error_items(name: str, data: bytes, reason: str) -> None:
    item = file_item(Path("/docs") / name, FileState(1, len(data), name), data, version=1, source="files",
                     tenant="default")
    assert item.event is None and item.error is not None and reason in item.error
    assert json.loads(item.raw or b"") == {"path": f"/docs/{name}", "doc_id": name, "size": len(data)}


@pytest.mark.parametrize(("name", "data"), [
    ("big.txt", b"x" * 1001),  # the text alone is over the limit
    ("almost.md", b"x" * 990),  # the text fits, the event around it does not
    ("big.html", b"<p>" + b"y" * 1001 + b"</p>"),
])
def test_a_file_whose_event_is_over_the_limit_is_an_error_naming_file_limit_and_fix(name: str,
                                                                                     data: bytes) -> None:
    item = file_item(Path("/docs") / name, FileState(1, len(data), name), data, version=1, source="files",
                     tenant="default", max_event_bytes=1000)
    assert item.event is None and item.error is not None
    assert item.error.startswith(f"oversize: the event of file /docs/{name} is ")
    assert "more than the limit of 1000 bytes" in item.error
    assert "split the file" in item.error and "HEADWATER_KAFKA__MAX_EVENT_BYTES" in item.error
    assert json.loads(item.raw or b"")["path"] == f"/docs/{name}"  # a reference, never the file


def test_a_file_under_the_limit_is_an_event() -> None:
    data = b"x" * 500
    item = file_item(Path("/docs/ok.txt"), FileState(1, len(data), "ok.txt"), data, version=1, source="files",
                     tenant="default", max_event_bytes=1000)
    assert item.event is not None


def test_the_source_refuses_a_large_text_file_without_reading_it(tmp_path: Path) -> None:
    import asyncio

    from connectors.files_source import FilesSource

    (tmp_path / "big.txt").write_bytes(b"z" * 5000)
    (tmp_path / "small.txt").write_bytes(b"fine text here")

    async def items() -> list[object]:
        return [i async for i in FilesSource([tmp_path], max_event_bytes=2000)]

    got = asyncio.run(items())
    errors = [i.error for i in got if i.error]  # type: ignore[attr-defined]
    assert len(got) == 2 and len(errors) == 1 and "big.txt is 5000 bytes" in errors[0]
