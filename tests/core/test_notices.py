"""Notices with read receipts: who receives them, reading and confirming, the receipts a
sender follows, the late-confirmation rule, idempotent system notices, pages and API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from fangkong.core import errors, inspection, notices
from fangkong.core.models import Notice, NoticeReceipt
from fangkong.core.roles import Role
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_B, VILLAGE_C

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    return {
        "post_a": make_user(Role.CHECKPOINT_STAFF, VILLAGE_A, username="post_a"),
        "post_b": make_user(Role.CHECKPOINT_STAFF, VILLAGE_B, username="post_b"),
        "post_c": make_user(Role.CHECKPOINT_STAFF, VILLAGE_C, username="post_c"),
        "doctor_a": make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="doctor_a"),
        "township": make_user(Role.TOWNSHIP, FUQIANG, username="fq"),
        "county": make_user(Role.COUNTY_HQ, COUNTY, username="county"),
        "gone": make_user(Role.CHECKPOINT_STAFF, VILLAGE_A, username="gone", is_active=False),
    }


def _draft(**kw):
    fields = {
        "title": "新增中风险地区",
        "body": "即日起……",
        "region_codes": (FUQIANG,),
        "roles": (Role.CHECKPOINT_STAFF,),
        "requires_confirmation": True,
        "confirm_within_minutes": 120,
    }
    fields.update(kw)
    return notices.NoticeDraft(**fields)


def test_a_notice_reaches_the_roles_inside_the_region(staff):
    notice = notices.publish(draft=_draft(), sender=staff["township"])
    got = set(notice.receipts.values_list("user__username", flat=True))
    assert got == {"post_a", "post_b"} and notice.recipients_count == 2
    assert NoticeReceipt.objects.get(user=staff["post_a"]).region_code == VILLAGE_A


def test_senders_stay_inside_their_jurisdiction_and_need_the_action(staff):
    with pytest.raises(errors.NotFound):
        notices.publish(draft=_draft(region_codes=(BAIQUAN,)), sender=staff["township"])
    with pytest.raises(errors.PermissionDenied):
        notices.publish(draft=_draft(region_codes=(VILLAGE_A,)), sender=staff["doctor_a"])
    with pytest.raises(errors.ValidationFailed):
        notices.publish(draft=_draft(title=" "), sender=staff["township"])
    assert not Notice.objects.exists()


def test_system_notices_with_a_source_are_sent_once(staff):
    first = notices.publish(draft=_draft(region_codes=(COUNTY,)), sender=None, source="risk:v3")
    again = notices.publish(draft=_draft(region_codes=(COUNTY,)), sender=None, source="risk:v3")
    assert first.pk == again.pk and NoticeReceipt.objects.count() == 3


def test_read_confirm_and_the_late_rule(staff):
    with freeze_time("2026-12-02 08:00:00+08:00"):
        notice = notices.publish(draft=_draft(), sender=staff["township"])
    with freeze_time("2026-12-02 09:00:00+08:00"):
        notices.mark_read(actor=staff["post_a"], notice_id=notice.pk)
        notices.confirm(actor=staff["post_a"], notice_id=notice.pk)
        notices.confirm(actor=staff["post_a"], notice_id=notice.pk)  # twice: unchanged
        with pytest.raises(errors.NotFound):
            notices.confirm(actor=staff["post_c"], notice_id=notice.pk)
    receipt = NoticeReceipt.objects.get(user=staff["post_a"])
    assert receipt.confirmed_at == timezone.make_aware(dt.datetime(2026, 12, 2, 9))
    now_early = timezone.make_aware(dt.datetime(2026, 12, 2, 9, 59))
    now_late = timezone.make_aware(dt.datetime(2026, 12, 2, 10, 1))
    rule = "core.notice_unconfirmed"
    assert inspection.run(rule, inspection.RuleQuery(prefix=FUQIANG, now=now_early)) == []
    late = inspection.run(rule, inspection.RuleQuery(prefix=FUQIANG, now=now_late))
    assert [f.region_code for f in late] == [VILLAGE_B]
    assert "post_b" in late[0].what and late[0].ref.startswith("core.notice_receipt:")
    assert inspection.run(rule, inspection.RuleQuery(prefix=VILLAGE_A, now=now_late)) == []


def test_receipts_are_scoped_to_the_follower(staff, make_user):
    notice = notices.publish(draft=_draft(), sender=staff["township"])
    cadre_a = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    _, rows = notices.receipts_of(cadre_a, notice.pk)
    assert [r.user.username for r in rows] == ["post_a"]
    other = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    with pytest.raises(errors.NotFound):
        notices.receipts_of(other, notice.pk)


def test_a_township_notice_with_no_receipt_in_the_village_opens_empty_there(staff, make_user):
    """The village cadre's list shows the township's notices; their receipts page opens too,
    with the village's receipts only (none here), rather than a 404 for a listed notice."""
    notice = notices.publish(draft=_draft(roles=(Role.TOWNSHIP,)), sender=staff["county"])
    cadre_a = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    assert notice.pk in [n.pk for n in notices.notices_of_area(cadre_a)]
    assert notices.receipts_of(cadre_a, notice.pk)[1] == []
    other = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    assert notice.pk not in [n.pk for n in notices.notices_of_area(other)]
    with pytest.raises(errors.NotFound):
        notices.receipts_of(other, notice.pk)


def test_pages_inbox_confirm_and_compose(staff, client_for):
    notice = notices.publish(draft=_draft(), sender=staff["township"])
    post = client_for(staff["post_a"])
    assert "新增中风险地区" in post.get("/notices/").content.decode()
    assert post.get(f"/notices/{notice.pk}/").status_code == 200
    assert post.post(f"/notices/{notice.pk}/confirm/").status_code == 302
    assert NoticeReceipt.objects.get(user=staff["post_a"]).confirmed_at is not None
    assert client_for(staff["post_c"]).get(f"/notices/{notice.pk}/").status_code == 404
    assert post.get("/notices/new/").status_code == 403
    township = client_for(staff["township"])
    body = township.get("/notices/new/").content.decode()
    assert "富强村" in body  # the region picker offers names, not codes
    response = township.post(
        "/notices/new/",
        {
            "title": "今晚加强夜间值守",
            "body": "各卡点",
            "region": VILLAGE_A,
            "roles": [Role.CHECKPOINT_STAFF],
            "level": "urgent",
            "requires_confirmation": "on",
            "confirm_within_minutes": "60",
        },
    )
    assert response.status_code == 302
    sent = Notice.objects.get(title="今晚加强夜间值守")
    assert sent.recipients_count == 1
    receipts_page = township.get(f"/notices/{sent.pk}/receipts/").content.decode()
    assert "post_a" in receipts_page or staff["post_a"].username in receipts_page


def test_api_inbox_confirm_send(staff, client_for):
    notice = notices.publish(draft=_draft(), sender=staff["township"])
    post = client_for(staff["post_b"])
    inbox = post.get("/api/v1/notices").json()
    assert [i["notice"]["id"] for i in inbox] == [notice.pk]
    assert post.post(f"/api/v1/notices/{notice.pk}/confirm").json()["confirmed_at"]
    assert client_for(staff["post_c"]).post(f"/api/v1/notices/{notice.pk}/read").status_code == 404
    sent = client_for(staff["county"]).post(
        "/api/v1/notices",
        {"title": "全县通知", "region_codes": [COUNTY], "roles": ["checkpoint_staff"]},
        content_type="application/json",
    )
    assert sent.status_code == 201 and sent.json()["recipients_count"] == 3
    denied = post.post(
        "/api/v1/notices",
        {"title": "x", "region_codes": [VILLAGE_B]},
        content_type="application/json",
    )
    assert denied.status_code == 403
    receipts = client_for(staff["township"]).get(f"/api/v1/notices/{notice.pk}/receipts").json()
    assert {r["username"] for r in receipts["items"]} == {"post_a", "post_b"}
    assert GRID_A1  # fixtures' grid is inside village A (kept for readers of this file)
