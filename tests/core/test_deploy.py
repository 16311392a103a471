"""The production layout in deploy/ stays in step with the code: every command line of the
systemd units parses, and every variable of the environment file is one settings.py reads."""

from __future__ import annotations

import re
import shlex

import pytest
from django.core.management import get_commands, load_command_class

from fangkong.cli import COMMANDS
from tests.processes import ROOT

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def test_there_are_units_for_the_server_the_worker_and_the_jobs():
    assert {u.stem for u in UNITS} == {"fangkong-web", "fangkong-worker", "fangkong-jobs"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_unit_command_lines_parse(unit):
    text = unit.read_text()
    assert "Restart=always" in text
    for line in re.findall(r"^ExecStart(?:Pre)?=(.+)$", text, re.M):
        program, command, *options = shlex.split(line)
        assert program.endswith("/fangkong")
        name = COMMANDS[command]
        parser = load_command_class(get_commands()[name], name).create_parser("fangkong", command)
        parser.parse_args(options)  # exits (SystemExit) on an unknown option


def test_environment_file_names_only_declared_settings():
    settings_text = (ROOT / "src" / "fangkong" / "settings.py").read_text()
    env_file = (ROOT / "deploy" / "systemd" / "fangkong.env").read_text()
    names = re.findall(r"^(FANGKONG_\w+)=", env_file, re.M)
    assert names
    assert [n for n in names if f'"{n}"' not in settings_text] == []
