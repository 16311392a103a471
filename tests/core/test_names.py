"""Name clean-up and the pinyin keys that search and record linkage rely on."""

from __future__ import annotations

import pytest

from fangkong.core import names


def test_homophones_share_the_pinyin_key():
    assert names.pinyin_key("张伟") == names.pinyin_key("张维") == "zhangwei"
    assert names.initials_key("张伟") == names.initials_key("张维") == "zw"


@pytest.mark.parametrize(
    ("name", "pinyin"),
    [("单雄信", "shanxiongxin"), ("曾国藩", "zengguofan"), ("解缙", "xiejin"), ("区永", "ouyong")],
)
def test_surnames_use_their_surname_reading(name, pinyin):
    assert names.pinyin_key(name) == pinyin


def test_surname_reading_applies_only_to_the_first_character():
    # 单 inside a given name keeps its common reading (dan).
    assert names.pinyin_key("王单") == "wangdan"


def test_keys_computes_both_at_once():
    assert names.keys("单雄信") == ("shanxiongxin", "sxx")


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  张 伟 ", "张伟"),
        ("买买提•艾力", "买买提·艾力"),
        ("买买提 · 艾力", "买买提·艾力"),
        ("John   Smith", "John Smith"),
        ("", ""),
    ],
)
def test_clean(raw, cleaned):
    assert names.clean(raw) == cleaned


def test_minority_name_with_middle_dot_has_keys_without_the_dot():
    assert names.pinyin_key("买买提·艾力") == "maimaitiaili"


@pytest.mark.parametrize(
    ("query", "is_pinyin"),
    [
        ("zhangw", True),
        ("zw", True),
        ("zhang wei", True),
        ("张伟", False),
        ("139", False),
        ("zw1", False),
    ],
)
def test_looks_like_pinyin(query, is_pinyin):
    assert names.looks_like_pinyin(query) is is_pinyin
