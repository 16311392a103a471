"""The testing API: one journey end to end, and denials for every endpoint — without a login
(401), with a role that lacks the action (403), and outside the jurisdiction (404, or
filtered out of lists)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.testing import services
from fangkong.testing.models import RecallTask, SamplingPoint, SuspectedCase
from tests.conftest import GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

from .conftest import scan


@pytest.fixture
def world(make_user, make_person, county):
    """A round of village A with a point, a pooled positive tube, a task and a suspected case."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    sampler = make_user(Role.TESTING_STAFF, VILLAGE_A)
    worker = make_user(Role.GRID_WORKER, GRID_A1)
    now = timezone.now()
    campaign = services.create_campaign(
        user=cadre,
        name="富强村核酸",
        region_codes=[VILLAGE_A],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
    )
    point = services.create_point(
        user=cadre,
        name="村委会",
        location="广场",
        region_code=GRID_A1,
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        lanes=2,
        throughput_per_lane_hour=60,
    )
    persons = [make_person(GRID_A1, f"村民{i}", phone=f"1391234{i:04d}") for i in range(5)]
    services.ingest_samples(
        user=sampler,
        campaign_id=campaign.pk,
        rows=[scan(p, "POOL-1") for p in persons[:3]] + [scan(persons[3], "ONE-1", capacity=1)],
    )
    services.record_results(
        user=sampler,
        campaign_id=campaign.pk,
        source="lab",
        results=[("POOL-1", "positive", 1), ("ONE-1", "positive", 2)],
    )
    return {
        "campaign": campaign,
        "point": point,
        "persons": persons,
        "cadre": cadre,
        "sampler": sampler,
        "worker": worker,
        "task": RecallTask.objects.get(assignee=worker),
    }


def endpoints(w):
    """(method, path, body, role allowed, role with the view but not this action)."""
    c, p, person = w["campaign"].pk, w["point"].pk, w["persons"][4]  # not yet sampled
    now = timezone.now()
    t = w["task"].pk
    return [
        ("get", "/testing/campaigns", None, Role.VILLAGE_CADRE, Role.SUPPLY_OFFICER),
        (
            "post",
            "/testing/campaigns",
            {
                "name": "二轮",
                "region_codes": [VILLAGE_A],
                "starts_at": now.isoformat(),
                "ends_at": (now + dt.timedelta(hours=9)).isoformat(),
            },
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
        ("get", f"/testing/campaigns/{c}", None, Role.VILLAGE_CADRE, Role.SUPPLY_OFFICER),
        (
            "post",
            f"/testing/campaigns/{c}/status",
            {"status": "running"},
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
        ("get", f"/testing/campaigns/{c}/coverage", None, Role.VILLAGE_CADRE, Role.SUPPLY_OFFICER),
        ("get", f"/testing/campaigns/{c}/untested", None, Role.VILLAGE_CADRE, Role.TESTING_STAFF),
        ("get", f"/testing/campaigns/{c}/exemptions", None, Role.VILLAGE_CADRE, Role.TESTING_STAFF),
        (
            "post",
            f"/testing/campaigns/{c}/exemptions",
            {"person_id": person.pk, "reason": "away"},
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
        (
            "post",
            f"/testing/campaigns/{c}/tubes",
            {"tubes": [{"barcode": "NEW-1", "capacity": 10}]},
            Role.TESTING_STAFF,
            Role.VILLAGE_CADRE,
        ),
        (
            "post",
            f"/testing/campaigns/{c}/samples",
            {
                "samples": [
                    {
                        "device_sample_id": "d-x",
                        "id_number": person.id_number,
                        "tube": "NEW-2",
                        "sampled_at": now.isoformat(),
                    }
                ]
            },
            Role.TESTING_STAFF,
            Role.VILLAGE_CADRE,
        ),
        (
            "post",
            f"/testing/campaigns/{c}/scan",
            {"person": person.id_number, "tube": "NEW-3", "capacity": 10},
            Role.TESTING_STAFF,
            Role.VILLAGE_CADRE,
        ),
        (
            "post",
            f"/testing/campaigns/{c}/results",
            {"source": "lab", "results": [{"barcode": "POOL-1", "result": "positive"}]},
            Role.TESTING_STAFF,
            Role.VILLAGE_CADRE,
        ),
        (
            "file",
            f"/testing/campaigns/{c}/results/file",
            None,
            Role.TESTING_STAFF,
            Role.VILLAGE_CADRE,
        ),
        (
            "get",
            f"/testing/campaigns/{c}/unmatched-results",
            None,
            Role.TESTING_STAFF,
            Role.SUPPLY_OFFICER,
        ),
        ("get", f"/testing/campaigns/{c}/recalls", None, Role.VILLAGE_CADRE, Role.TESTING_STAFF),
        ("get", "/testing/recall-tasks", None, Role.GRID_WORKER, Role.TESTING_STAFF),
        ("post", f"/testing/recall-tasks/{t}/done", None, Role.GRID_WORKER, Role.TESTING_STAFF),
        ("get", "/testing/suspected-cases", None, Role.INVESTIGATOR, Role.VILLAGE_CADRE),
        ("get", "/testing/points", None, Role.VILLAGE_CADRE, Role.SUPPLY_OFFICER),
        (
            "post",
            "/testing/points",
            {
                "name": "小学",
                "location": "操场",
                "region_code": GRID_A1,
                "opens_at": "07:00",
                "closes_at": "19:00",
            },
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
        ("patch", f"/testing/points/{p}", {"lanes": 3}, Role.VILLAGE_CADRE, Role.TESTING_STAFF),
        ("get", f"/testing/points/{p}/staff", None, Role.VILLAGE_CADRE, Role.SUPPLY_OFFICER),
        (
            "put",
            f"/testing/points/{p}/staff",
            {"staff_ids": [w["sampler"].pk], "version": 1},
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
        (
            "get",
            f"/testing/points/{p}/plan?campaign={c}",
            None,
            Role.VILLAGE_CADRE,
            Role.SUPPLY_OFFICER,
        ),
        (
            "post",
            "/testing/schedules",
            {"person_id": person.pk, "due_dates": ["2026-03-01"], "origin": "居家隔离"},
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
        (
            "get",
            f"/testing/due-tests?day={timezone.localdate()}",
            None,
            Role.VILLAGE_CADRE,
            Role.TESTING_STAFF,
        ),
    ]


def call(client: ApiClient | Client, method: str, path: str, body):
    if method == "file":
        upload = SimpleUploadedFile("lab.csv", "条码,结果\nPOOL-1,阳性\n".encode())
        http = client.client if isinstance(client, ApiClient) else client
        return http.post("/api/v1" + path, {"file": upload})
    if isinstance(client, Client):
        return getattr(client, "get" if method == "get" else method)(
            "/api/v1" + path,
            *(() if body is None else ("{}",)),
            content_type="application/json",
        )
    if method == "get":
        return client.get(path)
    if method == "put":
        return client.client.put(
            "/api/v1" + path, json.dumps(body), content_type="application/json"
        )
    return getattr(client, "patch" if method == "patch" else "post")(path, body or {})


@pytest.mark.parametrize("index", range(26))
def test_every_endpoint_refuses_the_unauthenticated(world, index):
    method, path, body, *_ = endpoints(world)[index]
    response = call(Client(), method, path, body)
    assert response.status_code == 401, (path, response.content)


@pytest.mark.parametrize("index", range(26))
def test_every_endpoint_refuses_a_role_without_the_action(world, make_user, index):
    method, path, body, _allowed, lacking = endpoints(world)[index]
    user = make_user(lacking, VILLAGE_A)
    response = call(ApiClient(user), method, path, body)
    assert response.status_code == 403, (path, lacking, response.content)
    assert response.json()["detail"]


@pytest.mark.parametrize("index", range(26))
def test_every_endpoint_hides_other_jurisdictions(world, make_user, index):
    method, path, body, allowed, _lacking = endpoints(world)[index]
    outsider = make_user(allowed, GRID_C1 if allowed == Role.GRID_WORKER else VILLAGE_C)
    response = call(ApiClient(outsider), method, path, body)
    if method == "get" and path.split("?")[0].endswith(
        ("/campaigns", "/points", "/recall-tasks", "/suspected-cases", "/due-tests")
    ):
        assert response.status_code == 200
        assert response.json() == [], path  # filtered out
    elif path in ("/testing/campaigns", "/testing/points"):
        assert response.status_code == 400  # the region is outside the jurisdiction
        assert response.json()["errors"][0]["field"] == "region_code" + (
            "s" if path.endswith("campaigns") else ""
        )
    else:
        assert response.status_code == 404, (path, response.content)


@pytest.mark.parametrize("index", range(26))
def test_every_endpoint_serves_the_allowed_role(world, make_user, index):
    method, path, body, allowed, _lacking = endpoints(world)[index]
    user = world["worker"] if allowed == Role.GRID_WORKER else make_user(allowed, VILLAGE_A)
    response = call(ApiClient(user), method, path, body)
    assert response.status_code in (200, 201), (path, response.content)


def test_the_api_journey_with_masking(world, make_user):
    cadre, campaign = ApiClient(world["cadre"]), world["campaign"]
    coverage = cadre.get(f"/testing/campaigns/{campaign.pk}/coverage").json()
    assert coverage["total"]["tested"] == 4 and coverage["total"]["should_test"] == 5
    assert coverage["rows"][0]["key"] == GRID_A1
    recalls = cadre.get(f"/testing/campaigns/{campaign.pk}/recalls").json()
    assert [g["grid"] for g in recalls] == [GRID_A1]
    assert sorted(p["phone"] for p in recalls[0]["persons"]) == [
        p.phone for p in world["persons"][:3]
    ]
    # Testing staff see masked data only; the inspector reads but masks ID numbers.
    inspector = ApiClient(make_user(Role.INSPECTOR, VILLAGE_A))
    masked = inspector.get(f"/testing/campaigns/{campaign.pk}/recalls").json()
    assert all("*" in p["id_number"] and "*" in p["phone"] for p in masked[0]["persons"])
    cases = ApiClient(make_user(Role.INVESTIGATOR, VILLAGE_A)).get("/testing/suspected-cases")
    assert [c["tube"] for c in cases.json()] == ["ONE-1"]
    assert cases.json()[0]["id_number"] == world["persons"][3].id_number
    assert SuspectedCase.objects.count() == 1
    plan = cadre.get(f"/testing/points/{world['point'].pk}/plan?campaign={campaign.pk}").json()
    assert plan["should_test"] == 5 and plan["tested"] == 4 and plan["population"] == 1
    assert SamplingPoint.objects.count() == 1


def test_the_device_api_rejects_bad_input_with_422(world):
    client = ApiClient(world["sampler"])
    path = f"/testing/campaigns/{world['campaign'].pk}/samples"
    person = world["persons"][0]
    bad = [
        {
            "device_sample_id": "a",
            "tube": "T\x00",
            "id_number": person.id_number,
            "sampled_at": timezone.now().isoformat(),
        },
        {"device_sample_id": "a", "tube": "T1", "sampled_at": timezone.now().isoformat()},
        {"device_sample_id": "a", "tube": "T1", "id_number": person.id_number, "sampled_at": 0},
        {
            "device_sample_id": "a" * 65,
            "tube": "T1",
            "id_number": person.id_number,
            "sampled_at": timezone.now().isoformat(),
        },
    ]
    for sample in bad:
        response = client.post(path, {"samples": [sample]})
        assert response.status_code == 422, sample
        assert response.json()["errors"]


def test_a_batch_through_the_api_is_idempotent(world):
    client = ApiClient(world["sampler"])
    path = f"/testing/campaigns/{world['campaign'].pk}/samples"
    from tests.conftest import new_id_number

    body = {
        "samples": [
            {
                "device_sample_id": "dev-9-1",
                "id_number": new_id_number(),
                "tube": "X",
                "sampled_at": timezone.now().isoformat(),
            },
        ]
    }
    first = client.post(path, body).json()
    assert first["accepted"] == 0 and first["rejected"][0]["code"] == "unknown_person"
    assert first["rejected"][0]["message"]
    assert ApiToken.objects.count() >= 1
