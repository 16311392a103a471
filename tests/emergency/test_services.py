"""Rules of the emergency layer: the wartime switch and its notices, zones and their
validation, drills' timings, capacity gaps, volunteer sign-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.models import Notice, NoticeReceipt
from fangkong.core.roles import Role
from fangkong.emergency import services
from fangkong.emergency.models import Capacity, DutyPost, Mode, Plan, Volunteer, ZoneMeasure
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, GRID_C1, VILLAGE_A

from .conftest import zone_draft

pytestmark = pytest.mark.django_db


def test_wartime_switch_notifies_the_area_once_and_counts_who_reported(hq, staff):
    DutyPost.objects.create(region_code=FUQIANG, user=staff[0], post="镇指挥部")
    first = services.switch_mode(
        actor=hq, region_code=FUQIANG, mode=Mode.WARTIME, reason="发现病例"
    )
    assert first.created and first.notified == 3  # the three users of 富强镇, not 拜泉镇's
    assert services.mode_of(VILLAGE_A)[0] == Mode.WARTIME
    assert services.mode_of(COUNTY)[0] == Mode.PEACETIME
    assert DutyPost.objects.get().active_since == first.switch.at
    again = services.switch_mode(actor=hq, region_code=FUQIANG, mode=Mode.WARTIME, reason="再次")
    assert not again.created and again.switch.pk == first.switch.pk
    assert Notice.objects.count() == 1 and NoticeReceipt.objects.count() == 3
    receipt = NoticeReceipt.objects.filter(user=staff[0]).get()
    NoticeReceipt.objects.filter(pk=receipt.pk).update(confirmed_at=timezone.now())
    board = services.reporting_board(actor=hq, switch_id=first.switch.pk)
    assert (board.total, board.reported) == (3, 1)
    back = services.switch_mode(actor=hq, region_code=FUQIANG, mode=Mode.PEACETIME, reason="清零")
    assert back.created and services.mode_of(VILLAGE_A)[0] == Mode.PEACETIME
    assert DutyPost.objects.get().active_since is None


def test_only_the_county_switches_and_a_reason_is_required(hq, township):
    with pytest.raises(PermissionDenied):
        services.switch_mode(actor=township, region_code=FUQIANG, mode="wartime", reason="x")
    with pytest.raises(ValidationFailed) as caught:
        services.switch_mode(actor=hq, region_code=FUQIANG, mode="wartime", reason=" ")
    assert caught.value.errors[0].field == "reason"


def test_a_zone_outside_the_jurisdiction_is_not_found(make_user):
    other = make_user(Role.COUNTY_HQ, "230231100")  # 拜泉镇 only
    with pytest.raises(NotFound):
        services.declare_zone(actor=other, draft=zone_draft(codes=[GRID_A1]), run_now=True)


def test_a_zone_needs_a_basis_an_approval_and_members(hq):
    draft = zone_draft(codes=[])
    draft.legal_basis = ""
    draft.approved_by = ""
    with pytest.raises(ValidationFailed) as caught:
        services.declare_zone(actor=hq, draft=draft, run_now=True)
    fields = {e.field for e in caught.value.errors}
    assert fields == {"legal_basis", "approved_by", "region_codes"}


def test_measures_follow_the_zone_and_a_stale_version_is_refused(hq, make_person):
    inside = make_person(GRID_A1, "张伟")
    outside = make_person(GRID_A2, "李娜")
    zone = services.declare_zone(actor=hq, draft=zone_draft(), run_now=True)
    measure = ZoneMeasure.objects.get(person=inside)
    assert (measure.kind, measure.movement, measure.test_every_days) == ("sealed", "none", 1)
    assert not ZoneMeasure.objects.filter(person=outside).exists()
    assert zone.region_code == GRID_A1
    with pytest.raises(VersionConflict):
        services.lift_zone(
            actor=hq, zone_id=zone.pk, version=zone.version + 5, legal_basis="a", approved_by="b"
        )
    services.lift_zone(
        actor=hq, zone_id=zone.pk, version=zone.version, legal_basis="解除令", approved_by="王主任"
    )
    assert not ZoneMeasure.objects.exists()


def test_declaring_in_the_background_records_progress(hq, make_person, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    for i in range(5):
        make_person(GRID_A1, f"张{i}")
    zone = services.declare_zone(actor=hq, draft=zone_draft())
    zone.refresh_from_db()
    assert zone.task.status == "succeeded"
    assert (zone.task.done, zone.task.total) == (5, 5)
    assert ZoneMeasure.objects.filter(zone=zone).count() == 5


def test_a_drill_reports_each_step_against_its_target(township):
    plan = Plan.objects.create(
        region_code=FUQIANG, unit_name="中心小学", unit_kind="school", title="预案"
    )
    start = timezone.now() - dt.timedelta(hours=3)
    drill = services.record_drill(
        actor=township,
        plan_id=plan.pk,
        title="演练",
        squads="学校专班",
        unannounced=True,
        held_at=start,
        steps=[
            services.StepDraft("报告", 10, start, start + dt.timedelta(minutes=8)),
            services.StepDraft(
                "封闭", 30, start + dt.timedelta(minutes=8), start + dt.timedelta(minutes=45)
            ),
            services.StepDraft("采样", 60),
        ],
    )
    timings = services.drill_timings(drill)
    assert timings["total_minutes"] == 45
    assert timings["target_minutes"] == 100
    assert [s.name for s in timings["over_target"]] == ["封闭"]
    assert [s.name for s in timings["unfinished"]] == ["采样"]
    with pytest.raises(ValidationFailed):
        services.record_drill(
            actor=township,
            plan_id=plan.pk,
            title="x",
            squads="y",
            unannounced=False,
            held_at=start,
            steps=[services.StepDraft("倒序", 5, start, start - dt.timedelta(minutes=1))],
        )


def test_capacity_gaps_count_ambulances_per_fifty_thousand(hq, make_person):
    for i in range(3):
        make_person(GRID_A1, f"王{i}")
    Capacity.objects.create(
        region_code=FUQIANG, kind="ambulance", name="救护车", quota=2, in_post=0
    )
    Capacity.objects.create(
        region_code=FUQIANG, kind="fever_clinic", name="发热门诊", drugs_ready=False
    )
    ambulances, *others = services.capacity_gaps(hq, COUNTY)
    assert "50,000" in ambulances.what
    assert (ambulances.have, ambulances.need, ambulances.short) == (0, 1, 1)
    assert [(g.have, g.need) for g in others if "救护车" in g.what] == [(0, 2)]
    assert any("发热门诊" in g.what for g in others)


def test_volunteers_sign_up_once_per_phone_and_are_rate_limited(county):
    first = services.sign_up_volunteer(
        name="韩雪",
        phone="139 1234 5670",
        region_code=VILLAGE_A,
        skills="护士",
        availability="",
        client="a",
    )
    again = services.sign_up_volunteer(
        name="韩雪",
        phone="13912345670",
        region_code=VILLAGE_A,
        skills="护士、采样",
        availability="",
        client="a",
    )
    assert first.pk == again.pk and Volunteer.objects.count() == 1
    with pytest.raises(ValidationFailed) as caught:
        services.sign_up_volunteer(
            name="", phone="12", region_code="99", skills="", availability="", client="a"
        )
    assert {e.field for e in caught.value.errors} == {"name", "phone", "region_code"}
    for i in range(services.SIGNUPS_PER_HOUR - 1):
        services.sign_up_volunteer(
            name=f"人{i}",
            phone=f"1380000000{i}",
            region_code=GRID_C1,
            skills="",
            availability="",
            client="b",
        )
    services.sign_up_volunteer(
        name="末", phone="13800000009", region_code=GRID_C1, skills="", availability="", client="b"
    )
    with pytest.raises(services.RateLimited):
        services.sign_up_volunteer(
            name="多",
            phone="13800000019",
            region_code=GRID_C1,
            skills="",
            availability="",
            client="b",
        )
