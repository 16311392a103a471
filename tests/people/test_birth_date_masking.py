"""Birth dates are cut to the year wherever the ID number is masked (API, history, export).

A masked ID number ``2302**********0183`` hides the county digits and the birth date; a full
birth date and residence code shown beside it would rebuild the number almost exactly.
"""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from python_calamine import CalamineWorkbook

from fangkong.core import roles
from fangkong.core.masking import present_birth_date
from fangkong.core.roles import Role
from fangkong.screening import ledgers
from tests.conftest import GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


def test_the_helper_keeps_the_year_only_without_the_id_number():
    born = dt.date(1985, 3, 14)
    assert present_birth_date(born, frozenset({"id_number"})) == "1985-03-14"
    assert present_birth_date(born, frozenset({"phone"})) == "1985"
    assert present_birth_date("1985-03-14", frozenset()) == "1985"
    assert present_birth_date(None, frozenset()) is None


def test_person_read_list_and_household_show_only_the_year_to_masked_roles(
    api_as, make_user, make_person
):
    person = make_person(GRID_A1)
    doctor = api_as(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))  # phone only, masked ID
    body = doctor.get(f"/persons/{person.pk}").json()
    assert "*" in body["id_number"] and body["birth_date"] == "1985"
    listed = doctor.get("/persons").json()["items"][0]
    assert listed["birth_date"] == "1985"
    cadre = api_as(make_user(Role.VILLAGE_CADRE, VILLAGE_A))  # full ID number
    assert cadre.get(f"/persons/{person.pk}").json()["birth_date"] == "1985-03-14"


def test_history_masks_old_and_new_birth_dates(api_as, make_user, make_person):
    person = make_person(GRID_A1, id_number=None, birth_date=dt.date(1990, 5, 6))
    cadre = api_as(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    changed = cadre.patch(f"/persons/{person.pk}", {"birth_date": "1991-07-08", "version": 1})
    assert changed.status_code == 200, changed.json()
    inspector = api_as(make_user(Role.INSPECTOR, VILLAGE_A))  # history, masked ID
    items = inspector.get(f"/persons/{person.pk}/history").json()["items"]
    assert items[0]["changes"]["birth_date"] == ["1990", "1991"]
    full = cadre.get(f"/persons/{person.pk}/history").json()["items"]
    assert full[0]["changes"]["birth_date"] == ["1990-05-06", "1991-07-08"]


def test_the_persons_export_cuts_birth_dates_for_masked_roles(make_user, make_person):
    make_person(GRID_A1)
    patched = dict(roles.MATRIX)
    patched[Role.GRID_WORKER] = patched[Role.GRID_WORKER] | {roles.Action.LEDGER_EXPORT}
    worker = make_user(Role.GRID_WORKER, VILLAGE_A)
    with mock.patch.object(roles, "MATRIX", patched):
        content = ledgers.export(user=worker, kind="residents")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    header, row = rows[0], rows[1]
    assert "*" in row[1] and row[header.index("出生日期")] == "1985"
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(ledgers.export(user=cadre, kind="residents")))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert rows[1][header.index("出生日期")] == "1985-03-14"
