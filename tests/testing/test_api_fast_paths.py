"""The API's fast paths keep the contract: the device endpoint's quick validation of scans
accepts exactly what the ``ScanIn`` model accepts, with the same values, and leaves every
refusal (and its message) to the model; coverage, rendered without ninja, is a valid
``CoverageOut``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fangkong.testing.api import _SCANS, CoverageOut, ScanBatchIn, _scan_rows, _scan_rows_quickly
from fangkong.testing.ingest import ScanRow


def via_model(value) -> list[ScanRow]:
    return [
        ScanRow(
            device_sample_id=s.device_sample_id,
            tube=s.tube,
            sampled_at=s.sampled_at,
            id_number=s.id_number,
            registration_code=s.registration_code,
            capacity=s.capacity,
            point_id=s.point_id,
            retest=s.retest,
        )
        for s in _SCANS.validate_python(value)
    ]


def text(alphabet: str, lo: int, hi: int):
    return st.text(st.sampled_from(alphabet), min_size=lo, max_size=hi)


DIGITS = "0123456789"
ALNUM = DIGITS + "abcxyzABCXYZ"
times = st.one_of(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [
                None,
                dt.UTC,
                dt.timezone(dt.timedelta(hours=8)),
                dt.timezone(-dt.timedelta(hours=5, minutes=30)),
            ]
        ),
    ).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat().replace("+00:00", "Z") + "Z"),
    st.builds(
        lambda d, frac, tz: d.strftime("%Y-%m-%dT%H:%M:%S") + frac + tz,
        st.datetimes(min_value=dt.datetime(2000, 1, 1)),
        st.sampled_from(["", ".5", ".12", ".1234", ".123456", ".1234567"]),
        st.sampled_from(["", "Z", "+08:00", "-00:00", "+23:59", "+24:00", "+0800", "z"]),
    ),
    st.sampled_from(
        [
            "2026-11-25 08:00:00",
            "2026-11-25T24:00:00",
            "2026-02-30T08:00:00",
            "2026-11-25",
            "2026-11-25T08:00",
            "20261125T080000",
            "2026-11-25T08:00:60",
            "0000-01-01T00:00:00",
            "2026-11-25T08:00:00\n",
            "１９９９-01-01T00:00:00",
            "",
        ]
    ),
    st.integers(),
    st.none(),
)
scans = st.fixed_dictionaries(
    {
        "device_sample_id": st.one_of(
            text("ab-!~" + DIGITS, 0, 66), st.just("a\x00"), st.just("é"), st.integers()
        ),
        "tube": st.one_of(text(ALNUM + "-", 0, 34), st.just("T 1"), st.just("T1\n")),
        "sampled_at": times,
    },
    optional={
        "id_number": st.one_of(st.none(), text(DIGITS + "xX", 14, 19), st.integers()),
        "registration_code": st.one_of(st.none(), text(ALNUM, 9, 11)),
        "capacity": st.one_of(st.none(), st.sampled_from([0, 1, 10, 20, 30, True, 10.0, "10"])),
        "point_id": st.one_of(
            st.none(), st.integers(-1, 3), st.just(2**63), st.just(True), st.just("5")
        ),
        "retest": st.one_of(st.booleans(), st.none(), st.just(1), st.just("true")),
        "extra": st.integers(),
    },
)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(batch=st.lists(scans, min_size=1, max_size=3))
def test_the_quick_path_accepts_only_what_the_model_accepts_with_the_same_values(batch):
    quick = _scan_rows_quickly(batch)
    try:
        expected = via_model(batch)
    except ValidationError:
        assert quick is None
        return
    if quick is not None:
        assert quick == expected
        for mine, theirs in zip(quick, expected, strict=True):
            assert mine.sampled_at.utcoffset() == theirs.sampled_at.utcoffset()


def test_well_formed_batches_take_the_quick_path():
    batch = [
        {
            "device_sample_id": "dev-1",
            "id_number": "23023119850314001x",
            "tube": "b-1",
            "capacity": 10,
            "sampled_at": "2026-11-25T08:00:00.123+08:00",
            "point_id": 3,
        },
        {
            "device_sample_id": "dev-2",
            "registration_code": "abcde12345",
            "tube": "S1",
            "capacity": 1,
            "sampled_at": "2026-11-25T08:00:00",
            "retest": True,
        },
    ]
    quick = _scan_rows_quickly(batch)
    assert quick is not None and quick == via_model(batch)
    assert quick[0].id_number == "23023119850314001X" and quick[0].tube == "B-1"
    assert quick[1].registration_code == "ABCDE12345" and quick[1].sampled_at.tzinfo


def test_refusals_keep_the_model_s_fields_and_messages():
    bad = {
        "samples": [
            {"device_sample_id": "a", "tube": "T\x00", "sampled_at": 0},
            {
                "device_sample_id": "b",
                "tube": "T1",
                "id_number": "230231198503140011",
                "registration_code": "ABCDE12345",
                "sampled_at": "2026-11-25T08:00:00",
            },
        ]
    }
    with pytest.raises(ValidationError) as ours:
        ScanBatchIn.model_validate(bad)
    with pytest.raises(ValidationError) as model:
        _SCANS.validate_python(bad["samples"])
    assert [(e["loc"], e["msg"]) for e in ours.value.errors()] == [
        (("samples", *e["loc"]), e["msg"]) for e in model.value.errors()
    ]
    with pytest.raises(ValidationError, match="at least 1 item"):
        _scan_rows([])


def test_coverage_answers_a_valid_coverage_out(round_, hq, people, pooled):
    from fangkong.testing import services
    from tests.conftest import COUNTY, GRID_A1
    from tests.people.conftest import ApiClient

    persons = people(3)
    pooled(persons[:2], "POOL-1")
    services.exempt_person(user=hq, campaign_id=round_.pk, person_id=persons[2].pk, reason="away")
    client = ApiClient(hq)
    for query in ("", "?by=grid", f"?region={GRID_A1}", f"?region={COUNTY}"):
        response = client.get(f"/testing/campaigns/{round_.pk}/coverage{query}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        answer = CoverageOut.model_validate_json(response.content)
        assert answer.model_dump() == response.json()
        assert (answer.total.tested, answer.total.exempt, answer.total.should_test) == (2, 1, 2)
