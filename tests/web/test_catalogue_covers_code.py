"""Every message the code marks for translation is in a Simplified Chinese catalogue.

The catalogue tests check the .po files themselves; this one checks that nobody added a
``{% translate %}`` or ``_()`` without running ``makemessages``: such a string shows in
English on a Chinese page (the nav once read "Notices" and "My work today"). It re-runs
``makemessages`` on a copy of the source tree and fails on any message the committed
catalogues do not hold.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

import fangkong

SOURCE = Path(fangkong.__file__).resolve().parent
MSGID = re.compile(r'^msgid "(.*)"\n((?:".*"\n)*)', re.M)

pytestmark = pytest.mark.skipif(
    not shutil.which("xgettext"), reason="GNU gettext (xgettext) is not installed"
)


def _msgids(po: Path) -> set[str]:
    text = po.read_text(encoding="utf-8")
    ids = set()
    for first, rest in MSGID.findall(text):
        whole = first + "".join(line[1:-1] for line in rest.splitlines())
        if whole:
            ids.add(whole)
    return ids


def test_every_translatable_message_in_the_code_is_in_a_catalogue(tmp_path):
    copy = tmp_path / "fangkong"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    committed = {po.relative_to(copy): _msgids(po) for po in copy.rglob("django.po")}
    cwd = os.getcwd()
    try:
        os.chdir(copy)
        call_command("makemessages", locale=["zh_Hans"], no_location=True, verbosity=0)
    finally:
        os.chdir(cwd)
    missing = {}
    for po in copy.rglob("django.po"):
        new = _msgids(po) - committed.get(po.relative_to(copy), set())
        if new:
            missing[str(po.relative_to(copy))] = sorted(new)
    assert missing == {}, f"run makemessages -l zh_Hans and translate: {missing}"
