"""Settings are parsed strictly: a mistyped value stops the start instead of a silent default."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _start(**env: str) -> subprocess.CompletedProcess:
    code = "import fangkong.settings as s; print(s.DEBUG, s.LOGIN_THROTTLE_MAX_FAILURES)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["flase", "ja", "2"])
def test_an_unknown_boolean_is_a_startup_error(value, tmp_path):
    done = _start(FANGKONG_DEBUG=value, FANGKONG_VAR_DIR=str(tmp_path))
    assert done.returncode != 0
    assert "FANGKONG_DEBUG" in done.stderr and "expected one of" in done.stderr


def test_booleans_and_numbers_in_every_spelling(tmp_path):
    done = _start(
        FANGKONG_DEBUG="Yes", FANGKONG_LOGIN_MAX_FAILURES=" 7 ", FANGKONG_VAR_DIR=str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "7"]


def test_a_number_that_is_not_one_is_a_startup_error(tmp_path):
    done = _start(FANGKONG_LOGIN_MAX_FAILURES="five", FANGKONG_VAR_DIR=str(tmp_path))
    assert done.returncode != 0 and "FANGKONG_LOGIN_MAX_FAILURES" in done.stderr


def test_every_fangkong_variable_the_code_reads_is_declared_in_settings():
    """Only settings.py reads FANGKONG_* variables; everything else reads settings."""
    import pathlib
    import re

    import fangkong

    root = pathlib.Path(fangkong.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        # Reading, not setting: `fangkong demo` sets FANGKONG_DEMO for itself and its server.
        reads = re.findall(r"environ(?:\.get)?\(?\[?\s*[\"']FANGKONG_\w+[\"']\]?\s*=?", text)
        if any(not r.endswith("=") for r in reads):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
