"""Resident ID numbers (GB 11643): properties that must hold for every number, and known cases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core import idnumbers
from fangkong.core.idnumbers import IdNumberError

TODAY = dt.date(2026, 1, 15)

# Region codes as they occur on cards: first digit 1–8, never 10xxxx (not a province).
region_codes = st.integers(min_value=110000, max_value=829999).map(str)
births = st.dates(min_value=idnumbers.EARLIEST_BIRTH, max_value=TODAY)
sequences = st.integers(min_value=0, max_value=499)
sexes = st.sampled_from(["M", "F"])
valid_numbers = st.builds(idnumbers.make, region_codes, births, sequences, sexes)


@given(region=region_codes, born=births, sequence=sequences, sex=sexes)
def test_make_then_parse_gives_back_region_birth_and_sex(region, born, sequence, sex):
    number = idnumbers.make(region, born, sequence, sex)
    parsed = idnumbers.parse(number, today=TODAY)
    assert parsed.number == number
    assert (parsed.region_code, parsed.birth_date, parsed.sex) == (region, born, sex)


@given(
    number=valid_numbers,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from("0123456789X"),
)
def test_changing_any_single_character_makes_the_number_invalid(number, position, replacement):
    if replacement == number[position] or (replacement == "X" and position < 17):
        replacement = "0" if number[position] != "0" else "1"
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(IdNumberError):
        idnumbers.parse(changed, today=TODAY)


@given(
    region=region_codes,
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)),
    sequence=sequences,
    sex=sexes,
)
def test_fifteen_digit_number_converts_to_the_eighteen_digit_one(region, born, sequence, sex):
    number = idnumbers.make(region, born, sequence, sex)
    legacy = number[:6] + number[8:17]  # drop the century and the check character
    assert len(legacy) == 15
    assert idnumbers.parse(legacy, today=TODAY).number == number
    with pytest.raises(IdNumberError) as refused:
        idnumbers.parse(legacy, allow_legacy=False, today=TODAY)
    assert refused.value.code == "legacy"


@given(number=valid_numbers)
def test_full_width_digits_spaces_and_lower_case_x_are_normalised(number):
    full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "ｘ" for c in number)
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
    for typed in (full_width, spaced):
        assert idnumbers.normalize(typed) == number
        assert idnumbers.parse(typed, today=TODAY).number == number


@given(number=valid_numbers)
def test_mask_keeps_four_characters_at_each_end(number):
    masked = idnumbers.mask(number)
    assert masked == number[:4] + "*" * 10 + number[-4:]


def test_standard_example_is_valid():
    parsed = idnumbers.parse("11010519491231002X", today=TODAY)
    assert parsed.region_code == "110105"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"  # sequence 002: even
    assert idnumbers.check_char("11010519491231002") == "X"
    assert idnumbers.is_valid("11010519491231002x")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "check_digit"),  # should end in X
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105209912310021", "birth_date"),  # born after today
        ("110105188912310021", "birth_date"),  # before 1890
        ("11010519491231002", "length"),
        ("1101051949123100211", "length"),
        ("11010519491231002A", "characters"),
        ("1101051949123100X2", "characters"),
        ("11010A19491231002X", "characters"),
        ("", "empty"),
        ("   ", "empty"),
        ("11010549123100A", "characters"),  # 15 characters, not all digits
    ],
)
def test_known_invalid_numbers_are_refused_with_the_right_code(raw, code):
    with pytest.raises(IdNumberError) as refused:
        idnumbers.parse(raw, today=TODAY)
    assert refused.value.code == code
    assert refused.value.message


def test_region_that_cannot_exist_is_refused():
    first17 = "10010519491231002"
    with pytest.raises(IdNumberError) as refused:
        idnumbers.parse(first17 + idnumbers.check_char(first17), today=TODAY)
    assert refused.value.code == "region"


def test_legacy_number_with_impossible_date_is_refused():
    with pytest.raises(IdNumberError) as refused:
        idnumbers.parse("110105490230002", today=TODAY)
    assert refused.value.code == "birth_date"


def test_is_valid_refuses_legacy_numbers():
    assert not idnumbers.is_valid("110105491231002")
    assert idnumbers.parse("110105491231002").number == "11010519491231002X"
