"""The tracing module's own Simplified Chinese catalogue is complete and compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import fangkong.tracing
from tests.web.test_catalogue import PLACEHOLDER

LOCALE = Path(fangkong.tracing.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries() -> list[tuple[set[str], str, str]]:
    entries, flags, msgid = [], set(), None
    for line in LOCALE.joinpath("django.po").read_text(encoding="utf-8").splitlines():
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("msgid "):
            msgid = line[7:-1]
        elif line.startswith("msgstr "):
            entries.append((flags, msgid, line[8:-1]))
            flags = set()
    return [e for e in entries if e[1]]


def test_every_message_is_translated_into_chinese():
    entries = _entries()
    assert len(entries) > 200
    assert [m for _f, m, s in entries if not s.strip()] == []
    assert [m for f, m, _s in entries if "fuzzy" in f] == []
    for _flags, msgid, msgstr in entries:
        assert re.search(r"[\u4e00-\u9fff]", msgstr), msgid
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_compiled_catalogue_matches_the_source():
    with LOCALE.joinpath("django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for _flags, msgid, msgstr in _entries():
        msgid = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        msgstr = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        assert compiled.gettext(msgid) == msgstr


def test_every_tracing_action_and_role_label_reads_in_chinese():
    from django.utils import translation

    from fangkong.core.roles import Action

    with translation.override("zh-hans"):
        for action in Action:
            if action.value.startswith("tracing."):
                assert re.search(r"[\u4e00-\u9fff]", str(action.label)), action
        from fangkong.tracing.models import Level

        assert str(Level.SECONDARY.label) == "次密切接触者"
