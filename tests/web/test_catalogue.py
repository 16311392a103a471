"""The Simplified Chinese catalogue is complete: every message translated, none fuzzy,
placeholders kept, and the compiled .mo in step with the .po."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import fangkong

LOCALE = Path(fangkong.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _entries() -> list[dict]:
    """Parse django.po: one dict per entry with its flags, msgid and msgstr(s)."""
    entries = []
    for block in LOCALE.joinpath("django.po").read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": []}
        key = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#"):
                continue
            else:
                match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
                if match:
                    key = match.group(1)
                    value = ast.literal_eval(match.group(2))
                    if key.startswith("msgstr"):
                        entry["msgstr"].append(value)
                    else:
                        entry[key] = value
                elif key and key.startswith("msgstr"):
                    entry["msgstr"][-1] += ast.literal_eval(line)
                elif key:
                    entry[key] += ast.literal_eval(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = [e for e in _entries() if e["msgid"]]
    assert len(entries) > 200
    untranslated = [e["msgid"] for e in entries if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    obsolete = [e["msgid"] for e in entries if e.get("obsolete")]
    assert untranslated == []
    assert fuzzy == []
    assert obsolete == []


def test_translations_are_chinese_and_keep_their_placeholders():
    for entry in _entries():
        if not entry["msgid"]:
            continue
        for text in entry["msgstr"]:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(
                PLACEHOLDER.findall(entry["msgid"])
            ), entry["msgid"]
            assert re.search(r"[\u4e00-\u9fff]", text), entry["msgid"]


def test_header_declares_chinese_without_plurals():
    header = next(e for e in _entries() if e["msgid"] == "")
    assert "Language: zh_Hans" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    assert "fuzzy" not in header["flags"]


def test_the_compiled_catalogue_is_committed_and_current():
    with LOCALE.joinpath("django.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for entry in _entries():
        if not entry["msgid"] or not entry["msgstr"][0]:
            continue  # untranslated entries fail the completeness test above
        if "msgid_plural" in entry:
            got = compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1)
        else:
            got = compiled.gettext(entry["msgid"])
        assert got == entry["msgstr"][0], f"django.mo is stale: run compilemessages ({got!r})"
