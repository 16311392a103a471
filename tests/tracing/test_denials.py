"""Denials for every tracing endpoint, API and pages: unauthenticated → 401 (pages: to the
login), a role without the action → 403 whatever the object, and for roles that may act,
village C's records are absent to a user of village A (404) and never listed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.core.roles import Action, Role, actions_for
from fangkong.tracing import services
from fangkong.tracing.models import Case, Notice, TracingTask
from tests.conftest import GRID_A1, GRID_B1, GRID_C1, VILLAGE_A, VILLAGE_B, VILLAGE_C
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db
A = Action


@pytest.fixture
def world_c(make_user, make_person):
    """A confirmed case of village C with a contact, an event, a task and a notice to B."""
    investigator_c = make_user(Role.INVESTIGATOR, VILLAGE_C)
    patient = make_person(GRID_C1, "周杰")
    contact = make_person(GRID_C1, "吴磊")
    mine = make_person(GRID_A1, "郑爽")
    case = services.record_case(
        user=investigator_c,
        data=services.CaseInput(
            status="confirmed",
            person_id=patient.pk,
            onset_date=dt.date.today() - dt.timedelta(days=2),
        ),
    )
    services.record_contact(
        user=investigator_c, case_id=case.pk, exposure_type="meal", contact_person_id=contact.pk
    )
    start = timezone.now() - dt.timedelta(hours=5)
    event = services.record_event(
        user=investigator_c,
        data=services.EventInput(
            kind="funeral",
            title="丧事",
            place="东升社区",
            starts_at=start,
            ends_at=start,
            region_code=VILLAGE_C,
        ),
    )
    notice = services.record_contact(
        user=investigator_c,
        case_id=case.pk,
        exposure_type="work",
        elsewhere=services.ElsewhereContact(name="冯巩", region_code=VILLAGE_B),
    ).notice
    return {
        "case": case,
        "event": event,
        "notice": notice,
        "mine": mine,
        "task": TracingTask.objects.get(person=contact),
        "contact": contact,
    }


def endpoints(w):
    """(method, path, body, action, expected answer inside the role's rights)."""
    c, e, n, t = w["case"].pk, w["event"].pk, w["notice"].pk, w["task"].pk
    now = timezone.now().isoformat()
    return [
        ("get", f"/tracing/cases/{c}", None, A.TRACING_VIEW, 404),
        ("get", f"/tracing/cases/{c}/contacts", None, A.TRACING_VIEW, 404),
        (
            "post",
            f"/tracing/cases/{c}/status",
            {"status": "excluded", "version": 1},
            A.TRACING_INVESTIGATE,
            404,
        ),
        (
            "post",
            f"/tracing/cases/{c}/timeline",
            {"starts_at": now, "place": "x"},
            A.TRACING_INVESTIGATE,
            404,
        ),
        (
            "post",
            f"/tracing/cases/{c}/contacts",
            {"exposure_type": "meal", "contact_person_id": w["mine"].pk},
            A.TRACING_INVESTIGATE,
            404,
        ),
        ("post", f"/tracing/cases/{c}/assign", {"investigator_id": 1}, A.TRACING_MANAGE, 404),
        (
            "post",
            "/tracing/cases",
            {"status": "confirmed", "person_id": w["contact"].pk},
            A.TRACING_INVESTIGATE,
            404,
        ),
        (
            "post",
            "/tracing/events",
            {
                "kind": "dinner",
                "title": "x",
                "place": "x",
                "region_code": VILLAGE_C,
                "starts_at": now,
                "ends_at": now,
            },
            A.TRACING_INVESTIGATE,
            400,
        ),
        (
            "post",
            f"/tracing/events/{e}/attendees",
            {"attendees": [{"person_id": w["mine"].pk}]},
            A.TRACING_INVESTIGATE,
            404,
        ),
        ("post", f"/tracing/tasks/{t}/reached", {}, A.TRACING_REACH, 404),
        ("get", f"/tracing/notices/{n}", None, A.TRACING_VIEW, 404),
        ("post", f"/tracing/notices/{n}/receive", {}, A.TRACING_NOTICES, 404),
        (
            "post",
            f"/tracing/notices/{n}/accept",
            {"person_id": w["mine"].pk},
            A.TRACING_NOTICES,
            404,
        ),
        ("post", f"/tracing/notices/{n}/result", {"result": "x"}, A.TRACING_NOTICES, 404),
        ("post", "/tracing/teams", {"name": "x", "region_code": VILLAGE_C}, A.TRACING_MANAGE, 400),
        # Lists: allowed, and empty of village C.
        ("get", "/tracing/cases", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/events/attack-rates", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/unreached", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/notices?box=in", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/notices?box=out", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/chains", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/chains.xlsx", None, A.TRACING_EXPORT, 200),
        ("get", "/tracing/teams", None, A.TRACING_VIEW, 200),
        ("get", "/tracing/workload", None, A.TRACING_VIEW, 200),
    ]


def test_unauthenticated_gets_401_everywhere(world_c):
    api = ApiClient()
    for method, path, body, _action, _inside in endpoints(world_c):
        response = api.get(path) if method == "get" else api.post(path, body)
        assert response.status_code == 401, (method, path)
    upload = Client().post("/api/v1/tracing/imports", {"region_code": VILLAGE_A})
    assert upload.status_code == 401


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_of_village_a_against_village_c(role, make_user, world_c):
    user = make_user(role, VILLAGE_A)
    api = ApiClient(user)
    rights = actions_for(role)
    for method, path, body, action, inside in endpoints(world_c):
        response = api.get(path) if method == "get" else api.post(path, body)
        expected = inside if action in rights else 403
        assert response.status_code == expected, (role, method, path, response.content[:200])
        if response.status_code == 200 and path.endswith(("/cases", "/unreached", "/chains")):
            text = response.content.decode()
            assert "周杰" not in text and "吴磊" not in text
    # Nothing of village C changed.
    assert Case.objects.get().status == "confirmed"
    assert Notice.objects.get().status == "sent"
    assert TracingTask.objects.get(person=world_c["contact"]).status == "open"


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_import_endpoint(role, make_user):
    user = make_user(role, VILLAGE_A)
    api = ApiClient(user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("list.csv", "病例编号,区划代码\nX1,\n".encode())
    response = api.client.post(
        "/api/v1/tracing/imports", {"region_code": VILLAGE_C, "file": upload}
    )
    expected = 400 if A.TRACING_MANAGE in actions_for(role) else 403
    assert response.status_code == expected


PAGES = [
    ("tracing:home", None, A.TRACING_VIEW),
    ("tracing:chains", None, A.TRACING_VIEW),
    ("tracing:notices", None, A.TRACING_VIEW),
    ("tracing:case_new", None, A.TRACING_INVESTIGATE),
    ("tracing:event_new", None, A.TRACING_INVESTIGATE),
    ("tracing:import", None, A.TRACING_MANAGE),
    ("tracing:chains_xlsx", None, A.TRACING_EXPORT),
    ("tracing:case_detail", "case", A.TRACING_VIEW),
    ("tracing:notice_detail", "notice", A.TRACING_VIEW),
]


@pytest.mark.parametrize(
    "role",
    [Role.INVESTIGATOR, Role.GRID_WORKER, Role.SUPPLY_OFFICER, Role.COUNTY_HQ],
    ids=lambda r: r.value,
)
def test_pages(role, make_user, world_c):
    from django.urls import reverse

    client = Client()
    client.force_login(make_user(role, VILLAGE_A))
    anonymous = Client()
    for name, arg, action in PAGES:
        url = reverse(name, args=[world_c[arg].pk] if arg else [])
        assert anonymous.get(url).status_code == 302
        expected = 403 if action not in actions_for(role) else (404 if arg else 200)
        assert client.get(url).status_code == expected, (role, name)
    posts = [
        (reverse("tracing:case_status", args=[world_c["case"].pk]), A.TRACING_INVESTIGATE),
        (reverse("tracing:case_contact", args=[world_c["case"].pk]), A.TRACING_INVESTIGATE),
        (reverse("tracing:case_timeline", args=[world_c["case"].pk]), A.TRACING_INVESTIGATE),
        (reverse("tracing:task_reached", args=[world_c["task"].pk]), A.TRACING_REACH),
    ]
    for url, action in posts:
        expected = 403 if action not in actions_for(role) else 404
        assert client.post(url, {"status": "excluded", "version": "1"}).status_code == expected
    assert GRID_B1.startswith(VILLAGE_B)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_isolation_handover_needs_both_rights_and_stays_in_the_jurisdiction(
    role, make_user, world_c
):
    from fangkong.tracing.models import Classification

    api = ApiClient(make_user(role, VILLAGE_A))
    response = api.post("/tracing/isolation-handover", {})
    rights = actions_for(role)
    allowed = A.TRACING_VIEW in rights and A.QUARANTINE_MANAGE in rights
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert response.json() == {"ordered": 0}  # village C's contact is not theirs
    assert Classification.objects.get(person=world_c["contact"]).isolation_order_id is None
    assert ApiClient().post("/tracing/isolation-handover", {}).status_code == 401
