"""A default install, without any extra (torch, presidio, datasets, bench, test): every module of schemas,
connectors and streams imports, except the two peers that need ``.[bench]``; ``headwater --help`` and every
command's ``--help`` answer; ``headwater bench --peers`` where its package is missing (the wheel leaves it out)
is one line naming the fix. The optional packages are hidden in a subprocess (``without_extras.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).with_name("without_extras.py")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300,
                          check=False)


def _report(what: str) -> dict[str, Any]:
    r = _run(what)
    assert r.returncode == 0, r.stderr
    report: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return report


def test_every_module_imports_without_the_extras() -> None:
    assert _report("modules") == {"failed": {}, "loaded": []}


def test_every_command_answers_help_without_the_extras() -> None:
    assert _report("commands") == {"failed": {}, "loaded": []}


def test_bench_peers_without_its_package_is_one_line_naming_the_fix() -> None:
    r = _run("run", "bench", "--peers")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        'error: headwater bench --peers runs from a source checkout: pip install -e ".[bench]"']
