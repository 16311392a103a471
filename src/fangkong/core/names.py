"""Chinese personal names: clean-up and pinyin keys for search and matching.

Names are compared by characters and by pinyin: 张伟 and 张维 share the key ``zhangwei``,
and a cadre typing ``zhangw`` or the initials ``zw`` finds both. Surnames with a special
reading (单 shan, 曾 zeng, 解 xie …) use their surname reading.

Pinyin of single characters is cached, so keying a million names costs dictionary lookups,
not a million calls into pypinyin.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Readings of characters when they are a surname (百家姓), where they differ from the most
# common reading pypinyin gives a lone character.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "查": "zha",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "尉": "yu",
    "乐": "yue",
    "覃": "qin",
    "盖": "ge",
    "缪": "miao",
    "种": "chong",
    "黑": "he",
    "员": "yun",
    "翟": "zhai",
    "召": "shao",
    "宓": "mi",
    "秘": "bi",
    "繁": "po",
    "长": "chang",
    "柏": "bai",
    "沈": "shen",
    "薄": "bo",
    "重": "chong",
    "藏": "zang",
}

_SPACES = re.compile(r"\s+")
_HAN_NAME = re.compile(r"[\u3400-\u9fff·\s]+")
_MIDDLE_DOTS = str.maketrans({"•": "·", "．": "·", "・": "·", "‧": "·"})


def clean(raw: str) -> str:
    """Trim, drop inner spaces between Han characters and unify the middle dot (维吾尔族 names)."""
    text = (raw or "").strip().translate(_MIDDLE_DOTS)
    if _HAN_NAME.fullmatch(text):
        return _SPACES.sub("", text)
    return _SPACES.sub(" ", text)


@lru_cache(maxsize=65536)
def char_pinyin(char: str) -> str:
    """Toneless pinyin of one character (itself, lower-cased, if it is not Han)."""
    if "\u3400" <= char <= "\u9fff":
        return lazy_pinyin(char, style=Style.NORMAL)[0]
    return char.lower()


def pinyin_syllables(name: str) -> list[str]:
    """Syllables of a name, the first read as a surname."""
    syllables: list[str] = []
    for position, char in enumerate(name):
        if char in " ·-":
            continue
        if position == 0 and char in SURNAME_READINGS:
            syllables.append(SURNAME_READINGS[char])
        else:
            syllables.append(char_pinyin(char))
    return syllables


def pinyin_key(name: str) -> str:
    """Full toneless pinyin without separators: 张伟 → ``zhangwei``."""
    return keys(name)[0]


def initials_key(name: str) -> str:
    """First letters of each syllable: 张伟 → ``zw``."""
    return keys(name)[1]


# The widths of the search-key columns (people.Person.name_pinyin / name_initials): a key
# is a search prefix, so a long name's key is cut to the column rather than overflowing it
# (a 33-letter Latin name has 33 initials).
PINYIN_MAX_LENGTH = 128
INITIALS_MAX_LENGTH = 32


@lru_cache(maxsize=262144)
def keys(name: str) -> tuple[str, str]:
    """(pinyin, initials) together, computing the syllables once; a county's names repeat
    (a million residents share a few hundred thousand names), so they are remembered.
    Both are cut to their columns' widths."""
    syllables = pinyin_syllables(name)
    pinyin = "".join(syllables)[:PINYIN_MAX_LENGTH]
    return pinyin, "".join(s[0] for s in syllables if s)[:INITIALS_MAX_LENGTH]


def looks_like_pinyin(query: str) -> bool:
    """A search string of Latin letters only is taken as pinyin, not as a name."""
    return bool(re.fullmatch(r"[A-Za-z ]+", query.strip()))
