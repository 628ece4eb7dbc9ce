"""Text of files: plain text, Markdown, HTML and PDF bytes -> text and title, or an error naming the file.

Pure except for pypdf's parsing: bytes in, :class:`Extracted` out, never a partial result.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".pdf": "pdf"}
MAX_FILE_BYTES = 50_000_000  # read no larger file; its event must also fit in max_event_bytes
# Types whose text is the file's bytes (less a BOM): a file larger than the event limit cannot fit.
VERBATIM = frozenset({"text", "markdown"})


class ExtractError(ValueError):
    """A file's text cannot be extracted; the message is the one-line reason."""


@dataclass(frozen=True)
class Extracted:
    """The text of one file, its title and the content type of ``text``."""

    title: str
    text: str
    content_type: str


# --- text extraction (pure) -------------------------------------------------------------------


def verbatim(name: str) -> bool:
    """True when the text of a file called ``name`` is the file itself (``.txt``, ``.md``)."""
    return SUFFIXES.get(Path(name).suffix.lower()) in VERBATIM


def extract_text(name: str, data: bytes) -> Extracted:
    """The text of a file called ``name`` with content ``data``, chosen by its suffix.

    Raises:
        ExtractError: unsupported suffix, not UTF-8, unreadable PDF or PDF without text.
    """
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise ExtractError(f"unsupported: {name}: supported types are {', '.join(sorted(SUFFIXES))}")
    return _EXTRACTORS[kind](name, data)


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(f"decode: {name} is not UTF-8 (bad byte at offset {exc.start}); "
                           "convert it to UTF-8 and save it again") from None


def _plain(name: str, data: bytes) -> Extracted:
    return Extracted(name, _decode(name, data), "text/plain")


_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _markdown(name: str, data: bytes) -> Extracted:
    text = _decode(name, data)
    heading = _HEADING.search(text)
    return Extracted(heading.group(1).strip() if heading else name, text, "text/markdown")


class _HtmlText(HTMLParser):
    """Collects visible text (block elements become line breaks) and the ``<title>``."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg"})
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table",
                        "section", "article", "header", "footer", "blockquote", "ul", "ol", "dt", "dd", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        if tag == "title":
            self._in_title = False
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def _tidy(text: str) -> str:
    """Spaces collapsed within lines, at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _html(name: str, data: bytes) -> Extracted:
    parser = _HtmlText()
    parser.feed(_decode(name, data))
    parser.close()
    title = " ".join("".join(parser.title).split())
    return Extracted(title or name, _tidy("".join(parser.parts)), "text/plain")


def _pdf(name: str, data: bytes) -> Extracted:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged or encrypted files
        raise ExtractError(f"pdf: {name} cannot be read ({type(exc).__name__}: {exc}); "
                           "check that it opens in a PDF viewer") from None
    if not text.strip():
        raise ExtractError(f"pdf: {name} has no extractable text (a scanned image?); "
                           "run OCR on it (e.g. ocrmypdf) and ingest the result")
    return Extracted(str(title).strip() or name, text.strip(), "text/plain")


_EXTRACTORS: dict[str, Callable[[str, bytes], Extracted]] = {
    "text": _plain, "markdown": _markdown, "html": _html, "pdf": _pdf}
