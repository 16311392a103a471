"""`fangkong demo --no-serve`: a real county, demo users who can log in, module demo data."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from fangkong.core.models import Region, User
from fangkong.core.roles import Role
from fangkong.people.models import Household, Person


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_demo_prepares_county_users_and_isolation_round(settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "static"
    out = io.StringIO()
    call_command("demo", "--no-serve", "--residents", "3000", stdout=out)
    printed = out.getvalue()
    assert "http://127.0.0.1:8000/" in printed and "fangkong-demo" in printed
    assert Person.objects.count() == 3000
    assert Household.objects.exists()
    # 拜泉县 with its 16 real townships, villages generated below them.
    assert Region.objects.get(code="230231106").name == "富强镇"
    assert Region.objects.filter(level="township", code__startswith="230231").count() == 16
    cun = User.objects.get(username="cun")
    assert cun.role == Role.VILLAGE_CADRE and cun.region_codes[0].startswith("230231106")
    assert client.login(username="cun", password="fangkong-demo")
    from fangkong.quarantine.models import IsolationOrder

    returnees = IsolationOrder.objects.filter(manual_reason__startswith="演示数据")
    assert returnees.filter(status="active").count() == 40
    assert returnees.filter(status="released").count() == 1
    orders = IsolationOrder.objects.count()
    from fangkong.tracing.models import Case, Classification

    assert Case.objects.count() == 1
    levels = set(Classification.objects.values_list("level", flat=True))
    assert levels == {"close", "secondary"}
    # A second run reuses everything and seeds nothing twice.
    call_command("demo", "--no-serve", "--residents", "3000", stdout=io.StringIO())
    assert Person.objects.count() == 3000
    assert IsolationOrder.objects.count() == orders
    assert Case.objects.count() == 1
