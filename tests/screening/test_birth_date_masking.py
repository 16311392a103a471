"""Birth dates cut to the year wherever the ID number is masked, in screening's API
(candidate pairs, unregistered groups) as on its pages (issue 11: a masked ID number
rebuilt from the birth date and the region code shown beside it)."""

from __future__ import annotations

import datetime as dt

from fangkong.core.roles import Role
from fangkong.screening import reconciliation
from fangkong.screening.reconciliation import RecordInput
from tests.conftest import GRID_A1, VILLAGE_A
from tests.people.conftest import ApiClient

from .test_review_pages import pair  # noqa: F401  (fixture)

BORN = dt.date(1992, 2, 2)


def _get(user, path):
    answer = ApiClient(user).client.get(f"/api/v1/screening{path}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_candidate_pairs_through_the_api(pair, make_user):  # noqa: F811
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)  # masked ID numbers
    (item,) = _get(doctor, "/candidates")
    assert item["record"]["birth_date"] == "1992"
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    (item,) = _get(cadre, "/candidates")
    assert item["record"]["birth_date"] == "1992-02-02"


def test_unregistered_groups_through_the_api_and_the_presenter(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    reconciliation.add_records(
        user=cadre,
        source="police",
        records=[RecordInput("钱多多", GRID_A1, dt.date(2022, 1, 5), sex="M", birth_date=BORN)],
    )
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    villages = _get(doctor, "/unregistered")
    records = [r for v in villages for g in v["groups"] for r in g["records"]]
    assert records and all(r["birth_date"] == "1992" for r in records)
    groups = reconciliation.unregistered(doctor, region_code=VILLAGE_A)
    shown = reconciliation.present_groups(doctor, groups, channel="web")
    for village in shown:
        for group in village["groups"]:
            assert group["birth_date"] in ("1992", None)
            assert all(r["birth_date"] == "1992" for r in group["records"])
    full = _get(cadre, "/unregistered")
    assert all(
        r["birth_date"] == "1992-02-02" for v in full for g in v["groups"] for r in g["records"]
    )


def test_the_pair_presenter_carries_no_full_date_for_masked_roles(pair, make_user):  # noqa: F811
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    (item,) = reconciliation.present_pairs(doctor, [pair], channel="web")
    assert item["record"]["birth_date"] == "1992" and item["person"]["birth_date"] == "1992"
    assert item["agree"]["birth_date"]  # compared on the full dates, shown as years
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    (item,) = reconciliation.present_pairs(cadre, [pair], channel="web")
    assert item["record"]["birth_date"] == "1992-02-02"
