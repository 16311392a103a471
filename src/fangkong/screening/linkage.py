"""Record linkage (人员比对): which records of two lists are the same person.

Every pair is decided on evidence, never on one key. Each compared field adds its
log-likelihood weight (Fellegi–Sunter: agreement is far more likely between records of one
person than of two) and the sum decides: at or above :data:`AUTO_LINK` the pair may be
linked automatically, between :data:`REVIEW` and it goes to a person for confirmation,
below it the records stay apart. Fields:

- ID number (the first 17 digits; a 15-digit number is read as its 18-digit form): the
  same number is strong evidence; a number one edit away (one digit changed, or two
  adjacent digits swapped, the check character following or not) is some evidence, and
  the review reason names the digit ("身份证号第 9 位不同"); two *valid* numbers further
  apart are two people and never paired;
- name: same characters; else same pinyin (homophones such as 张伟/张维, written from
  speech); else look-alike characters (己/已, 未/末: copied by eye); else same surname and
  pinyin one syllable apart ("near");
- birth date (read from the ID number when a record leaves it out and the other states
  it): equal; or one digit typed wrong, two adjacent digits swapped, or day and month
  swapped ("near");
- sex; phone (people change numbers, so a different phone weighs little); address (same
  normalised text, or sharing the house-number part).

Automatic links need more than a weight. A pair links automatically only when

1. its weight reaches :data:`AUTO_LINK`;
2. nothing contradicts it: name (characters, sound and look all different), birth date
   (neither equal nor near) and sex must not disagree — so the same ID number with a name,
   sex or birth date that contradicts it is a pair for review, never a link (a mistyped
   number that happens to be a neighbour's must not make the neighbour "reported");
3. ID numbers one edit apart come with a name that agrees (same, same sound or look-alike);
4. a name that is only near comes with two more agreeing identifiers among the same ID
   number, the same birth date and the same phone;
5. neither record has a second candidate that could link automatically too (a number
   typed as a neighbour's who shares the name, a namesake born a day apart): then a
   person decides, and sees every one of them.

A pair with the same ID number is always returned, for review when it may not link. (A pair
with the same number, name and stated birth date is taken at once, before the search: no
other candidate could outweigh it.)

Scope: records are paired only within one area — by default the village (the first 12
digits of ``Rec.area``; a record given at group level belongs to its village), or the group
(``within=GROUP``), or wider when the caller says so (``within=TOWNSHIP``, ``COUNTY``,
``None``). Records without an area are paired only with records without one.

Candidate pairs come from blocking keys within the scope (birth date — also the one an ID
number carries —, phone, the pinyin of the name alone and with the birth year or the
address's numbers, the ID number without its check character, its region and sequence
digits), so a record is compared with the handful of records that share one of them, not
with the whole list.

Links are one-to-one: pairs that may link automatically are taken first, best first, then
the pairs for review; a record already linked is not linked again. :func:`cluster` applies
the same rules within one list, to group the records of one person that no registry person
matches; :func:`similar` finds every record of a pool a record may be (before registering a
new person).

Why not Splink: this engine is written for the fields and noise of these lists (Chinese
names by pinyin and shape, ID numbers with check digits, homophones), its weights and rules
are fixed and explainable to a cadre ("same phone, same birthday, name sounds the same"),
and it needs no extra dependency; the benchmarks (bench/screening_linkage.py and
bench/screening_linkage_hard.py) measure it against known truth.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import NamedTuple

from fangkong.core import idnumbers, names

AUTO_LINK = 10.0
REVIEW = 6.0
MAX_BLOCK = 60  # a blocking value shared by more records than this says nothing (e.g. 1980-01-01)

# Scopes: how many leading digits of two records' areas must agree (None: anywhere).
COUNTY, TOWNSHIP, VILLAGE, GROUP = 6, 9, 12, 15

W_ID_SAME, W_ID_NEAR, W_ID_FAR = 12.0, 3.0, -3.0
W_NAME_EXACT, W_NAME_PINYIN, W_NAME_LOOKALIKE, W_NAME_NEAR, W_NAME_DIFF = 6.0, 4.0, 4.0, 1.5, -5.0
W_BIRTH_EXACT, W_BIRTH_NEAR, W_BIRTH_DIFF = 5.0, 2.0, -6.0
W_SEX_SAME, W_SEX_DIFF = 0.3, -4.0
W_PHONE_SAME, W_PHONE_DIFF = 6.0, -0.5
W_ADDRESS_SAME, W_ADDRESS_NEAR = 2.0, 1.0
_NUMBER = re.compile(r"\d+")


def _groups(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Characters copied for one another by eye (形近字) as they occur in names; each group is
# one set of look-alikes. Homophones need no table: they share their pinyin.
LOOKALIKE_GROUPS = _groups(
    "己已巳 未末 土士 戊戌戍 日曰 干于千 人入八 大太犬 王玉主 白百 天夭夫 失矢 刀力 贝见 "
    "折拆析 侯候 密蜜 辩辨辫 徽微徵 崇祟 栗粟 券卷 晴睛 幕暮慕募墓 浙淅 汩汨 玲铃伶 "
    "娟绢鹃 亭婷停 萍苹 琳淋 慧惠 颖颍 晶品 雪雷 娜哪 红江 燕蒸 芳坊 丹舟 怡恰 萱宣喧 "
    "诗侍持 琪棋淇祺 彤形 悦锐阅 依衣 瑶遥摇 妍研 菲斐 宁宇字 钰钮 淑椒 桂娃 英央 珍诊 "
    "芝之 芬纷 素索 霞暇 翠萃 梅悔侮 莲连 洁浩 娥峨蛾 彩采 凤风 春舂 贵贯 金全 军车 刚冈 "
    "峰锋蜂 辉挥 波坡被 龙尤 博搏 泽择 晨辰 阳阴 昊吴 思恩 远运 嘉喜 奕弈 锦绵 程呈 佳住 "
    "瑞端 哲晢 杰态 涛涝 斌赋 鹏朋 飞习 建健键 皓皖 俊浚 睿叡 航杭 霖林 秀禾 兰兴"
)
_LOOK = {ch: n for n, group in enumerate(LOOKALIKE_GROUPS) for ch in group}

SAME, NEAR_DIGIT, NEAR_SWAP, FAR = 0, 1, 2, 3
_EXACT, _SOUND, _LOOKS, _NEAR, _DIFF = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Rec:
    """One record as the linker sees it; ``key`` is the caller's identifier and ``area``
    the region code it belongs to (village or group), which bounds whom it may link to."""

    key: object
    name: str
    id_number: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    address: str = ""
    area: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    left: object
    right: object
    score: float
    method: str  # "id" (the same ID number, linked automatically) or "score"
    why: str
    auto: bool = False  # linked automatically; False: for a person to confirm


class _Prepared:
    __slots__ = (
        "address_numbers",
        "area",
        "body",
        "id_birth",
        "legacy",
        "pinyin",
        "rec",
        "scope",
        "surname",
        "syllables",
        "valid_id",
    )

    def __init__(self, rec: Rec, within: int | None, ids: _Ids) -> None:
        self.rec = rec
        number = rec.id_number
        self.valid_id = ""
        self.id_birth: dt.date | None = None
        self.legacy = len(number) == 15
        if len(number) in (15, 18):
            # An old 15-digit number is the same person's number, read as its 18-digit form.
            checked = ids.check(number)
            if checked is not None:
                self.valid_id, self.id_birth = checked
                number = self.valid_id
            elif len(number) == 15:
                number = ""
        self.body = number[:17] if len(number) == 18 and number[:17].isdigit() else ""
        self.syllables = ids.syllables(rec.name) if rec.name else []
        self.pinyin = "".join(self.syllables)
        self.surname = rec.name[:1]
        self.address_numbers = tuple(_NUMBER.findall(rec.address)) if rec.address else ()
        area = rec.area
        self.area = area[:within] if within else ""
        self.scope = self.area[:VILLAGE]


class _Ids:
    """Valid ID numbers (18 digits, or 15 read as 18) and their birth dates, checked with
    the registry's table-driven validator (the same verdicts as :func:`idnumbers.parse`);
    and the pinyin of names, each computed once per run."""

    def __init__(self) -> None:
        # Imported here: the linker itself stays free of Django models (benchmarks and
        # scripts use it before any app is loaded).
        from fangkong.people.bulk_import import FastIdValidator

        self.validator = FastIdValidator()
        self.dates: dict[str, dt.date] = {}
        self.names: dict[str, list[str]] = {}

    def syllables(self, name: str) -> list[str]:
        """Pinyin syllables of a name, remembered: a county's names repeat."""
        found = self.names.get(name)
        if found is None:
            found = self.names[name] = names.pinyin_syllables(name)
        return found

    def check(self, number: str) -> tuple[str, dt.date] | None:
        try:
            valid, born, _sex = self.validator.check(number)
        except idnumbers.IdNumberError:
            return None
        day = self.dates.get(born)
        if day is None:
            day = self.dates[born] = dt.date.fromisoformat(born)
        return valid, day


def _compatible(a: _Prepared, b: _Prepared) -> bool:
    """Both in the same scope: same village (or wider), and at group scope neither in
    another group than the other (a record given at village level fits any of its groups)."""
    if a.scope != b.scope:
        return False
    x, y = a.area, b.area
    return x == y or x.startswith(y) or y.startswith(x)


def _blocking_keys(p: _Prepared) -> Iterable[tuple]:
    r, s = p.rec, p.scope
    if r.birth_date:
        yield ("b", s, r.birth_date)
        yield ("pb", s, p.pinyin, r.birth_date.year)
    if p.id_birth and p.id_birth != r.birth_date:
        yield ("b", s, p.id_birth)
    if r.phone:
        yield ("t", s, r.phone)
    narrow = len(s) >= VILLAGE  # keys that say something only within one village
    if p.body:
        yield ("i", s, p.body)
        if narrow:
            yield ("iq", s, p.body[:6], p.body[14:])  # a typo in the birth-date digits
    if p.pinyin:
        if narrow:
            yield ("p", s, p.pinyin)
        if r.phone:
            yield ("pt", s, p.pinyin[:4], r.phone[-4:])
        if p.address_numbers:
            yield ("pa", s, p.pinyin, p.address_numbers)


def id_edit(a: str, b: str) -> tuple[int, int]:
    """How two ID bodies of one length (17 digits, or 15 without the century) differ:
    ``(SAME, -1)``, ``(NEAR_DIGIT, i)`` (only digit ``i`` differs), ``(NEAR_SWAP, i)``
    (digits ``i`` and ``i + 1`` swapped) or ``(FAR, -1)``."""
    if a == b:
        return SAME, -1
    first = -1
    second = -1
    for i in range(len(a)):
        if a[i] != b[i]:
            if first < 0:
                first = i
            elif second < 0:
                second = i
            else:
                return FAR, -1
    if second < 0:
        return NEAR_DIGIT, first
    if second == first + 1 and a[first] == b[second] and a[second] == b[first]:
        return NEAR_SWAP, first
    return FAR, -1


def id_difference(a: str, b: str) -> str:
    """The difference of two ID numbers in words for a reviewer ("身份证号第 9 位不同"),
    or "" when they are equal, far apart or either is not a number."""
    x, y = a.strip().upper(), b.strip().upper()
    if len(x) != 18 or len(y) != 18 or not (x[:17].isdigit() and y[:17].isdigit()):
        return ""
    kind, i = id_edit(x[:17], y[:17])
    if kind == SAME:
        return "" if x == y else "身份证号校验码不同"
    return _id_words(kind, i)


def _id_words(kind: int, i: int) -> str:
    if kind == NEAR_DIGIT:
        return f"身份证号第 {i + 1} 位不同"
    if kind == NEAR_SWAP:
        return f"身份证号第 {i + 1}、{i + 2} 位颠倒"
    return ""


def _birth_near(a: dt.date, b: dt.date) -> bool:
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return True
    x, y = f"{a:%Y%m%d}", f"{b:%Y%m%d}"
    diff = [i for i in range(8) if x[i] != y[i]]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and x[diff[0]] == y[diff[1]]
        and x[diff[1]] == y[diff[0]]
    )


def _name_relation(a: _Prepared, b: _Prepared) -> int:
    na, nb = a.rec.name, b.rec.name
    if na == nb:
        return _EXACT
    if a.pinyin == b.pinyin:
        return _SOUND
    if len(na) == len(nb):
        differ = [(x, y) for x, y in zip(na, nb, strict=True) if x != y]
        if all(_LOOK.get(x, -1) == _LOOK.get(y, -2) for x, y in differ):
            return _LOOKS
    if (
        a.surname == b.surname
        and len(a.syllables) == len(b.syllables)
        and sum(1 for x, y in zip(a.syllables, b.syllables, strict=True) if x != y) == 1
    ):
        return _NEAR
    return _DIFF


_NAME_WEIGHT = {
    _EXACT: (W_NAME_EXACT, "姓名相同"),
    _SOUND: (W_NAME_PINYIN, "姓名同音"),
    _LOOKS: (W_NAME_LOOKALIKE, "姓名形近"),
    _NEAR: (W_NAME_NEAR, "姓名相近"),
    _DIFF: (W_NAME_DIFF, "姓名不同"),
}


class _Verdict(NamedTuple):
    total: float
    why: str
    auto: bool  # may link automatically
    id_kind: int  # SAME, NEAR_DIGIT, NEAR_SWAP, FAR, or -1 (not both numbered)
    contradicted: bool  # name, birth date or sex disagree outright
    settled: bool  # the same number, name and stated birth date: nothing else to weigh


def _compare(a: _Prepared, b: _Prepared) -> _Verdict | None:
    """The verdict on two prepared records, or None when they carry two valid ID numbers
    more than one edit apart (two people)."""
    ra, rb = a.rec, b.rec
    total = 0.0
    why: list[str] = []
    id_kind = -1
    agreeing = 0  # identifiers that agree exactly: ID number, birth date, phone
    contradicted = False
    if a.body and b.body:
        x, y = a.body, b.body
        old_form = a.legacy or b.legacy
        if old_form:  # a 15-digit number has no century: compare the digits it has
            x, y = x[:6] + x[8:], y[:6] + y[8:]
        id_kind, position = id_edit(x, y)
        if old_form and position >= 6:
            position += 2
        if id_kind == SAME:
            total += W_ID_SAME
            agreeing += 1
            why.append("身份证号相同")
        elif id_kind == FAR:
            if a.valid_id and b.valid_id:
                return None
            total += W_ID_FAR
        else:
            total += W_ID_NEAR
            why.append(_id_words(id_kind, position))
    name = -1
    if ra.name and rb.name:
        name = _name_relation(a, b)
        weight, words = _NAME_WEIGHT[name]
        total += weight
        why.append(words)
        contradicted = name == _DIFF
    # A birth date left out is read from the record's ID number, when the other record
    # states one (two dates read from one number would agree by construction).
    born_a = ra.birth_date or (a.id_birth if rb.birth_date else None)
    born_b = rb.birth_date or (b.id_birth if ra.birth_date else None)
    if born_a and born_b:
        if born_a == born_b:
            total += W_BIRTH_EXACT
            agreeing += 1
            why.append("出生日期相同")
        elif _birth_near(born_a, born_b):
            total += W_BIRTH_NEAR
            why.append("出生日期相近")
        else:
            total += W_BIRTH_DIFF
            contradicted = True
            why.append("出生日期不同")
    if ra.sex and rb.sex:
        if ra.sex == rb.sex:
            total += W_SEX_SAME
        else:
            total += W_SEX_DIFF
            contradicted = True
            why.append("性别不同")
    if ra.phone and rb.phone:
        if ra.phone == rb.phone:
            total += W_PHONE_SAME
            agreeing += 1
            why.append("手机号相同")
        else:
            total += W_PHONE_DIFF
    if ra.address and rb.address:
        if ra.address == rb.address:
            total += W_ADDRESS_SAME
            why.append("住址相同")
        elif a.address_numbers and a.address_numbers == b.address_numbers:
            total += W_ADDRESS_NEAR
            why.append("门牌相同")
    auto = (
        total >= AUTO_LINK
        and not contradicted
        and not (id_kind in (NEAR_DIGIT, NEAR_SWAP) and name not in (_EXACT, _SOUND, _LOOKS))
        and not (name == _NEAR and agreeing < 2)
    )
    settled = (
        auto
        and id_kind == SAME
        and name in (_EXACT, _SOUND, _LOOKS)
        and ra.birth_date is not None
        and ra.birth_date == rb.birth_date
    )
    return _Verdict(total, "、".join(why), auto, id_kind, contradicted, settled)


def score(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    """The match weight of two prepared records and the reason in a few Chinese words
    (two valid ID numbers more than one edit apart: minus infinity)."""
    compared = _compare(a, b)
    if compared is None:
        return float("-inf"), "身份证号不同"
    return compared.total, compared.why


def _index(prepared: Sequence[_Prepared], skip: set[int]) -> dict[tuple, list[int]]:
    index: dict[tuple, list[int]] = defaultdict(list)
    for j, p in enumerate(prepared):
        if j in skip:
            continue
        for key in _blocking_keys(p):
            index[key].append(j)
    return index


def _candidates(p: _Prepared, index: dict[tuple, list[int]]) -> Iterable[int]:
    seen: set[int] = set()
    for key in _blocking_keys(p):
        block = index.get(key)
        if not block or len(block) > MAX_BLOCK:
            continue
        for j in block:
            if j not in seen:
                seen.add(j)
                yield j


def link(
    left: Sequence[Rec],
    right: Sequence[Rec],
    *,
    review: float = REVIEW,
    rejected: AbstractSet[tuple[object, object]] | None = None,
    within: int | None = VILLAGE,
) -> list[Link]:
    """Link ``left`` to ``right`` one-to-one within the scope ``within``; pairs that link
    automatically (``auto``), pairs scoring ``review`` or more and pairs sharing an ID
    number are returned.

    ``rejected`` holds (left key, right key) pairs a person has already rejected: they are
    never proposed again.
    """
    rejected = rejected or frozenset()
    ids = _Ids()
    lp = [_Prepared(r, within, ids) for r in left]
    rp = [_Prepared(r, within, ids) for r in right]
    links: list[Link] = []
    used_l: set[int] = set()
    used_r: set[int] = set()
    by_id: dict[tuple[str, str], int] = {}
    for j, q in enumerate(rp):
        if q.valid_id:
            by_id.setdefault((q.scope, q.valid_id), j)
    same_id: dict[int, int] = {}
    for i, p in enumerate(lp):
        found = by_id.get((p.scope, p.valid_id)) if p.valid_id else None
        if found is None or found in used_r or (p.rec.key, rp[found].rec.key) in rejected:
            continue
        j, q = found, rp[found]
        if not _compatible(p, q):
            continue
        v = _compare(p, q)
        if v is not None and v.settled:  # same number, name and birth date: taken at once
            links.append(Link(p.rec.key, q.rec.key, round(v.total, 2), "id", v.why, True))
            used_l.add(i)
            used_r.add(j)
        else:
            same_id[i] = j
    index = _index(rp, used_r)
    pairs: list[tuple[int, int, _Verdict]] = []
    for i, p in enumerate(lp):
        if i in used_l:
            continue
        forced = same_id.get(i)
        candidates = list(_candidates(p, index))
        if forced is not None and forced not in candidates:
            candidates.append(forced)
        for j in candidates:
            q = rp[j]
            if not _compatible(p, q) or (p.rec.key, q.rec.key) in rejected:
                continue
            v = _compare(p, q)
            if v is not None and (v.auto or v.total >= review or v.id_kind == SAME):
                pairs.append((i, j, v))
    # A record with two candidates that could each be linked automatically — on either
    # side: a number typed as a neighbour's who shares the name, a namesake born a day
    # apart — is ambiguous: a person decides, seeing every one of them.
    autos_l: dict[int, int] = defaultdict(int)
    autos_r: dict[int, int] = defaultdict(int)
    for i, j, v in pairs:
        if v.auto:
            autos_l[i] += 1
            autos_r[j] += 1
    automatic: list[tuple[float, int, int, _Verdict]] = []
    doubtful: list[tuple[bool, float, int, int, _Verdict]] = []
    shared: set[tuple[int, int]] = set()  # ambiguous pairs: shown, never exclusive
    for i, j, v in pairs:
        if autos_l[i] > 1 or autos_r[j] > 1:
            if not v.auto:
                continue
            v = v._replace(auto=False, why=v.why + "；另有相近人员")
            shared.add((i, j))
        if v.auto:
            automatic.append((-v.total, i, j, v))
        else:
            doubtful.append((v.contradicted, -v.total, i, j, v))
    automatic.sort(key=lambda t: t[:3])
    for _total, i, j, v in automatic:
        if i in used_l or j in used_r:
            continue
        used_l.add(i)
        used_r.add(j)
        method = "id" if v.id_kind == SAME else "score"
        links.append(Link(lp[i].rec.key, rp[j].rec.key, round(v.total, 2), method, v.why, True))
    # Then the pairs for review, those nothing contradicts first, each best first; an
    # ambiguous pair takes nobody away from another.
    doubtful.sort(key=lambda t: t[:4])
    for _contradicted, _total, i, j, v in doubtful:
        if i in used_l or j in used_r:
            continue
        if (i, j) not in shared:
            used_l.add(i)
            used_r.add(j)
        links.append(Link(lp[i].rec.key, rp[j].rec.key, round(v.total, 2), "score", v.why, False))
    return links


def similar(
    records: Sequence[Rec],
    pool: Sequence[Rec],
    *,
    review: float = REVIEW,
    within: int | None = VILLAGE,
) -> list[Link]:
    """Every record of ``pool`` that one of ``records`` may be: its best pair scoring
    ``review`` or more, or sharing the ID number, best first (not one-to-one). Used before
    registering a person the lists name, so that a resident registered under a one-digit-off
    number is offered instead of being registered twice."""
    ids = _Ids()
    rp = [_Prepared(r, within, ids) for r in pool]
    index = _index(rp, set())
    by_id: dict[str, list[int]] = defaultdict(list)
    for j, q in enumerate(rp):
        if q.body:
            by_id[q.body].append(j)
    best: dict[int, Link] = {}
    for r in records:
        p = _Prepared(r, within, ids)
        candidates = list(_candidates(p, index))
        candidates.extend(by_id.get(p.body, ()) if p.body else ())
        for j in candidates:
            q = rp[j]
            if not _compatible(p, q):
                continue
            v = _compare(p, q)
            if v is None or not (v.auto or v.total >= review or v.id_kind == SAME):
                continue
            found = Link(r.key, q.rec.key, round(v.total, 2), "score", v.why, v.auto)
            if j not in best or best[j].score < found.score:
                best[j] = found
    return sorted(best.values(), key=lambda lk: -lk.score)


def cluster(
    records: Sequence[Rec], *, threshold: float = AUTO_LINK, within: int | None = VILLAGE
) -> list[list[object]]:
    """Group the records of one list that describe the same person (deduplication).

    The rules of :func:`link`, applied within one list and scope: records with the same
    valid ID number are one person unless their name, sex or birth date contradicts it;
    otherwise two records scoring ``threshold`` or more that may link automatically (from
    the same blocking keys) are. Groups are merged best score first, and never so that one
    group would hold two different valid ID numbers. Returns the keys of each group, every
    record in exactly one group (a record like no other is a group of its own).
    """
    checker = _Ids()
    prepared = [_Prepared(r, within, checker) for r in records]
    parent = list(range(len(prepared)))
    ids: list[set[str]] = [{p.valid_id} if p.valid_id else set() for p in prepared]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def merge(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a == b or (ids[a] and ids[b] and ids[a] != ids[b]):
            return
        parent[b] = a
        ids[a] |= ids[b]

    index: dict[tuple, list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        for key in _blocking_keys(p):
            index[key].append(i)
    scored: list[tuple[float, int, int]] = []
    seen: set[tuple[int, int]] = set()
    for block in index.values():
        if len(block) < 2 or len(block) > MAX_BLOCK:
            continue
        for x, i in enumerate(block):
            for j in block[x + 1 :]:
                if (i, j) in seen:
                    continue
                seen.add((i, j))
                p, q = prepared[i], prepared[j]
                if not _compatible(p, q):
                    continue
                if p.valid_id and q.valid_id and p.valid_id != q.valid_id:
                    continue  # two different valid numbers are never one group
                v = _compare(p, q)
                if v is None:
                    continue
                if v.id_kind == SAME and p.valid_id and q.valid_id:
                    if not v.contradicted:
                        scored.append((max(v.total, threshold), i, j))
                elif v.auto and v.total >= threshold:
                    scored.append((v.total, i, j))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    for _total, i, j in scored:
        merge(i, j)
    groups: dict[int, list[object]] = defaultdict(list)
    for i, p in enumerate(prepared):
        groups[root(i)].append(p.rec.key)
    return list(groups.values())
