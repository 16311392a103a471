"""The persons API: create, read, update, search, pagination, validation, masking, audit, auth."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from fangkong.core import idnumbers, phones
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.people.models import Person, PersonChange
from tests.conftest import GRID_A1, GRID_A2, GRID_B1, VILLAGE_A, new_id_number

from .conftest import ApiClient


def _sensitive_reads(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.READ_SENSITIVE))


# ---- create, read, update --------------------------------------------------------------


def test_create_person_derives_birth_and_sex_and_records_history(hq_api):
    number = new_id_number(sex="F")
    response = hq_api.post(
        "/persons",
        {
            "name": " 李 娜 ",
            "id_number": number.lower(),
            "phone": "+86 139 0000 1111",
            "region_code": GRID_A1,
            "category": "returnee",
            "source": "checkpoint",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "李娜"
    assert body["id_number"] == number
    assert body["phone"] == "13900001111"
    assert (body["sex"], body["birth_date"]) == ("F", "1985-03-14")
    assert (body["category"], body["source"], body["version"]) == ("returnee", "checkpoint", 1)
    assert response["ETag"] == '"1"'
    assert response["Location"] == f"/api/v1/persons/{body['id']}"
    change = PersonChange.objects.get(person_id=body["id"])
    assert change.version == 1 and change.channel == "api"
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.CREATE, object_type="person", object_id=str(body["id"])
    ).exists()


def test_create_without_id_number_and_into_a_household(hq_api, hq_user):
    household = hq_api.post("/households", {"address": "富强村3号", "region_code": GRID_A2})
    assert household.status_code == 201
    response = hq_api.post(
        "/persons", {"name": "王芳", "household_id": household.json()["id"], "sex": "F"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["region_code"] == GRID_A2  # follows the household
    assert body["household_id"] == household.json()["id"]
    assert body["id_number"] == ""


def test_get_person_sets_etag(hq_api, make_person):
    person = make_person()
    response = hq_api.get(f"/persons/{person.pk}")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    for field in (
        "id",
        "name",
        "id_number",
        "phone",
        "sex",
        "birth_date",
        "region_code",
        "household_id",
        "category",
        "version",
        "source",
        "source_file",
        "source_row",
    ):
        assert field in body
    assert body["source"] == "village"


def test_missing_person_is_404(hq_api):
    assert hq_api.get("/persons/999999").status_code == 404
    assert hq_api.get(f"/persons/{2**63 - 1}").status_code == 404
    too_big = hq_api.get(f"/persons/{2**63}")
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["field"] == "person_id"


@pytest.mark.parametrize("if_match", ['"1"', "1", 'W/"1"'])
def test_patch_with_if_match(hq_api, make_person, if_match):
    person = make_person()
    response = hq_api.patch(
        f"/persons/{person.pk}",
        {"phone": "13800001111", "reason": "本人更换号码"},
        **{"If-Match": if_match},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == "13800001111"
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    history = hq_api.get(f"/persons/{person.pk}/history").json()["items"]
    assert history[0]["changes"] == {"phone": ["13912345678", "13800001111"]}
    assert history[0]["reason"] == "本人更换号码"


def test_patch_with_version_in_body(hq_api, make_person):
    person = make_person()
    response = hq_api.patch(f"/persons/{person.pk}", {"category": "floating", "version": 1})
    assert response.status_code == 200
    assert response.json()["category"] == "floating"


def test_patch_without_version_is_428(hq_api, make_person):
    person = make_person()
    response = hq_api.patch(f"/persons/{person.pk}", {"phone": "13800001111"})
    assert response.status_code == 428
    assert response.json()["errors"][0]["field"] == "version"
    assert Person.objects.get(pk=person.pk).phone == "13912345678"


def test_patch_with_stale_version_is_409_with_current_etag(hq_api, make_person):
    person = make_person()
    assert hq_api.patch(f"/persons/{person.pk}", {"name": "张维", "version": 1}).status_code == 200
    stale = hq_api.patch(f"/persons/{person.pk}", {"name": "张卫", "version": 1})
    assert stale.status_code == 409
    assert stale["ETag"] == '"2"'
    assert stale.json()["errors"][0]["field"] == "version"
    assert Person.objects.get(pk=person.pk).name == "张维"


@pytest.mark.parametrize(
    ("headers", "body", "field"),
    [
        ({"If-Match": "*"}, {"name": "张维"}, "If-Match"),
        ({"If-Match": '"1", "2"'}, {"name": "张维"}, "If-Match"),
        ({"If-Match": '"abc"'}, {"name": "张维"}, "If-Match"),
        ({"If-Match": '"2"'}, {"name": "张维", "version": 1}, "version"),
    ],
)
def test_unusable_versions_are_refused_naming_the_field(hq_api, make_person, headers, body, field):
    person = make_person()
    response = hq_api.patch(f"/persons/{person.pk}", body, **headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_patch_that_changes_nothing_keeps_the_version(hq_api, make_person):
    person = make_person()
    response = hq_api.patch(f"/persons/{person.pk}", {"name": "张伟", "version": 1})
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert not PersonChange.objects.filter(person=person).exists()


def test_patch_can_detach_from_household(hq_api, make_person):
    household = hq_api.post("/households", {"address": "富强村5号", "region_code": GRID_A1})
    person = make_person(household_id=household.json()["id"])
    response = hq_api.patch(f"/persons/{person.pk}", {"household_id": None, "version": 1})
    assert response.status_code == 200
    assert response.json()["household_id"] is None


# ---- search and pagination -------------------------------------------------------------


@pytest.fixture
def registry(make_person):
    """A few people with names that share sounds, and distinct phones."""
    people = {}
    for n, (name, grid) in enumerate(
        [
            ("张伟", GRID_A1),
            ("张维", GRID_A2),
            ("张卫东", GRID_B1),
            ("李娜", GRID_A1),
            ("赵伟", GRID_A1),
            ("单雄信", GRID_A2),
        ]
    ):
        people[name] = make_person(grid, name=name, phone=f"1391234{n:04d}")
    return people


def _names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [p["name"] for p in response.json()["items"]]


def test_search_by_chinese_name_prefix(hq_api, registry):
    assert _names(hq_api.get("/persons", {"q": "张伟"})) == ["张伟"]
    assert set(_names(hq_api.get("/persons", {"q": "张"}))) == {"张卫东", "张伟", "张维"}


def test_search_by_pinyin_prefix_and_initials(hq_api, registry):
    assert set(_names(hq_api.get("/persons", {"q": "zhangw"}))) == {"张卫东", "张伟", "张维"}
    assert set(_names(hq_api.get("/persons", {"q": "zhangweid"}))) == {"张卫东"}
    # Initials are a prefix too: zw finds 张伟, 张维, 赵伟 and 张卫东 (zwd).
    assert set(_names(hq_api.get("/persons", {"q": "zw"}))) == {"张伟", "张维", "赵伟", "张卫东"}
    assert set(_names(hq_api.get("/persons", {"q": "ZWD"}))) == {"张卫东"}
    assert _names(hq_api.get("/persons", {"q": "shanx"})) == ["单雄信"]


def test_search_by_id_number_and_phone(hq_api, registry):
    target = registry["李娜"]
    assert _names(hq_api.get("/persons", {"q": target.id_number})) == ["李娜"]
    assert _names(hq_api.get("/persons", {"q": target.id_number.lower()})) == ["李娜"]
    assert _names(hq_api.get("/persons", {"q": target.phone})) == ["李娜"]
    assert _names(hq_api.get("/persons", {"q": "139 1234 0003"})) == ["李娜"]
    assert len(_names(hq_api.get("/persons", {"q": "1391234"}))) == 6


def test_filters(hq_api, registry, make_person):
    make_person(
        GRID_A1, name="外来人", category="floating", source="police", sex="F", id_number=None
    )
    assert _names(hq_api.get("/persons", {"region_code": GRID_B1})) == ["张卫东"]
    assert len(_names(hq_api.get("/persons", {"region_code": VILLAGE_A}))) == 6
    assert _names(hq_api.get("/persons", {"category": "floating"})) == ["外来人"]
    assert _names(hq_api.get("/persons", {"source": "police"})) == ["外来人"]
    assert _names(hq_api.get("/persons", {"sex": "F", "q": "外"})) == ["外来人"]
    bad = hq_api.get("/persons", {"category": "alien", "sex": "X", "limit": 1000})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"category", "sex", "limit"}


def test_filter_by_household(hq_api, make_person):
    household = hq_api.post("/households", {"address": "富强村8号", "region_code": GRID_A1})
    household_id = household.json()["id"]
    make_person(name="户内人", household_id=household_id)
    make_person(name="户外人")
    assert _names(hq_api.get("/persons", {"household_id": household_id})) == ["户内人"]


@pytest.mark.parametrize("q", ["", "zhang", "z", "139", "张"])
def test_cursor_pagination_walks_every_row_exactly_once(hq_api, make_person, q):
    for n in range(11):
        make_person(
            GRID_A1 if n % 2 else GRID_A2,
            name=["张伟", "张维", "张三"][n % 3],
            phone=f"139000{n:05d}",
        )
    expected = set(Person.objects.values_list("id", flat=True))
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        params = {"limit": 3, "with_count": "true", "q": q}
        if cursor:
            params["cursor"] = cursor
        body = hq_api.get("/persons", params).json()
        assert body["count"] == 11
        seen += [p["id"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 11
    assert set(seen) == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'["abc"]').decode(),
        base64.urlsafe_b64encode(b"[18446744073709551616]").decode(),
        base64.urlsafe_b64encode(json.dumps([{"id": 1}]).encode()).decode(),
    ],
)
def test_forged_cursor_is_400_naming_cursor(hq_api, registry, cursor):
    response = hq_api.get("/persons", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_forged_cursor_for_a_text_ordering_is_400(hq_api, registry):
    cursor = base64.urlsafe_b64encode(json.dumps(["zh\x00", 1]).encode()).decode()
    response = hq_api.get("/persons", {"q": "zhang", "cursor": cursor})
    assert response.status_code == 400


# ---- validation ------------------------------------------------------------------------


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_bad_check_digit_is_400_naming_id_number(hq_api):
    number = new_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = hq_api.post("/persons", {"name": "张伟", "id_number": wrong, "region_code": GRID_A1})
    assert response.status_code == 400
    assert _fields(response) == {"id_number"}
    assert not Person.objects.exists()


def test_bad_phone_is_400_naming_phone(hq_api):
    response = hq_api.post("/persons", {"name": "张伟", "phone": "12345", "region_code": GRID_A1})
    assert response.status_code == 400
    assert _fields(response) == {"phone"}


def test_several_bad_fields_are_all_named(hq_api):
    response = hq_api.post(
        "/persons",
        {"name": "张伟", "id_number": "110105194902300021", "phone": "1", "region_code": "2302"},
    )
    assert response.status_code == 400
    assert _fields(response) == {"id_number", "phone", "region_code"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "张\x00伟"}, "name"),
        ({"name": "张伟", "phone": "139\x0012345678"}, "phone"),
        ({"name": "张伟", "id_number": "\x00"}, "id_number"),
        ({"name": "张" * 65}, "name"),
        ({"name": ""}, "name"),
        ({"name": "张伟", "id_number": "1" * 33}, "id_number"),
        ({"name": "张伟", "birth_date": 0}, "birth_date"),
        ({"name": "张伟", "birth_date": "19850314"}, "birth_date"),
        ({"name": "张伟", "birth_date": "1985-02-30"}, "birth_date"),
        ({"name": "张伟", "household_id": "1"}, "household_id"),
        ({"name": "张伟", "household_id": 2**63}, "household_id"),
        ({"name": "张伟", "region_code": "23023110620100\x00"}, "region_code"),
        ({"name": "张伟", "region_code": "2302311062010010"}, "region_code"),
        ({"name": "张伟", "sex": "X"}, "sex"),
        ({"name": "张伟", "source": "rumour"}, "source"),
        ({"id_number": "11010519491231002X"}, "name"),
    ],
)
def test_schema_errors_are_422_naming_the_field(hq_api, body, field):
    body = {"region_code": GRID_A1, **body}
    response = hq_api.post("/persons", body)
    assert response.status_code == 422, response.json()
    assert field in _fields(response)
    assert not Person.objects.exists()


def test_nul_byte_in_patch_and_search_is_422(hq_api, make_person):
    person = make_person()
    response = hq_api.patch(f"/persons/{person.pk}", {"name": "张\x00", "version": 1})
    assert response.status_code == 422
    assert _fields(response) == {"name"}
    search = hq_api.get("/persons", {"q": "张\x00"})
    assert search.status_code == 422
    assert _fields(search) == {"q"}


def test_version_must_be_a_positive_integer(hq_api, make_person):
    person = make_person()
    for version in ("1", 0, 2**31, True):
        response = hq_api.patch(f"/persons/{person.pk}", {"name": "张维", "version": version})
        assert response.status_code == 422, version
        assert _fields(response) == {"version"}


def test_birth_date_and_sex_must_agree_with_the_id_number(hq_api):
    response = hq_api.post(
        "/persons",
        {
            "name": "张伟",
            "id_number": new_id_number(sex="M"),
            "sex": "F",
            "birth_date": "1990-01-01",
            "region_code": GRID_A1,
        },
    )
    assert response.status_code == 400
    assert _fields(response) == {"sex", "birth_date"}


def test_region_must_be_a_village_or_grid(hq_api):
    response = hq_api.post("/persons", {"name": "张伟", "region_code": "230231106"})
    assert response.status_code == 400
    assert _fields(response) == {"region_code"}


# ---- masking and audit -----------------------------------------------------------------


@pytest.fixture
def person_a(make_person):
    return make_person(GRID_A1, name="张伟", phone="13912345678")


ROLE_VIEWS = {
    # role: (sees full ID number, sees full phone)
    Role.COUNTY_HQ: (True, True),
    Role.VILLAGE_CADRE: (True, True),
    Role.INVESTIGATOR: (True, True),
    Role.GRID_WORKER: (False, True),
    Role.VILLAGE_DOCTOR: (False, True),
    Role.CHECKPOINT_STAFF: (False, False),
    Role.TESTING_STAFF: (False, False),
    Role.INSPECTOR: (False, False),
    Role.ADMIN: (False, False),
}


@pytest.mark.parametrize(("role", "sees"), ROLE_VIEWS.items())
def test_masking_per_role_in_list_detail_search_and_household(
    make_user, person_a, role, sees, hq_api
):
    household = hq_api.post("/households", {"address": "富强村1号", "region_code": GRID_A1})
    Person.objects.filter(pk=person_a.pk).update(household_id=household.json()["id"])
    api = ApiClient(make_user(role, VILLAGE_A))
    full_id, full_phone = sees
    want_id = person_a.id_number if full_id else idnumbers.mask(person_a.id_number)
    want_phone = person_a.phone if full_phone else phones.mask(person_a.phone)
    shown = [
        api.get(f"/persons/{person_a.pk}").json(),
        api.get("/persons").json()["items"][0],
        api.get("/persons", {"q": "zhangw"}).json()["items"][0],
        api.get("/persons", {"q": person_a.id_number}).json()["items"][0],
        api.get(f"/households/{household.json()['id']}").json()["members"][0],
    ]
    for person in shown:
        assert person["id_number"] == want_id
        assert person["phone"] == want_phone
    if not full_id:
        assert want_id.startswith("2302") and "*" in want_id
    reads = _sensitive_reads(api.user)
    if full_id or full_phone:
        assert len(reads) == len(shown)
        assert all(r.object_id == str(person_a.pk) and r.channel == "api" for r in reads)
        assert reads[0].fields == sorted(
            f for f, full in (("id_number", full_id), ("phone", full_phone)) if full
        )
    else:
        assert reads == []


def test_grid_worker_sees_masked_id_and_full_phone(make_user, person_a):
    api = ApiClient(make_user(Role.GRID_WORKER, VILLAGE_A))
    body = api.get(f"/persons/{person_a.pk}").json()
    assert body["id_number"] == person_a.id_number[:4] + "**********" + person_a.id_number[-4:]
    assert body["phone"] == "13912345678"


def test_checkpoint_staff_sees_both_masked(make_user, person_a):
    api = ApiClient(make_user(Role.CHECKPOINT_STAFF, VILLAGE_A))
    body = api.get(f"/persons/{person_a.pk}").json()
    assert body["id_number"] == idnumbers.mask(person_a.id_number)
    assert body["phone"] == "139****5678"
    assert _sensitive_reads(api.user) == []


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.COUNTY_HQ, (True, True)),
        (Role.GRID_WORKER, (False, True)),
        (Role.INSPECTOR, (False, False)),
    ],
)
def test_history_is_masked_per_role_and_audited(make_user, hq_api, role, sees):
    old_id, new_id = new_id_number(), new_id_number()
    created = hq_api.post(
        "/persons",
        {"name": "张伟", "id_number": old_id, "phone": "13912345678", "region_code": GRID_A1},
    ).json()
    hq_api.patch(
        f"/persons/{created['id']}",
        {"id_number": new_id, "phone": "13800001111", "version": 1},
    )
    api = ApiClient(make_user(role, VILLAGE_A))
    response = api.get(f"/persons/{created['id']}/history")
    assert response.status_code == 200
    latest, first = response.json()["items"]
    full_id, full_phone = sees
    assert latest["changes"]["id_number"] == (
        [old_id, new_id] if full_id else [idnumbers.mask(old_id), idnumbers.mask(new_id)]
    )
    assert latest["changes"]["phone"] == (
        ["13912345678", "13800001111"] if full_phone else ["139****5678", "138****1111"]
    )
    assert first["changes"]["name"] == [None, "张伟"]
    reads = _sensitive_reads(api.user)
    assert len(reads) == (1 if (full_id or full_phone) else 0)


def test_duplicate_id_error_shows_the_masked_number(make_user, person_a):
    api = ApiClient(make_user(Role.GRID_WORKER, VILLAGE_A))
    response = api.post(
        "/persons", {"name": "张伟", "id_number": person_a.id_number, "region_code": GRID_A1}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert person_a.id_number not in text
    assert idnumbers.mask(person_a.id_number) in text
    assert response.json()["errors"][0]["field"] == "id_number"


def test_duplicate_id_on_update_shows_the_masked_number(hq_api, make_person, person_a):
    other = make_person(name="李娜")
    response = hq_api.patch(f"/persons/{other.pk}", {"id_number": person_a.id_number, "version": 1})
    assert response.status_code == 400
    assert person_a.id_number not in response.content.decode()
    assert idnumbers.mask(person_a.id_number) in response.content.decode()


# ---- authentication --------------------------------------------------------------------


def test_token_login_and_bearer_use(make_user, person_a):
    user = make_user(Role.VILLAGE_CADRE, VILLAGE_A, password="s3cret-Pass")
    client = Client()
    response = client.post(
        "/api/v1/auth/token",
        {"username": user.username, "password": "s3cret-Pass"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["token_type"] == "Bearer"
    authed = client.get("/api/v1/persons", headers={"Authorization": f"Bearer {token}"})
    assert authed.status_code == 200
    assert [p["id"] for p in authed.json()["items"]] == [person_a.pk]
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.LOGIN).exists()


def test_without_credentials_or_with_a_bad_token_is_401(person_a):
    client = Client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get(f"/api/v1/persons/{person_a.pk}", headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"]
    assert client.get("/api/v1/regions").status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_is_401_and_nul_in_username_is_422(make_user):
    user = make_user(Role.VILLAGE_CADRE, VILLAGE_A, password="s3cret-Pass")
    client = Client()
    wrong = client.post(
        "/api/v1/auth/token",
        {"username": user.username, "password": "wrong"},
        content_type="application/json",
    )
    assert wrong.status_code == 401
    nul = client.post(
        "/api/v1/auth/token",
        {"username": "a\x00b", "password": "x"},
        content_type="application/json",
    )
    assert nul.status_code == 422
    assert {e["field"] for e in nul.json()["errors"]} == {"username"}


def test_login_throttle_refuses_even_the_right_password_after_five_failures(make_user):
    user = make_user(Role.VILLAGE_CADRE, VILLAGE_A, password="s3cret-Pass")
    client = Client()

    def attempt(password: str):
        return client.post(
            "/api/v1/auth/token",
            {"username": user.username, "password": password},
            content_type="application/json",
        )

    for _ in range(5):
        assert attempt("wrong").status_code == 401
    refused = attempt("s3cret-Pass")
    assert refused.status_code == 429
    assert refused.json()["detail"]


def test_session_auth_reads_and_requires_csrf_for_writes(make_user, person_a):
    user = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.get(f"/api/v1/persons/{person_a.pk}")
    assert response.status_code == 200
    reads = _sensitive_reads(user)
    assert reads and reads[0].channel == "web"
    refused = client.post(
        "/api/v1/persons",
        {"name": "张伟", "region_code": GRID_A1},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert not Person.objects.filter(source="manual").exists()


def test_inactive_users_token_stops_working(make_user, person_a):
    user = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    api = ApiClient(user)
    assert api.get("/persons").status_code == 200
    user.is_active = False
    user.save()
    assert api.get("/persons").status_code == 401


# ---- idempotency -----------------------------------------------------------------------


def test_retry_with_the_same_key_returns_the_first_answer(hq_api):
    body = {"name": "张伟", "id_number": new_id_number(), "region_code": GRID_A1}
    first = hq_api.post("/persons", body, **{"Idempotency-Key": "8b7f-retry-1"})
    again = hq_api.post("/persons", body, **{"Idempotency-Key": "8b7f-retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Person.objects.count() == 1
    assert PersonChange.objects.count() == 1


def test_same_key_with_a_different_body_is_422(hq_api):
    key = {"Idempotency-Key": "key-2"}
    assert (
        hq_api.post("/persons", {"name": "张伟", "region_code": GRID_A1}, **key).status_code == 201
    )
    other = hq_api.post("/persons", {"name": "李娜", "region_code": GRID_A1}, **key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Person.objects.count() == 1


def test_keys_belong_to_one_user(make_user):
    one = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    two = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    body = {"name": "张伟", "region_code": GRID_A1}
    a = one.post("/persons", body, **{"Idempotency-Key": "shared"})
    b = two.post("/persons", body, **{"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_a_failed_create_stores_nothing_so_the_retry_runs_again(hq_api):
    key = {"Idempotency-Key": "after-fix"}
    bad = hq_api.post("/persons", {"name": "张伟", "phone": "1", "region_code": GRID_A1}, **key)
    assert bad.status_code == 400
    fixed = hq_api.post("/persons", {"name": "张伟", "phone": "1", "region_code": GRID_A1}, **key)
    assert fixed.status_code == 400  # same mistake, same answer, still nothing stored
    good = hq_api.post("/persons", {"name": "张伟", "region_code": GRID_A1}, **key)
    assert good.status_code == 201


@pytest.mark.parametrize("key", ["", "has space", "中文键", "k" * 101])
def test_malformed_keys_are_422(hq_api, key):
    response = hq_api.post(
        "/persons", {"name": "张伟", "region_code": GRID_A1}, **{"Idempotency-Key": key}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Person.objects.exists()


def test_replayed_unmasked_answer_is_audited_again(hq_api, hq_user):
    body = {"name": "张伟", "id_number": new_id_number(), "region_code": GRID_A1}
    hq_api.post("/persons", body, **{"Idempotency-Key": "audit-me"})
    before = len(_sensitive_reads(hq_user))
    hq_api.post("/persons", body, **{"Idempotency-Key": "audit-me"})
    assert len(_sensitive_reads(hq_user)) == before + 1


def test_replay_shows_the_record_as_it_is_now_for_the_user_as_they_are_now(hq_api, hq_user):
    body = {"name": "张伟", "id_number": new_id_number(), "region_code": GRID_A1}
    key = {"Idempotency-Key": "now"}
    first = hq_api.post("/persons", body, **key).json()
    hq_api.patch(f"/persons/{first['id']}", {"category": "returnee", "version": 1})
    hq_user.role = Role.CHECKPOINT_STAFF
    hq_user.save()
    again = hq_api.post("/persons", body, **key)
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert (again.json()["version"], again.json()["category"]) == (2, "returnee")
    assert again.json()["id_number"] == idnumbers.mask(body["id_number"])
