"""The testing module's own Chinese catalogue passes the same checks as the main one:
every message translated, none fuzzy, placeholders kept, the .mo in step with the .po."""

from __future__ import annotations

from pathlib import Path

import pytest

import fangkong.testing
from tests.web import test_catalogue as catalogue

LOCALE = Path(fangkong.testing.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.fixture(autouse=True)
def _app_catalogue(monkeypatch):
    monkeypatch.setattr(catalogue, "LOCALE", LOCALE)


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue.test_every_message_is_translated_and_none_is_fuzzy()


def test_translations_are_chinese_and_keep_their_placeholders():
    catalogue.test_translations_are_chinese_and_keep_their_placeholders()


def test_header_declares_chinese_without_plurals():
    catalogue.test_header_declares_chinese_without_plurals()


def test_the_compiled_catalogue_is_current():
    catalogue.test_the_compiled_catalogue_is_committed_and_current()
