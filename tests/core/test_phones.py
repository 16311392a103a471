"""Mainland phone numbers: accepted forms, canonical output, refusals and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core import phones
from fangkong.core.phones import PhoneError


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("0452-1234567", "0452-1234567"),
        ("04521234567", "0452-1234567"),
        ("(0452)1234567", "0452-1234567"),
        ("010-12345678", "010-12345678"),
        ("01023456789", "010-23456789"),
    ],
)
def test_accepted_forms_become_canonical(raw, canonical):
    assert phones.normalize(raw) == canonical
    assert phones.is_valid(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "1391234567", "139123456789", "12912345678", "23912345678", "0452-123", "abc"],
)
def test_invalid_numbers_are_refused_with_a_message(raw):
    with pytest.raises(PhoneError) as refused:
        phones.normalize(raw)
    assert refused.value.message
    assert not phones.is_valid(raw)


@given(second=st.sampled_from("3456789"), rest=st.text("0123456789", min_size=9, max_size=9))
def test_every_mobile_number_is_its_own_canonical_form(second, rest):
    number = "1" + second + rest
    assert phones.normalize(number) == number
    assert phones.normalize(f"+86 {number[:3]} {number[3:7]} {number[7:]}") == number


def test_mask_keeps_first_three_and_last_four():
    assert phones.mask("13912345678") == "139****5678"
    assert phones.mask("0452-1234567") == "045*****4567"
    assert phones.mask("") == ""
    assert phones.mask(None) == ""
