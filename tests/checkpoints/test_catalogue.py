"""The checkpoints module's own Chinese catalogue passes the same checks as the main one:
every message translated, none fuzzy, placeholders kept, the .mo in step with the .po."""

from __future__ import annotations

from pathlib import Path

import pytest

import fangkong.checkpoints
from tests.web import test_catalogue as catalogue

LOCALE = Path(fangkong.checkpoints.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.fixture(autouse=True)
def _app_catalogue(monkeypatch):
    monkeypatch.setattr(catalogue, "LOCALE", LOCALE)


def test_every_message_is_translated_and_none_is_fuzzy():
    # The main catalogue's own test also wants more than 200 entries; this one is smaller.
    entries = catalogue._entries()[1:]
    assert len(entries) > 100
    assert [e["msgid"] for e in entries if not e["msgstr"][0]] == []
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []


def test_translations_are_chinese_and_keep_their_placeholders():
    catalogue.test_translations_are_chinese_and_keep_their_placeholders()


def test_header_declares_chinese_without_plurals():
    catalogue.test_header_declares_chinese_without_plurals()


def test_the_compiled_catalogue_is_current():
    catalogue.test_the_compiled_catalogue_is_committed_and_current()
