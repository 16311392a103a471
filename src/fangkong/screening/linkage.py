"""Record linkage (人员比对): which records of two lists are the same person.

Exact first: two records carrying the same valid 18-digit ID number are the same person,
and two different valid numbers are two people. Everything else is scored the
Fellegi–Sunter way: each compared field adds its log-likelihood weight (agreement is far
more likely between records of one person than of two), and the sum decides — at or above
:data:`AUTO_LINK` the pair is linked automatically, between :data:`REVIEW` and it goes to a
person for confirmation, below it the records stay apart. Fields:

- name: same characters; else same pinyin (homophones such as 张伟/张维, written from
  speech); else same surname and pinyin one syllable apart;
- birth date: equal; or one digit typed wrong / day and month swapped;
- sex; phone (people change numbers, so a different phone weighs little); address
  (same normalised text, or sharing the house-number part).

Candidate pairs come from blocking keys (birth date, phone, pinyin of the name with the
birth year or the address's numbers, ID number without its check character), so a record
is compared with the handful of records that share one of them, not with the whole list;
each pair is scored once. (Pinyin with the house numbers catches the records whose birth
date and phone both disagree.)

Links are one-to-one: the best-scoring pairs are taken first, and a record already linked
is not linked again. :func:`cluster` applies the same rules within one list, to group the
records of one person that no registry person matches.

Why not Splink: this engine is written for the fields and noise of these lists (Chinese
names by pinyin, ID numbers with check digits, homophones), its weights are fixed and
explainable to a cadre ("same phone, same birthday, name sounds the same"), and it needs
no extra dependency; the benchmark (bench/screening_linkage.py) measures it against known
truth.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fangkong.core import idnumbers, names

AUTO_LINK = 10.0
REVIEW = 6.0
MAX_BLOCK = 60  # a blocking value shared by more records than this says nothing (e.g. 1980-01-01)

W_NAME_EXACT, W_NAME_PINYIN, W_NAME_NEAR, W_NAME_DIFF = 6.0, 4.0, 1.5, -5.0
W_BIRTH_EXACT, W_BIRTH_NEAR, W_BIRTH_DIFF = 5.0, 2.0, -6.0
W_SEX_SAME, W_SEX_DIFF = 0.3, -6.0
W_PHONE_SAME, W_PHONE_DIFF = 6.0, -0.5
W_ADDRESS_SAME, W_ADDRESS_NEAR = 2.0, 1.0
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Rec:
    """One record as the linker sees it; ``key`` is the caller's identifier."""

    key: object
    name: str
    id_number: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    left: object
    right: object
    score: float
    method: str  # "id" (same valid ID number) or "score"
    why: str


class _Prepared:
    __slots__ = ("address_numbers", "id17", "pinyin", "rec", "surname", "syllables", "valid_id")

    def __init__(self, rec: Rec) -> None:
        self.rec = rec
        self.valid_id = rec.id_number if rec.id_number and idnumbers.is_valid(rec.id_number) \
            else ""  # fmt: skip
        self.id17 = rec.id_number[:17] if len(rec.id_number) >= 17 else ""
        self.syllables = names.pinyin_syllables(rec.name) if rec.name else []
        self.pinyin = "".join(self.syllables)
        self.surname = rec.name[:1]
        self.address_numbers = tuple(_NUMBER.findall(rec.address)) if rec.address else ()


def _blocking_keys(p: _Prepared) -> Iterable[tuple]:
    r = p.rec
    if r.birth_date:
        yield ("b", r.birth_date)
        yield ("pb", p.pinyin, r.birth_date.year)
    if r.phone:
        yield ("t", r.phone)
    if p.id17:
        yield ("i", p.id17)
    if p.pinyin and r.phone:
        yield ("pt", p.pinyin[:4], r.phone[-4:])
    if p.pinyin and p.address_numbers:
        yield ("pa", p.pinyin, p.address_numbers)


def _birth_near(a: dt.date, b: dt.date) -> bool:
    x, y = f"{a:%Y%m%d}", f"{b:%Y%m%d}"
    if sum(1 for i, j in zip(x, y, strict=True) if i != j) == 1:
        return True
    return a.year == b.year and a.month == b.day and a.day == b.month


def score(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    """The match weight of two prepared records and the reason in a few Chinese words."""
    ra, rb = a.rec, b.rec
    total = 0.0
    why: list[str] = []
    if ra.name and rb.name:
        if ra.name == rb.name:
            total += W_NAME_EXACT
            why.append("姓名相同")
        elif a.pinyin == b.pinyin:
            total += W_NAME_PINYIN
            why.append("姓名同音")
        elif a.surname == b.surname and len(a.syllables) == len(b.syllables) and sum(
            1 for x, y in zip(a.syllables, b.syllables, strict=True) if x != y
        ) == 1:
            total += W_NAME_NEAR
            why.append("姓名相近")
        else:
            total += W_NAME_DIFF
    if ra.birth_date and rb.birth_date:
        if ra.birth_date == rb.birth_date:
            total += W_BIRTH_EXACT
            why.append("出生日期相同")
        elif _birth_near(ra.birth_date, rb.birth_date):
            total += W_BIRTH_NEAR
            why.append("出生日期相近")
        else:
            total += W_BIRTH_DIFF
    if ra.sex and rb.sex:
        total += W_SEX_SAME if ra.sex == rb.sex else W_SEX_DIFF
    if ra.phone and rb.phone:
        if ra.phone == rb.phone:
            total += W_PHONE_SAME
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
    return total, "、".join(why)


def link(left: Sequence[Rec], right: Sequence[Rec], *, review: float = REVIEW,
         rejected: set[tuple[object, object]] | None = None) -> list[Link]:
    """Link ``left`` to ``right`` one-to-one; pairs scoring ``review`` or more are returned.

    ``rejected`` holds (left key, right key) pairs a person has already rejected: they are
    never proposed again.
    """
    rejected = rejected or set()
    lp = [_Prepared(r) for r in left]
    rp = [_Prepared(r) for r in right]
    links: list[Link] = []
    used_l: set[int] = set()
    used_r: set[int] = set()
    by_id: dict[str, int] = {}
    for j, p in enumerate(rp):
        if p.valid_id:
            by_id.setdefault(p.valid_id, j)
    for i, p in enumerate(lp):
        j = by_id.get(p.valid_id) if p.valid_id else None
        if j is not None and j not in used_r and (p.rec.key, rp[j].rec.key) not in rejected:
            links.append(Link(p.rec.key, rp[j].rec.key, 99.0, "id", "身份证号相同"))
            used_l.add(i)
            used_r.add(j)
    index: dict[tuple, list[int]] = defaultdict(list)
    for j, p in enumerate(rp):
        if j in used_r:
            continue
        for key in _blocking_keys(p):
            index[key].append(j)
    scored: list[tuple[float, int, int, str]] = []
    for i, p in enumerate(lp):
        if i in used_l:
            continue
        seen: set[int] = set()
        for key in _blocking_keys(p):
            block = index.get(key)
            if not block or len(block) > MAX_BLOCK:
                continue
            for j in block:
                if j in seen:
                    continue
                seen.add(j)
                q = rp[j]
                if p.valid_id and q.valid_id and p.valid_id != q.valid_id:
                    continue  # two valid, different ID numbers: two people
                total, why = score(p, q)
                if total >= review and (p.rec.key, q.rec.key) not in rejected:
                    scored.append((total, i, j, why))
    scored.sort(key=lambda t: -t[0])
    for total, i, j, why in scored:
        if i in used_l or j in used_r:
            continue
        used_l.add(i)
        used_r.add(j)
        links.append(Link(lp[i].rec.key, rp[j].rec.key, round(total, 2), "score", why))
    return links


def cluster(records: Sequence[Rec], *, threshold: float = AUTO_LINK) -> list[list[object]]:
    """Group the records of one list that describe the same person (deduplication).

    The rules of :func:`link`, applied within one list: records with the same valid ID
    number are one person; otherwise two records scoring ``threshold`` or more (from the
    same blocking keys) are. Groups are merged best score first, and never so that one group
    would hold two different valid ID numbers. Returns the keys of each group, every record
    in exactly one group (a record like no other is a group of its own).
    """
    prepared = [_Prepared(r) for r in records]
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

    by_id: dict[str, int] = {}
    for i, p in enumerate(prepared):
        if p.valid_id:
            if p.valid_id in by_id:
                merge(by_id[p.valid_id], i)
            else:
                by_id[p.valid_id] = i
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
                if p.valid_id and q.valid_id:
                    continue  # equal ones are merged above; different ones are two people
                total, _why = score(p, q)
                if total >= threshold:
                    scored.append((total, i, j))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    for _total, i, j in scored:
        merge(i, j)
    groups: dict[int, list[object]] = defaultdict(list)
    for i, p in enumerate(prepared):
        groups[root(i)].append(p.rec.key)
    return list(groups.values())
