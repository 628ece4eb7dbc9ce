"""A bad setting is one line naming the variable, exit code 2, never a traceback; secrets are not echoed; a model
that cannot be loaded is one line too, exit code 1."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def _run(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "streams", *(command or ("stack", "status"))], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120, check=False)


def test_a_bad_setting_names_the_variable_and_the_allowed_values() -> None:
    r = _run({"HEADWATER_EMBED__BACKEND": "tensorflow"})
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: HEADWATER_EMBED__BACKEND: Input should be 'torch', 'onnx' or 'onnx-int8' (got 'tensorflow'); "
        "fix the environment or .env"]


def test_a_bad_secret_setting_is_not_echoed() -> None:
    r = _run({"HEADWATER_KAFKA__SASL_PASSWORD": "x", "HEADWATER_KAFKA__SESSION_TIMEOUT_MS": "soon-ish"})
    assert r.returncode == 2 and "HEADWATER_KAFKA__SESSION_TIMEOUT_MS" in r.stderr and "soon-ish" in r.stderr
    from streams.cli import setting_errors

    line = setting_errors([{"loc": ("weaviate", "api_key"), "msg": "bad", "input": "s3cr3t"}])[0]
    assert "s3cr3t" not in line and "HEADWATER_WEAVIATE__API_KEY" in line


def test_a_model_that_cannot_be_loaded_is_one_line_naming_it() -> None:
    r = _run({"HEADWATER_EMBED__MODEL": "/nowhere/my-model"}, "worker")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: model '/nowhere/my-model' is not a local directory"), line
