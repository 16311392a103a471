"""The linker on the lists as they really disagree: the same ID number is evidence, not
proof; a valid number one edit from a person's is compared with the other fields; links
stay inside the village unless the caller widens the scope; and, whatever the fields, an
automatic link never joins two records whose name, sex and birth date all disagree."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.core import idnumbers
from fangkong.screening import linkage
from fangkong.screening.linkage import Rec
from tests.conftest import GRID_A1, GRID_A2, GRID_C1, VILLAGE_A, VILLAGE_B

BORN = dt.date(1985, 3, 14)


def off_by_one(number: str, index: int, digit: str | None = None) -> str:
    """``number`` with digit ``index`` (0-based) changed and the check digit recomputed: a
    valid number, as a typist's slip leaves it once a system fills the check digit in."""
    new = digit if digit is not None else str((int(number[index]) + 1) % 10)
    body = number[:index] + new + number[index + 1 : 17]
    return body + idnumbers.check_char(body)


def swapped(number: str, index: int) -> str:
    body = number[:17]
    body = body[:index] + body[index + 1] + body[index] + body[index + 2 :]
    return body + idnumbers.check_char(body)


OWN = idnumbers.make("230231", BORN, 12, "M")
NEIGHBOUR = off_by_one(OWN, 15)  # the same birth date and sex: a neighbour's real number


def test_the_same_id_number_with_everything_else_against_it_is_reviewed_not_linked():
    """A village entry of 李建国 typed one digit off, onto his neighbour 王志强's number."""
    entry = Rec("v", "李建国", NEIGHBOUR, "M", BORN, "13900000001", area=GRID_A1)
    neighbour = Rec("n", "王志强", NEIGHBOUR, "F", dt.date(1962, 7, 1), "13900000002", "", GRID_A1)
    (pair,) = linkage.link([entry], [neighbour])
    assert pair.right == "n" and not pair.auto and pair.method == "score"
    assert "身份证号相同" in pair.why and "姓名不同" in pair.why and "性别不同" in pair.why


def test_a_number_typed_as_a_neighbours_links_to_its_own_person():
    """The neighbour shares the birth date and sex (the typo is in the sequence digits):
    name and phone decide, and the neighbour is not the one "reported"."""
    entry = Rec("v", "李建国", NEIGHBOUR, "M", BORN, "13900000001", area=GRID_A1)
    own = Rec("own", "李建国", OWN, "M", BORN, "13900000001", area=GRID_A1)
    neighbour = Rec("n", "王志强", NEIGHBOUR, "M", BORN, "13900000002", area=GRID_A1)
    links = linkage.link([entry], [neighbour, own])
    assert [(lk.right, lk.auto) for lk in links] == [("own", True)]
    assert "身份证号第 16 位不同" in links[0].why


def test_a_neighbour_with_the_same_name_makes_the_entry_ambiguous():
    """Two 张伟 of one village born a day apart; the entry carries the other's number. Both
    could be linked automatically, so neither is: a person decides, seeing both."""
    own_number = idnumbers.make("230231", dt.date(1990, 6, 14), 40, "M")
    other_number = off_by_one(own_number, 13, "5")  # born 1990-06-15, same sequence
    entry = Rec("v", "张伟", other_number, "M", dt.date(1990, 6, 14), "", area=GRID_A1)
    own = Rec("own", "张伟", own_number, "M", dt.date(1990, 6, 14), "", area=GRID_A1)
    other = Rec("other", "张伟", other_number, "M", dt.date(1990, 6, 15), "", area=GRID_A1)
    links = linkage.link([entry], [own, other])
    assert {lk.right for lk in links} == {"own", "other"}
    assert not any(lk.auto for lk in links)
    assert all("另有相近人员" in lk.why for lk in links)


def test_an_entry_two_records_of_the_other_list_could_be_is_reviewed_with_both():
    """The village typed 张敏 (born 1989) with the number of another 张敏 born 1959; the
    police list has both women. Either could be linked automatically: neither is."""
    young = idnumbers.make("230231", dt.date(1989, 3, 31), 70, "F")
    old = off_by_one(young, 8, "5")  # 1959: the elder 张敏's real number
    police = [
        Rec("elder", "张敏", old, "F", dt.date(1959, 3, 31), "13900000001", area=VILLAGE_A),
        Rec("young", "张敏", young, "F", dt.date(1989, 3, 31), "13900000002", area=VILLAGE_A),
    ]
    entry = Rec("v", "张敏", old, "F", dt.date(1989, 3, 31), "", area=GRID_A1)
    links = linkage.link(police, [entry])
    assert {lk.left for lk in links} == {"elder", "young"}
    assert not any(lk.auto for lk in links)


def test_a_valid_mistyped_number_is_compared_not_taken_for_two_people():
    """Both numbers are valid and differ in one digit; name, birth date, sex, phone and
    group agree: the same person, and the reason names the digit."""
    typed = off_by_one(OWN, 8, "7")  # 1985 typed 1975: still a valid number
    assert idnumbers.is_valid(typed) and typed != OWN
    entry = Rec("v", "李建国", typed, "M", BORN, "13900000001", area=GRID_A1)
    person = Rec("p", "李建国", OWN, "M", BORN, "13900000001", area=GRID_A1)
    (pair,) = linkage.link([entry], [person])
    assert pair.auto and pair.right == "p" and "身份证号第 9 位不同" in pair.why


def test_a_mistyped_number_with_little_else_goes_to_review_naming_the_digit():
    typed = off_by_one(OWN, 8, "7")
    entry = Rec("v", "李建军", typed, "M", None, "", area=GRID_A1)  # one character off too
    person = Rec("p", "李建国", OWN, "M", BORN, "13900000001", area=GRID_A1)
    (pair,) = linkage.link([entry], [person])
    assert not pair.auto and pair.score >= linkage.REVIEW
    assert pair.why.startswith("身份证号第 9 位不同")


def test_two_adjacent_digits_swapped_are_named_in_the_reason():
    typed = swapped(OWN, 14)
    assert idnumbers.is_valid(typed) and typed != OWN
    entry = Rec("v", "李建国", typed, "M", BORN, "13900000001", area=GRID_A1)
    person = Rec("p", "李建国", OWN, "M", BORN, "", area=GRID_A1)
    (pair,) = linkage.link([entry], [person])
    assert pair.auto and "身份证号第 15、16 位颠倒" in pair.why
    assert linkage.id_difference(typed, OWN) == "身份证号第 15、16 位颠倒"
    assert linkage.id_difference(off_by_one(OWN, 8, "7"), OWN) == "身份证号第 9 位不同"
    assert linkage.id_difference(OWN, OWN) == ""


def test_two_valid_numbers_further_apart_are_two_people():
    other = idnumbers.make("230231", dt.date(1985, 3, 14), 317, "M")
    assert linkage.id_edit(OWN[:17], other[:17])[0] == linkage.FAR
    a = Rec(1, "王芳", OWN, "M", BORN, "13912345678")
    b = Rec(2, "王芳", other, "M", BORN, "13912345678")
    assert linkage.link([a], [b]) == []


def test_an_old_15_digit_number_is_the_same_number():
    legacy = OWN[:6] + OWN[8:17]
    entry = Rec("v", "李建国", legacy, "", None, "", area=GRID_A1)
    person = Rec("p", "李建国", OWN, "M", BORN, "", area=GRID_A1)
    (pair,) = linkage.link([entry], [person])
    assert pair.auto and pair.method == "id" and "身份证号相同" in pair.why


def test_look_alike_characters_count_as_the_same_name():
    entry = Rec("v", "刘玉己", "", "F", BORN, "13900000001", area=GRID_A1)
    person = Rec("p", "刘王已", "", "F", BORN, "13900000001", area=GRID_A1)
    (pair,) = linkage.link([entry], [person])
    assert pair.auto and "姓名形近" in pair.why


def test_day_and_month_swapped_is_a_near_birth_date():
    entry = Rec("v", "李建国", "", "M", dt.date(1985, 3, 4), "13900000001", area=GRID_A1)
    person = Rec("p", "李建国", "", "M", dt.date(1985, 4, 3), "13900000001", area=GRID_A1)
    (pair,) = linkage.link([entry], [person])
    assert pair.auto and "出生日期相近" in pair.why


def test_links_stay_inside_the_village_unless_the_scope_is_widened():
    entry = Rec("v", "李建国", OWN, "M", BORN, "13900000001", area=VILLAGE_A)
    elsewhere = Rec("p", "李建国", OWN, "M", BORN, "13900000001", area=VILLAGE_B + "001")
    assert linkage.link([entry], [elsewhere]) == []  # another village of the same township
    (pair,) = linkage.link([entry], [elsewhere], within=linkage.TOWNSHIP)
    assert pair.auto
    other_township = Rec("c", "李建国", OWN, "M", BORN, "13900000001", area=GRID_C1)
    assert linkage.link([entry], [other_township], within=linkage.TOWNSHIP) == []


def test_a_village_level_entry_fits_any_group_of_its_village_at_group_scope():
    entry = Rec("v", "李建国", OWN, "M", BORN, "", area=VILLAGE_A)  # the list names villages
    in_group = Rec("p", "李建国", OWN, "M", BORN, "", area=GRID_A2)
    (pair,) = linkage.link([entry], [in_group], within=linkage.GROUP)
    assert pair.auto
    grouped = Rec("g", "李建国", OWN, "M", BORN, "", area=GRID_A1)  # names another group
    assert linkage.link([grouped], [in_group], within=linkage.GROUP) == []
    assert linkage.link([grouped], [in_group])[0].auto  # the default: the village


def test_similar_offers_the_person_under_a_one_digit_off_number():
    typed = off_by_one(OWN, 8, "7")
    entry = Rec(1, "李建国", typed, "M", BORN, "13900000001", area=GRID_A1)
    pool = [
        Rec("p", "李建国", OWN, "M", BORN, "13900000002", area=GRID_A1),
        Rec("q", "赵四", idnumbers.make("230231", BORN, 99, "F"), "F", BORN, "", area=GRID_A1),
    ]
    (found,) = linkage.similar([entry], pool)
    assert found.right == "p" and "身份证号第 9 位不同" in found.why


# ------------------------------------------------------------------ property

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
DATES = st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31))


def _name(surname: str, given: str) -> str:
    return surname + given


@st.composite
def disagreeing_pairs(draw):
    """Two records whose name (characters, sound, look), sex and birth date all disagree;
    everything else — ID number (the same, one edit away or unrelated), phone, address,
    area — may agree."""
    s1, s2 = draw(st.lists(st.sampled_from(SURNAMES), min_size=2, max_size=2, unique=True))
    g1 = draw(st.text(GIVEN, min_size=1, max_size=2))
    g2 = draw(st.text(GIVEN, min_size=1, max_size=2))
    born1 = draw(DATES)
    born2 = draw(DATES.filter(lambda d: d != born1))
    sex1 = draw(st.sampled_from("MF"))
    sex2 = "F" if sex1 == "M" else "M"
    number = idnumbers.make("230231", born1, draw(st.integers(0, 499)), sex1)
    kind = draw(st.sampled_from(["same", "digit", "swap", "none", "other"]))
    if kind == "same":
        other_number = number
    elif kind == "digit":
        other_number = off_by_one(number, draw(st.integers(6, 16)))
    elif kind == "swap":
        i = draw(st.integers(6, 15))
        other_number = swapped(number, i) if number[i] != number[i + 1] else number
    elif kind == "none":
        other_number = ""
    else:
        other_number = idnumbers.make("230231", born2, draw(st.integers(0, 499)), sex2)
    phone = draw(st.sampled_from(["13900000001", ""]))
    address = draw(st.sampled_from(["富强村第一组12号", ""]))
    a = Rec("a", _name(s1, g1), number, sex1, born1, phone, address, GRID_A1)
    b = Rec("b", _name(s2, g2), other_number, sex2, born2, phone, address, GRID_A1)
    return a, b


@settings(max_examples=300, deadline=None)
@given(disagreeing_pairs())
def test_an_automatic_link_never_joins_records_whose_name_sex_and_birth_date_disagree(pair):
    a, b = pair
    for left, right in ((a, b), (b, a)):
        assert not any(lk.auto for lk in linkage.link([left], [right]))
        assert not any(lk.auto for lk in linkage.similar([left], [right]))
    assert sorted(map(sorted, linkage.cluster([a, b]))) == [["a"], ["b"]]
