"""How CLI commands fail: one line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    from streams.stack import StackError

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StackError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper
