"""The demo's story holds whatever hour it is started (issue 12): the seeders run with the
clock frozen at 08:00, 13:00 and 22:00 (Asia/Shanghai), and every module home shows data
that is under way, not empty and not already over."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from fangkong.screening.models import ScreeningDecision, VisitTask
from fangkong.testing.demo import ROUND_NAME
from fangkong.testing.models import Campaign, RecallEntry

from . import demo_world


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("hour", [0, 8, 13, 22])
def test_demo_story_holds_at_any_hour(hour, make_user, make_person):
    moment = f"2026-12-03T{hour:02d}:00:00+08:00"
    with freeze_time(moment):
        context = demo_world.build(make_user, make_person)
        assert timezone.localtime(context.now).hour == hour
        lines = demo_world.run_seeders(context)
        assert any(line.startswith("排查") for line in lines), lines
        assert any(line.startswith("核酸") for line in lines), lines
        users = context.users
        now = timezone.now()

        # Screening: current decisions that are running, visits due in the future.
        decisions = ScreeningDecision.objects.exclude(measure="none")
        assert decisions.count() >= 3
        assert all(d.end_date >= timezone.localdate() for d in decisions if d.end_date)
        open_visits = VisitTask.objects.filter(status="open")
        assert open_visits.exists(), lines
        assert all(v.due_at > now for v in open_visits), [(v.due_at, now) for v in open_visits]
        html = _page(users["cun"]).get("/screening/").content.decode()
        assert "下达隔离" in html and "集中隔离" in html
        visits = _page(users["wangge"]).get("/screening/visits/").content.decode()
        assert any(v.person.name in visits for v in open_visits)

        # Testing: the round is under way now, samples taken, one pool recalled.
        campaign = Campaign.objects.get(name=ROUND_NAME)
        assert campaign.starts_at <= now <= campaign.ends_at
        assert RecallEntry.objects.filter(campaign=campaign).count() == 10
        sampler = _page(users["caiyang"])
        home = sampler.get("/", follow=True)
        # The sampler opens on the scan screen of the round under way (a fixed address, so
        # the field app keeps it offline).
        assert home.redirect_chain[-1][0] == "/testing/scan/"
        assert ROUND_NAME in home.content.decode()
        assert ROUND_NAME in sampler.get("/testing/").content.decode()
        recalls = _page(users["fuqiang"]).get(f"/testing/rounds/{campaign.pk}/recalls/")
        recalled = RecallEntry.objects.filter(campaign=campaign).first().person.name
        assert recalled in recalls.content.decode()

        # Every role's home page answers with content of its own.
        for username, user in users.items():
            answer = _page(user).get("/", follow=True)
            assert answer.status_code == 200, (username, answer.status_code)

        # The person page tells the returnee's story from both modules.
        returnee = decisions.filter(measure="centralised").first().person
        page = _page(users["cun"]).get(f"/persons/{returnee.pk}/").content.decode()
        assert "研判决定" in page and "外出停留" in page
        sampled = RecallEntry.objects.filter(campaign=campaign).first().person
        page = _page(users["cun"]).get(f"/persons/{sampled.pk}/").content.decode()
        assert "召回复核" in page and "核酸采样" in page


def test_demo_seeders_are_idempotent(make_user, make_person):
    with freeze_time("2026-12-03T13:00:00+08:00"):
        context = demo_world.build(make_user, make_person)
        demo_world.run_seeders(context)
        decisions = ScreeningDecision.objects.count()
        again = demo_world.run_seeders(context)
        assert not any(line.startswith(("排查：风险", "核酸")) for line in again)
        assert ScreeningDecision.objects.count() == decisions
        assert dt.timedelta(0) <= timezone.now() - context.now < dt.timedelta(seconds=1)
