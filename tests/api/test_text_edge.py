"""Text at the edge: unsafe characters refused with a field, names bounded, keys never
overflow, and no raw database error reaches a user."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError
from django.test import Client

from fangkong.core import names
from fangkong.core.errors import public_message
from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.people.models import Person
from fangkong.screening.models import LedgerImport
from tests.conftest import COUNTY, GRID_A1, VILLAGE_A, new_id_number
from tests.screening.conftest import _immediate_tasks  # noqa: F401 - ledger imports run at once
from tests.screening.test_ledgers import arrival, upload, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


def _api(user) -> Client:
    return Client(
        headers={"Authorization": f"Bearer {ApiToken.issue(user)}"}, raise_request_exception=False
    )


def _post(client: Client, path: str, raw: str):
    return client.post(f"/api/v1{path}", raw, content_type="application/json")


def test_a_long_latin_name_is_stored_with_its_keys_cut_to_the_columns(hq):
    name = "A" * 33
    response = _post(_api(hq), "/persons", json.dumps({"name": name, "region_code": GRID_A1}))
    assert response.status_code == 201, response.content
    person = Person.objects.get(pk=response.json()["id"])
    assert len(person.name_initials) <= 32 and len(person.name_pinyin) <= 128
    assert names.keys("张" * 64)[0] == ("zhang" * 64)[:128]


def test_a_name_over_the_maximum_is_a_field_error(hq):
    response = _post(_api(hq), "/persons", json.dumps({"name": "B" * 65}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "\\ud800"}',
        '{"name": "\\u0000"}',
        '{"name": "张\\u202e伟"}',
        '{"name": "张伟", "phone": "139\\u0007"}',
    ],
)
def test_unsafe_characters_in_json_are_422_naming_the_field(hq, raw):
    response = _post(_api(hq), "/persons", raw)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] in {"name", "phone"}
    assert not Person.objects.exists()


def test_a_surrogate_anywhere_in_a_nested_body_is_refused(hq):
    body = '{"records": [{"name": "ok"}, {"name": "\\udfff"}], "source": "police"}'
    response = _post(_api(hq), "/screening/records", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "records.1.name"


def test_escaped_emoji_pairs_are_still_text(hq):
    raw = json.dumps({"name": "张伟", "region_code": GRID_A1, "category": None})
    response = _post(_api(hq), "/persons", raw.replace("张伟", "\\u5f20\\u4f1f"))
    assert response.status_code == 201
    assert _post(_api(hq), "/persons", '{"name": "\\ud83d\\ude00"}').status_code != 500


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/regions/%00/", 400),
        ("/api/v1/regions/%00", 400),
        ("/persons/?q=%00", 400),
        ("/api/v1/persons?q=%E2%80%AE", 422),  # a query field of the API: 422 naming it
    ],
)
def test_nul_and_controls_in_urls_are_refused(hq, path, status):
    client = Client(raise_request_exception=False)
    client.force_login(hq)
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)


def test_anonymous_personal_link_with_nul_is_400(county):
    response = Client(raise_request_exception=False).get("/quarantine/me/%00/")
    assert response.status_code == 400


def test_direction_overrides_in_web_forms_are_refused(hq):
    client = Client(raise_request_exception=False)
    client.force_login(hq)
    response = client.post("/persons/new/", {"name": "张\u202e伟", "region_code": GRID_A1})
    assert response.status_code == 400
    assert not Person.objects.exists()


def test_names_in_imports_are_checked_row_by_row_and_valid_rows_kept(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    rows = [
        arrival("A" * 33, id_number=new_id_number()),
        arrival("C" * 70, id_number=new_id_number()),
        arrival("王\u202e五", id_number=new_id_number()),
        arrival("李四", id_number=new_id_number()),
    ]
    response = upload(cadre, xlsx(rows), mode="valid")
    assert response.status_code in (200, 201, 202), response.content
    ledger = LedgerImport.objects.get()
    assert ledger.status == LedgerImport.Status.DONE, ledger.message
    assert set(Person.objects.values_list("name", flat=True)) == {"A" * 33, "李四"}
    errors = {(e["row"], e["column"]) for e in ledger.errors}
    assert {(3, "姓名"), (4, "姓名")} <= errors


def test_a_database_error_never_reaches_a_user_as_text():
    exc = DatabaseError(
        'value too long for type character varying(32)\nINSERT INTO "people_person"'
    )
    message = public_message(exc)
    assert "varying" not in message and "INSERT" not in message and "people_person" not in message
