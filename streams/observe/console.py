"""Progress lines for long operations: one place that writes them, on stderr, flushed at once."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """One progress or status line on stderr (stdout stays for results that scripts read)."""
    print(message, file=sys.stderr, flush=True)


def show(message: str) -> None:
    """One line of a command's own output on stdout (a live demo's answers), flushed at once."""
    print(message, flush=True)
