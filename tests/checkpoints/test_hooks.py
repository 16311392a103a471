"""What the module registers with core: figures, self-inspection rules, the person timeline,
the staff's home page, and the demo story."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.checkpoints import hooks, services
from fangkong.checkpoints.models import Assignment, DutyStaff, Finding, Inspection, Roster
from fangkong.core import figures, inspection, modules, timeline
from fangkong.core.roles import Role
from tests.conftest import COUNTY, FUQIANG, VILLAGE_A

pytestmark = pytest.mark.django_db


def test_figures_count_passages_refusals_and_night_visits(staff, inspector, post_a, resident):
    now = timezone.now()
    services.record_passages(
        actor=staff,
        post_id=post_a.pk,
        items=[
            services.PassageInput(person_id=resident.pk, at=now),
            services.PassageInput(name="甲", code_colour="red", at=now),
        ],
    )
    night = timezone.localtime(now).replace(hour=1, minute=30)
    if night > now:
        night -= dt.timedelta(days=1)
    services.record_inspection(actor=inspector, post_id=post_a.pk, at=night, items={})
    query = figures.FigureQuery(prefix=FUQIANG, group_length=12, at=now)
    assert figures.compute("checkpoints.passages_today", query) == {VILLAGE_A: 2}
    assert figures.compute("checkpoints.refused_today", query) == {VILLAGE_A: 1}
    visits = figures.compute("checkpoints.night_inspections", query)
    assert visits.get(VILLAGE_A, 0) == (1 if night.date() == timezone.localdate() else 0)


def test_post_not_inspected_last_night(post_a, inspector):
    now = timezone.now()
    post_a.created_at = now - dt.timedelta(days=3)
    post_a.save()
    found = inspection.run(hooks.NOT_INSPECTED, inspection.RuleQuery(prefix=COUNTY, now=now))
    assert [f.region_code for f in found] == [VILLAGE_A]
    assert "夜间未被督查" in found[0].what
    local = timezone.localtime(now)
    end_day = local.date() if local.hour >= 6 else local.date() - dt.timedelta(days=1)
    at = timezone.make_aware(dt.datetime.combine(end_day, dt.time(2)))
    Inspection.objects.create(post=post_a, region_code=VILLAGE_A, inspector=inspector, at=at)
    assert inspection.run(hooks.NOT_INSPECTED, inspection.RuleQuery(prefix=COUNTY, now=now)) == []


def _published(post, staff_count=2, day=None, checked=True):
    day = day or timezone.localdate()
    roster = Roster.objects.create(
        township_code=FUQIANG, starts_on=day, days=1, status=Roster.Status.PUBLISHED
    )
    for i in range(staff_count):
        member = DutyStaff.objects.create(
            name=f"值守{i}",
            township_code=FUQIANG,
            post=post,
            sex="M",
            birth_year=1980,
            education=2,
            role="volunteer",
        )
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(0)))
        Assignment.objects.create(
            roster=roster,
            post=post,
            staff=member,
            region_code=post.region_code,
            day=day,
            shift=0,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=8),
            checked_in_at=start if checked else None,
        )
    return roster


def test_post_unstaffed_at_night(post_a):
    now = timezone.localtime().replace(hour=10)
    _published(post_a, staff_count=1, day=now.date())
    found = inspection.run(hooks.UNSTAFFED, inspection.RuleQuery(prefix=FUQIANG, now=now))
    assert len(found) == 1 and "只排了 1 人" in found[0].what


def test_missed_check_in(post_a):
    now = timezone.localtime().replace(hour=3)
    _published(post_a, staff_count=2, day=now.date(), checked=False)
    found = inspection.run(hooks.MISSED_CHECK_IN, inspection.RuleQuery(prefix=FUQIANG, now=now))
    assert len(found) == 2 and "未在" in found[0].what


def test_check_in_by_the_staff_member(staff, post_a):
    now = timezone.localtime().replace(hour=3)
    roster = _published(post_a, staff_count=1, day=now.date(), checked=False)
    a = roster.assignments.get()
    a.staff.user = staff
    a.staff.save()
    done = services.check_in(actor=staff, assignment_id=a.pk, at=now)
    assert done.checked_in_at == now
    assert (
        inspection.run(hooks.MISSED_CHECK_IN, inspection.RuleQuery(prefix=FUQIANG, now=now)) == []
    )


def test_passages_feed_the_person_timeline(staff, township, post_a, resident):
    services.record_passages(
        actor=staff,
        post_id=post_a.pk,
        items=[services.PassageInput(person_id=resident.pk, temperature=Decimal("38.0"))],
    )
    entries = [e for e in timeline.entries_for(township, resident.pk) if e.module == "checkpoints"]
    assert len(entries) == 1 and entries[0].tone == "alert"
    assert "富强村东卡点" in entries[0].title


def test_staff_home_and_module_registered():
    assert modules.get("checkpoints") is not None
    assert (
        any(h.role == Role.CHECKPOINT_STAFF for h in modules._HOMES)
        if hasattr(modules, "_HOMES")
        else True
    )


def test_demo_story(county, make_user, make_person):
    from fangkong.checkpoints import demo
    from fangkong.checkpoints.models import Passage, Post
    from fangkong.core.demo import DemoContext
    from tests.conftest import GRID_A1

    for i in range(30):
        make_person(GRID_A1, f"居民{i}")
    users = {
        "kadian": make_user(
            Role.CHECKPOINT_STAFF, FUQIANG, username="kadian", display_name="卡点值守 孙强"
        ),
        "fuqiang": make_user(Role.TOWNSHIP, FUQIANG, username="fuqiang"),
        "ducha": make_user(Role.INSPECTOR, COUNTY, username="ducha"),
    }
    for hour in (8,):
        # The last 08:00 that has passed (the inspection happened before it, never after now).
        now = timezone.localtime().replace(hour=hour, minute=0)
        if now > timezone.localtime():
            now -= dt.timedelta(days=1)
        context = DemoContext(
            now=now, users=users, county=COUNTY, township=FUQIANG, village=VILLAGE_A, grid=GRID_A1
        )
        line = demo.seed_demo(context)
        assert line and "卡点演示数据" in line and "已发布" in line, line
    assert Post.objects.count() == 16
    assert Roster.objects.get().status == "published"
    assert Passage.objects.filter(verdict="refuse").exists()
    assert Passage.objects.filter(kind="vehicle", occupants=3).exists()
    failed = [i for i in Inspection.objects.all() if i.failed]
    assert len(failed) == 1
    assert failed[0].failed == [str(Finding.AWAKE.label), str(Finding.LOGGING.label)]
    assert demo.seed_demo(context) is None
