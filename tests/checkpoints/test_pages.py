"""Pages: the staff's home is the passage log; every page in Chinese; denials (403, 404,
login); masking on the page; recording by one tap; the township's and inspector's pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.checkpoints import services
from fangkong.checkpoints.models import Finding, Inspection, Passage
from fangkong.core.roles import Role
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


def test_staff_home_is_the_log_of_their_post(client_for, staff, post_a, post_c):
    client = client_for(staff)
    home = client.get("/")
    assert home.status_code == 302
    first = client.get(home.url, follow=True)
    assert first.redirect_chain[-1][0] == f"/checkpoints/posts/{post_a.pk}/log/"
    page = first.content.decode()
    assert "通行登记" in page and "健康码" in page and "登记" in page


def test_one_tap_records_and_the_form_is_fresh(client_for, staff, post_a, resident):
    client = client_for(staff)
    response = client.post(
        f"/checkpoints/posts/{post_a.pk}/log/",
        {
            "kind": "person",
            "direction": "in",
            "person": resident.pk,
            "temperature": "36.6",
            "code_colour": "green",
            "itinerary_ok": "on",
            "mask": "on",
            "client_key": "k1",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "已登记：王秀英" in text and 'id="log-panel"' in text
    assert Passage.objects.get().person == resident
    # The same tap again (a double submit) does not log twice.
    client.post(
        f"/checkpoints/posts/{post_a.pk}/log/",
        {
            "kind": "person",
            "direction": "in",
            "person": resident.pk,
            "code_colour": "green",
            "client_key": "k1",
        },
    )
    assert Passage.objects.count() == 1


def test_verdict_is_shown_before_recording(client_for, staff, post_a):
    client = client_for(staff)
    response = client.post(
        f"/checkpoints/posts/{post_a.pk}/check/",
        {"kind": "person", "direction": "in", "name": "路人", "code_colour": "red"},
    )
    text = response.content.decode()
    assert "禁止通行" in text and "红码" in text
    assert "名册中查无此人" in text
    assert not Passage.objects.exists()


def test_id_numbers_on_pages_are_masked_for_staff(client_for, staff, township, post_a, resident):
    services.record_passages(
        actor=staff, post_id=post_a.pk, items=[services.PassageInput(person_id=resident.pk)]
    )
    mine = client_for(staff).get(f"/checkpoints/posts/{post_a.pk}/").content.decode()
    assert resident.id_number not in mine and resident.id_number[-4:] in mine
    theirs = client_for(township).get(f"/checkpoints/posts/{post_a.pk}/").content.decode()
    assert resident.id_number in theirs


@pytest.mark.parametrize(
    "path",
    [
        "/checkpoints/",
        "/checkpoints/post/",
        "/checkpoints/rosters/",
        "/checkpoints/cards/",
        "/checkpoints/inspections/",
    ],
)
def test_roles_without_the_module_get_403_and_anonymous_the_login(
    path, client_for, make_user, post_a
):
    from django.test import Client

    grid = make_user(Role.GRID_WORKER, GRID_A1)
    assert client_for(grid).get(path).status_code == 403
    assert Client().get(path).status_code == 302


def test_write_pages_deny_roles_without_the_action(client_for, staff, inspector, post_a):
    assert client_for(staff).get("/checkpoints/posts/new/").status_code == 403
    assert client_for(staff).get("/checkpoints/push/").status_code == 403
    assert client_for(staff).get("/checkpoints/inspections/new/").status_code == 403
    assert client_for(inspector).get(f"/checkpoints/posts/{post_a.pk}/log/").status_code == 403
    assert client_for(staff).post("/checkpoints/rosters/", {"township": FUQIANG}).status_code == 403
    assert client_for(staff).post("/checkpoints/cards/", {"person": 1}).status_code == 403


def test_other_villages_posts_are_404(client_for, staff, post_c):
    client = client_for(staff)
    assert client.get(f"/checkpoints/posts/{post_c.pk}/").status_code == 404
    assert client.get(f"/checkpoints/posts/{post_c.pk}/log/").status_code == 404
    assert client.post(f"/checkpoints/posts/{post_c.pk}/check/", {}).status_code == 404


def test_township_pages_in_chinese(client_for, township, post_a, post_c):
    client = client_for(township)
    home = client.get("/checkpoints/").content.decode()
    assert "卡点值守" in home and "富强村东卡点" in home and "东升社区卡点" not in home
    assert "今日" in home or "通行" in home
    for path in (
        "/checkpoints/rosters/",
        "/checkpoints/cards/",
        "/checkpoints/push/",
        "/checkpoints/posts/new/",
        f"/checkpoints/posts/{post_a.pk}/edit/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "卡点" in response.content.decode() or "出入证" in response.content.decode()


def test_post_edit_with_a_stale_version_is_a_conflict(client_for, township, post_a):
    client = client_for(township)
    data = {
        "name": "新名字",
        "kind": "village_post",
        "region_code": VILLAGE_A,
        "disinfections_per_day": 4,
        "version": post_a.version,
    }
    assert client.post(f"/checkpoints/posts/{post_a.pk}/edit/", data).status_code == 302
    stale = client.post(f"/checkpoints/posts/{post_a.pk}/edit/", {**data, "name": "再改"})
    assert "已被他人修改" in stale.content.decode()
    post_a.refresh_from_db()
    assert post_a.name == "新名字"


def test_inspector_records_a_night_visit(client_for, inspector, post_a):
    client = client_for(inspector)
    form = client.get(f"/checkpoints/inspections/new/?post={post_a.pk}")
    assert "记录夜间督查" in form.content.decode()
    at = timezone.localtime() - dt.timedelta(hours=2)
    response = client.post(
        "/checkpoints/inspections/new/",
        {
            "post": post_a.pk,
            "at": at.strftime("%Y-%m-%dT%H:%M"),
            "staff_present": "on",
            "logging": "on",
            "temperature": "on",
            "disinfection": "on",
            "risk_areas": "on",
            "note": "两人均在睡觉",
        },
    )
    assert response.status_code == 302
    visit = Inspection.objects.get()
    assert not visit.awake and visit.failed == [str(Finding.AWAKE.label)]
    detail = client.get(response.url).content.decode()
    assert "不合格" in detail


def test_township_pushes_rules_to_posts(client_for, township, staff):
    from fangkong.core.models import NoticeReceipt

    response = client_for(township).post(
        "/checkpoints/push/", {"region_code": FUQIANG, "title": "新增风险地区", "body": "请掌握"}
    )
    assert response.status_code == 302
    receipt = NoticeReceipt.objects.get(user=staff)
    assert receipt.notice.requires_confirmation


def test_roster_pages(client_for, township, county):
    from tests.checkpoints.test_roster import MONDAY, _pool

    _pool()
    client = client_for(township)
    response = client.post(
        "/checkpoints/rosters/", {"township": FUQIANG, "starts_on": MONDAY.isoformat(), "days": 2}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response.url).content.decode()
    assert "值班表" in page and "排班规则复核通过" in page
    published = client.post(response.url, {"publish": "1"}, follow=True).content.decode()
    assert "已发布" in published
    assert COUNTY
