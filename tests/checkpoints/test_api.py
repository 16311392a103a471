"""The checkpoints API: denials for every endpoint, jurisdiction, masking, idempotent batches,
vehicles with occupants, risk-area arrivals handed to screening, pass cards at the limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from fangkong.checkpoints import services
from fangkong.checkpoints.models import CodeRule, Finding, Passage
from fangkong.core.roles import Action, Role, actions_for
from tests.conftest import COUNTY, FUQIANG, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db
P = "/checkpoints"


def endpoints(post_id: int, other: int = 1) -> list[tuple[str, str, dict | None, str]]:
    """(method, path, body, action needed) of every endpoint."""
    now = timezone.now().isoformat()
    return [
        ("get", f"{P}/posts", None, Action.CHECKPOINT_VIEW),
        ("get", f"{P}/posts/{post_id}", None, Action.CHECKPOINT_VIEW),
        (
            "post",
            f"{P}/posts/{post_id}/passages",
            {"items": [{"name": "张三"}]},
            Action.CHECKPOINT_LOG,
        ),
        ("post", f"{P}/posts/{post_id}/check", {"name": "张三"}, Action.CHECKPOINT_LOG),
        ("get", f"{P}/passages", None, Action.CHECKPOINT_VIEW),
        ("get", f"{P}/cards", None, Action.CHECKPOINT_VIEW),
        ("post", f"{P}/cards", {"person_id": other}, Action.CHECKPOINT_MANAGE),
        ("get", f"{P}/rosters", None, Action.CHECKPOINT_VIEW),
        (
            "post",
            f"{P}/rosters",
            {"township": FUQIANG, "starts_on": "2026-12-07"},
            Action.CHECKPOINT_MANAGE,
        ),
        ("get", f"{P}/rosters/1", None, Action.CHECKPOINT_VIEW),
        (
            "patch",
            f"{P}/rosters/1",
            {"version": 1, "day": "2026-12-07", "shift": 0, "post_id": post_id},
            Action.CHECKPOINT_MANAGE,
        ),
        ("post", f"{P}/rosters/1/publish", {}, Action.CHECKPOINT_MANAGE),
        ("post", f"{P}/shifts/1/check-in", {}, Action.CHECKPOINT_LOG),
        ("get", f"{P}/inspections", None, Action.CHECKPOINT_VIEW),
        ("post", f"{P}/inspections", {"post_id": post_id, "at": now}, Action.CHECKPOINT_INSPECT),
    ]


def call(api: ApiClient, method: str, path: str, body: dict | None):
    return api.get(path) if method == "get" else getattr(api, method)(path, body)


def test_unauthenticated_gets_401_everywhere(post_a):
    api = ApiClient()
    for method, path, body, _ in endpoints(post_a.pk):
        assert call(api, method, path, body).status_code == 401, (method, path)


@pytest.mark.parametrize("role", [r for r in Role.values])
def test_roles_without_the_action_get_403(role, make_user, post_a):
    user = make_user(role, COUNTY)
    api = ApiClient(user)
    allowed = actions_for(role)
    for method, path, body, action in endpoints(post_a.pk):
        status = call(api, method, path, body).status_code
        if action not in allowed:
            assert status == 403, (role, method, path, status)
        else:
            assert status != 403, (role, method, path, status)
    assert (
        not Passage.objects.filter(name="张三")
        .exclude(
            recorded_by__role__in=[
                r for r in Role.values if Action.CHECKPOINT_LOG in actions_for(r)
            ]
        )
        .exists()
    )


def test_a_post_of_another_village_is_absent(staff, post_c, far_resident):
    api = ApiClient(staff)
    assert api.get(f"{P}/posts/{post_c.pk}").status_code == 404
    body = {"items": [{"person_id": far_resident.pk}]}
    assert api.post(f"{P}/posts/{post_c.pk}/passages", body).status_code == 404
    assert api.post(f"{P}/posts/{post_c.pk}/check", {"name": "x"}).status_code == 404
    assert [p["id"] for p in api.get(f"{P}/posts").json()] == []
    assert not Passage.objects.exists()


def test_a_person_of_another_village_cannot_be_logged_by_id(staff, post_a, far_resident):
    api = ApiClient(staff)
    response = api.post(
        f"{P}/posts/{post_a.pk}/passages", {"items": [{"person_id": far_resident.pk}]}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "person_id"


def test_passages_of_other_villages_are_not_listed(make_user, staff, post_a, post_c, resident):
    township_c = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    services.record_passages(
        actor=township_c, post_id=post_c.pk, items=[services.PassageInput(name="外村人")]
    )
    services.record_passages(
        actor=staff, post_id=post_a.pk, items=[services.PassageInput(person_id=resident.pk)]
    )
    names = [p["name"] for p in ApiClient(staff).get(f"{P}/passages").json()]
    assert names == ["王秀英"]


def test_id_numbers_are_masked_for_checkpoint_staff_and_full_for_the_township(
    staff, township, post_a, resident
):
    services.record_passages(
        actor=staff, post_id=post_a.pk, items=[services.PassageInput(person_id=resident.pk)]
    )
    shown = ApiClient(staff).get(f"{P}/passages").json()[0]["id_number"]
    assert shown != resident.id_number and "*" in shown
    assert ApiClient(township).get(f"{P}/passages").json()[0]["id_number"] == resident.id_number


def test_a_batch_sent_twice_is_stored_once(staff, post_a, resident):
    api = ApiClient(staff)
    body = {
        "items": [
            {"person_id": resident.pk, "client_key": "phone1-0001", "temperature": "36.5"},
            {"name": "过路人", "client_key": "phone1-0002", "code_colour": "yellow"},
        ]
    }
    first = api.post(f"{P}/posts/{post_a.pk}/passages", body)
    assert first.status_code == 201 and first.json()["created"] == 2
    again = api.post(f"{P}/posts/{post_a.pk}/passages", body)
    assert again.status_code == 200 and again.json()["created"] == 0
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in first.json()["items"]]
    assert Passage.objects.count() == 2
    assert first.json()["items"][1]["verdict"] == "restrict"


def test_bad_rows_store_nothing_and_name_the_field(staff, post_a):
    api = ApiClient(staff)
    body = {"items": [{"name": "甲"}, {"kind": "vehicle", "plate": ""}]}
    response = api.post(f"{P}/posts/{post_a.pk}/passages", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "items.1.plate"
    assert not Passage.objects.exists()
    bad = api.post(f"{P}/posts/{post_a.pk}/passages", {"items": [{"name": "a\x00b"}]})
    assert bad.status_code in (400, 422)


def test_code_colours_at_the_post(staff, post_a):
    api = ApiClient(staff)
    verdicts = {
        colour: api.post(
            f"{P}/posts/{post_a.pk}/check", {"name": "甲", "code_colour": colour}
        ).json()["verdict"]
        for colour in ("green", "yellow", "red")
    }
    assert verdicts == {"green": "pass", "yellow": "restrict", "red": "refuse"}
    red = api.post(
        f"{P}/posts/{post_a.pk}/passages", {"items": [{"name": "甲", "code_colour": "red"}]}
    )
    assert red.json()["items"][0]["outcome"] == "turned_back"
    # Rules are data: the table changes the verdict without a code change.
    CodeRule.objects.filter(colour="yellow").update(verdict="refuse")
    services.clear_caches()
    assert (
        api.post(f"{P}/posts/{post_a.pk}/check", {"name": "甲", "code_colour": "yellow"}).json()[
            "verdict"
        ]
        == "refuse"
    )


def test_a_vehicle_with_three_occupants(staff, post_a, make_person):
    people = [make_person(name=n) for n in ("赵一", "钱二")]
    api = ApiClient(staff)
    body = {
        "items": [
            {
                "kind": "vehicle",
                "plate": "黑b·12345",
                "origin": "哈尔滨市",
                "client_key": "v-1",
                "occupants": [
                    {"person_id": people[0].pk, "client_key": "v-1-0"},
                    {"person_id": people[1].pk, "client_key": "v-1-1", "temperature": "38.1"},
                    {"name": "孙三", "client_key": "v-1-2"},
                ],
            }
        ]
    }
    assert api.post(f"{P}/posts/{post_a.pk}/passages", body).status_code == 201
    vehicle = Passage.objects.get(kind="vehicle")
    assert vehicle.plate == "黑B·12345" and vehicle.occupants == 3
    rows = list(vehicle.occupant_rows.order_by("id"))
    assert [r.name for r in rows] == ["赵一", "钱二", "孙三"]
    assert rows[1].verdict == "restrict" and rows[1].outcome == "referred"
    assert all(r.origin == "哈尔滨市" for r in rows)
    api.post(f"{P}/posts/{post_a.pk}/passages", body)
    assert Passage.objects.count() == 4


def test_occupants_sent_as_id_numbers_are_linked_to_the_registry(
    staff, post_a, make_person, far_resident
):
    """A phone's offline queue sends occupants as scanned ID numbers: the API links those
    of the post's jurisdiction, as the page does, and never one of another village."""
    known = make_person(name="周四")
    stranger = "230231199001011234"
    body = {
        "items": [
            {
                "kind": "vehicle",
                "plate": "黑B·54321",
                "client_key": "v-9",
                "occupants": [
                    {"id_number": known.id_number.lower(), "client_key": "v-9-0"},
                    {"id_number": far_resident.id_number, "client_key": "v-9-1"},
                    {"id_number": stranger, "client_key": "v-9-2"},
                ],
            }
        ]
    }
    api = ApiClient(staff)
    assert api.post(f"{P}/posts/{post_a.pk}/passages", body).status_code == 201
    rows = list(Passage.objects.get(kind="vehicle").occupant_rows.order_by("id"))
    assert rows[0].person_id == known.pk and rows[0].name == "周四"
    assert rows[1].person_id is None and rows[1].name == "未登记人员"
    assert rows[2].person_id is None and rows[2].id_number == stranger


def test_arrival_from_a_risk_area_is_flagged_and_handed_to_screening(staff, post_a, resident):
    from django.apps import apps

    risk = apps.get_model("screening", "RiskArea")
    risk.objects.create(
        region_code="420106", place="武汉市武昌区", level="high", valid_from=dt.date.today()
    )
    record = apps.get_model("screening", "SourceRecord")
    api = ApiClient(staff)
    body = {"items": [{"person_id": resident.pk, "origin": "湖北省武汉市武昌区"}]}
    item = api.post(f"{P}/posts/{post_a.pk}/passages", body).json()["items"][0]
    assert item["risk_area"] == "武汉市武昌区" and item["verdict"] == "restrict"
    entry = record.objects.get()
    assert (
        entry.source == "checkpoint"
        and entry.name == "王秀英"
        and entry.region_code == resident.region_code
    )


@freeze_time("2026-12-09 04:00:00")  # Wednesday 12:00 in Shanghai
def test_pass_card_third_outing_passes_fourth_is_refused_and_logged(
    staff, township, post_a, resident
):
    card = ApiClient(township).post(f"{P}/cards", {"person_id": resident.pk})
    assert card.status_code == 201 and card.json()["outings_left"] == 3
    api = ApiClient(staff)
    now = timezone.now()
    outcomes = []
    for minutes in (30, 20, 10, 0):
        at = (now - dt.timedelta(minutes=minutes)).isoformat()
        body = {"items": [{"person_id": resident.pk, "direction": "out", "at": at}]}
        outcomes.append(api.post(f"{P}/posts/{post_a.pk}/passages", body).json()["items"][0])
    assert [o["outcome"] for o in outcomes] == ["passed", "passed", "passed", "turned_back"]
    assert "出入证本周外出次数已用完" in outcomes[3]["reasons"]
    assert Passage.objects.filter(verdict="refuse").count() == 1
    assert api.get(f"{P}/cards").json()[0]["outings_left"] == 0
    # One designated person per household.
    second = ApiClient(township).post(f"{P}/cards", {"person_id": resident.pk})
    assert second.status_code == 400


def test_inspection_records_the_failed_items(inspector, post_a, post_c):
    api = ApiClient(inspector)
    at = (timezone.now() - dt.timedelta(hours=3)).isoformat()
    made = api.post(
        f"{P}/inspections", {"post_id": post_a.pk, "at": at, "awake": False, "note": "睡岗"}
    )
    assert made.status_code == 201
    assert made.json()["failed"] == [str(Finding.AWAKE.label)]
    assert len(api.get(f"{P}/inspections").json()) == 1


def test_inspector_of_one_village_cannot_inspect_another(make_user, post_c):
    api = ApiClient(make_user(Role.INSPECTOR, VILLAGE_A))
    at = timezone.now().isoformat()
    assert api.post(f"{P}/inspections", {"post_id": post_c.pk, "at": at}).status_code == 404
