"""The testing pages in Chinese: a round planned, sampled, resulted and recalled end to end,
and every page refusing other roles (403) and other jurisdictions (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.testing import services
from fangkong.testing.models import Campaign, RecallEntry, Sample, SamplingPoint
from tests.conftest import GRID_A1, VILLAGE_A, VILLAGE_C


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_round_end_to_end_in_chinese(make_user, make_person, county):
    cadre = client_for(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    sampler_user = make_user(Role.TESTING_STAFF, VILLAGE_A)
    sampler = client_for(sampler_user)
    persons = [make_person(GRID_A1, f"村民{i}") for i in range(3)]
    page = cadre.get("/testing/")
    assert "核酸检测" in page.content.decode() and "新建检测轮次" in page.content.decode()

    now = timezone.localtime()
    response = cadre.post(
        "/testing/",
        {
            "name": "富强村第一轮",
            "region_codes": [VILLAGE_A],
            "pool_size": 10,
            "starts_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == f"/testing/rounds/{campaign.pk}/"

    response = cadre.post(
        "/testing/points/",
        {
            "name": "村委会",
            "location": "广场",
            "region_code": GRID_A1,
            "opens_at": "00:00",
            "closes_at": "23:59",
            "lanes": 1,
            "throughput_per_lane_hour": 60,
        },
    )
    assert response.status_code == 302
    point = SamplingPoint.objects.get()
    plan = cadre.get(f"/testing/points/{point.pk}/plan/?campaign={campaign.pk}").content.decode()
    assert "完成所需通道数" in plan and "每小时预计排队" in plan

    for person in persons[:2]:
        response = sampler.post(
            f"/testing/rounds/{campaign.pk}/sample/",
            {"tube": "T-1", "capacity": 10, "person": person.id_number},
        )
        assert response.status_code == 200
    body = response.content.decode()
    assert "已采样" in body and "管内 2 / 10" in body
    duplicate = sampler.post(
        f"/testing/rounds/{campaign.pk}/sample/",
        {"tube": "T-1", "capacity": 10, "person": persons[0].id_number},
    )
    assert "本轮已采过样" in duplicate.content.decode()
    assert Sample.objects.count() == 2

    coverage = cadre.get(f"/testing/rounds/{campaign.pk}/").content.decode()
    assert "应检" in coverage and "未检" in coverage
    untested = cadre.get(f"/testing/rounds/{campaign.pk}/untested/").content.decode()
    assert persons[2].name in untested and persons[0].name not in untested
    cadre.post(
        f"/testing/rounds/{campaign.pk}/untested/",
        {"person_id": persons[2].pk, "reason": "bedridden", "note": "卧床"},
    )
    assert "卧床" in cadre.get(f"/testing/rounds/{campaign.pk}/untested/").content.decode()

    upload = SimpleUploadedFile("结果.csv", "条码,结果\nT-1,阳性\nT-404,阴性\n".encode())
    result = sampler.post(f"/testing/rounds/{campaign.pk}/results/", {"file": upload})
    text = result.content.decode()
    assert "导入报告" in text and "T-404" in text
    assert RecallEntry.objects.count() == 2
    recalls = cadre.get(f"/testing/rounds/{campaign.pk}/recalls/").content.decode()
    assert persons[0].name in recalls and persons[1].name in recalls and persons[0].phone in recalls


def test_pages_refuse_other_roles_and_jurisdictions(make_user, make_person, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    now = timezone.now()
    campaign = services.create_campaign(
        user=cadre,
        name="轮次",
        region_codes=[VILLAGE_A],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
    )
    point = services.create_point(
        user=cadre,
        name="点",
        location="广场",
        region_code=GRID_A1,
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        lanes=1,
        throughput_per_lane_hour=60,
    )
    c = campaign.pk
    pages = [
        (f"/testing/rounds/{c}/", None),
        (f"/testing/rounds/{c}/untested/", Role.TESTING_STAFF),
        (f"/testing/rounds/{c}/sample/", Role.VILLAGE_CADRE),
        (f"/testing/rounds/{c}/results/", Role.VILLAGE_CADRE),
        (f"/testing/rounds/{c}/recalls/", Role.TESTING_STAFF),
        (f"/testing/points/{point.pk}/plan/?campaign={c}", None),
    ]
    for url, lacking in pages:
        assert Client().get(url).status_code == 302  # to the login page
        if lacking:
            assert client_for(make_user(lacking, VILLAGE_A)).get(url).status_code == 403, url
        outsider = Role.TESTING_STAFF if "sample" in url or "results" in url else Role.VILLAGE_CADRE
        assert client_for(make_user(outsider, VILLAGE_C)).get(url).status_code == 404, url
    for url in ("/testing/", "/testing/points/", "/testing/tasks/", "/testing/suspected/"):
        assert client_for(make_user(Role.SUPPLY_OFFICER, VILLAGE_A)).get(url).status_code == 403
    # Planning needs the planning action even when posted by hand.
    staff = client_for(make_user(Role.TESTING_STAFF, VILLAGE_A))
    assert staff.post("/testing/", {"name": "x"}).status_code == 403
    assert staff.post("/testing/points/", {"name": "x"}).status_code == 403


def test_the_public_registration_page(make_person, county):
    person = make_person(GRID_A1, "李娜")
    page = Client().post("/testing/register/", {"id_number": person.id_number, "name": "李娜"})
    assert page.status_code == 200 and "FK" in page.content.decode()
    wrong = Client().post("/testing/register/", {"id_number": person.id_number, "name": "王五"})
    assert "FK" not in wrong.content.decode()


@pytest.mark.parametrize(
    "role",
    [Role.COUNTY_HQ, Role.GRID_WORKER, Role.INVESTIGATOR, Role.INSPECTOR, Role.TESTING_STAFF],
)
def test_the_module_pages_render_for_each_role(make_user, county, role):
    client = client_for(make_user(role, VILLAGE_A))
    assert client.get("/testing/").status_code == 200
    assert client.get("/testing/points/").status_code == 200


def test_a_planner_closes_the_round_from_its_page(make_user, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    now = timezone.now()
    campaign = services.create_campaign(
        user=cadre,
        name="轮次",
        region_codes=[VILLAGE_A],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
    )
    url = f"/testing/rounds/{campaign.pk}/status/"
    staff = client_for(make_user(Role.TESTING_STAFF, VILLAGE_A))
    assert staff.post(url, {"status": "closed"}).status_code == 403
    outsider = client_for(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert outsider.post(url, {"status": "closed"}).status_code == 404
    page = client_for(cadre).post(url, {"status": "closed"}, follow=True)
    assert "轮次状态已更改" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "closed"
