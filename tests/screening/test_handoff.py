"""Hand-offs from screening to isolation (issue 12): a ledger import evaluates at once, a
decision offers the isolation order form prefilled from it, and a visit's outcome orders
the isolation through ``core.isolation`` (never the isolation module's services)."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from freezegun import freeze_time
from openpyxl import Workbook

from fangkong.core import isolation
from fangkong.core.roles import Role
from fangkong.screening import handoff, ledgers, services
from fangkong.screening.models import LedgerImport, ScreeningDecision, Stay, VisitTask
from tests.conftest import COUNTY, GRID_A1, VILLAGE_A, new_id_number

from .conftest import STANDARD_RULES


def _flag(make_person, hq, name="张伟"):
    person = make_person(GRID_A1, name)
    Stay.objects.create(
        person=person,
        region_code=person.region_code,
        place_code="420103",
        place="武汉市江汉区",
        arrived=dt.date(2022, 1, 3),
        left=dt.date(2022, 1, 5),
        source="police",
    )
    services.publish_policy(
        user=hq, region_code=COUNTY, title="拜泉县返乡管控", notice="", rules=STANDARD_RULES
    )
    return person


def _page(user):
    client = Client()
    client.force_login(user)
    return client


@freeze_time("2022-01-10 12:00:00")
def test_decision_offers_the_isolation_form_prefilled(make_user, make_person, hq, high_area):
    person = _flag(make_person, hq)
    decision = ScreeningDecision.objects.get(person=person)
    url = handoff.isolation_form_url(decision)
    query = parse_qs(urlparse(url).query)
    assert urlparse(url).path == "/quarantine/orders/new/"
    assert query["person"] == [str(person.pk)]
    assert query["kind"] == ["centralised"] and query["days"] == ["14"]
    assert query["starts_at"] == ["2022-01-06T00:00"]  # day 1 = the day after the exposure
    assert query["required_test_days"] == ["1,4,7,14"]
    assert query["next_kind"] == ["home"] and query["next_days"] == ["7"]
    assert "第1版" in query["policy_version"][0] and "武汉" in query["manual_reason"][0]
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    html = _page(cadre).get("/screening/").content.decode()
    assert "下达隔离" in html and f"person={person.pk}" in html
    assert "集中隔离 14 天" in html  # the measure in words, not "centralised"
    # A role that may not order isolation gets no button.
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    assert "下达隔离" not in _page(doctor).get("/screening/").content.decode()


@freeze_time("2022-01-10 12:00:00")
def test_the_quarantine_form_reads_every_parameter_of_the_decisions_link(
    make_user, make_person, hq, high_area
):
    """The link's names (docs/screening.md) are the ones the order form prefills from."""
    import re

    person = _flag(make_person, hq)
    decision = ScreeningDecision.objects.get(person=person)
    url = handoff.isolation_form_url(decision)
    query = parse_qs(urlparse(url).query)
    county_hq = make_user(Role.COUNTY_HQ, COUNTY)
    page = _page(county_hq).get(url).content.decode()
    assert person.name in page  # person
    assert re.search(r'<option value="centralised" selected', page)  # kind
    assert 'value="2022-01-06T00:00"' in page  # starts_at
    assert 'name="days" value="14"' in page or re.search(r'value="14"[^>]*name="days"', page)
    assert 'value="1,4,7,14"' in page  # required_test_days
    assert query["policy_version"][0] in page  # policy version by name
    assert query["manual_reason"][0] in page  # reason
    assert re.search(r'<option value="home" selected', page)  # next_kind


class FakeOrderer:
    def __init__(self):
        self.requests = []

    def order(self, request, *, by_user, channel):
        self.requests.append((request, by_user))
        return isolation.IsolationPlaced(order_id=7, url="/quarantine/orders/7/", created=True)

    def orders_for(self, sources):
        return {}


@pytest.fixture
def orderer(monkeypatch):
    fake = FakeOrderer()
    monkeypatch.setattr(isolation, "_orderer", fake)
    return fake


@freeze_time("2022-01-10 12:00:00")
def test_visit_outcome_orders_isolation_through_core_isolation(
    make_user, make_person, hq, high_area, orderer
):
    person = _flag(make_person, hq)
    task = VisitTask.objects.get(person=person)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    client = _page(cadre)
    form = client.get(f"/screening/visits/{task.pk}/").content.decode()
    assert "集中隔离 14 天" in form
    answer = client.post(
        f"/screening/visits/{task.pk}/",
        {"present": "yes", "health": "normal", "phone": "", "note": "", "isolate": "on"},
    )
    assert answer.status_code == 302 and answer.url == "/quarantine/orders/7/"
    ((request, by_user),) = orderer.requests
    assert by_user == cadre and request.person_id == person.pk
    assert request.kind == "centralised" and request.days == 14
    assert request.required_test_days == (1, 4, 7, 14)
    assert request.source == f"screening.visit:{task.pk}"
    assert request.starts_at.date() == dt.date(2022, 1, 6)


@freeze_time("2022-01-10 12:00:00")
def test_import_evaluates_at_once_and_lists_the_decisions(
    make_user, hq, high_area, settings, tmp_path
):
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"
    services.publish_policy(
        user=hq, region_code=COUNTY, title="拜泉县返乡管控", notice="", rules=STANDARD_RULES
    )
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    head = [c.header for c in ledgers.COLUMNS["arrivals"]]
    book = Workbook()
    book.active.append(head)
    row = {
        "姓名": "返乡甲",
        "身份证号": new_id_number(),
        "手机号": "13912345678",
        "所属村组": ledgers.own_regions(cadre)[GRID_A1],
        "从何地来": "湖北省武汉市江汉区",
        "来源地代码": "420103",
        "在该地起始日期": "2022-01-03",
        "离开该地日期": "2022-01-05",
    }
    book.active.append([row.get(h, "") for h in head])
    out = io.BytesIO()
    book.save(out)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _page(cadre)
    answer = client.post(
        "/screening/ledgers/upload/",
        {
            "kind": "arrivals",
            "mode": "valid",
            "source": "village",
            "file": SimpleUploadedFile("返乡.xlsx", out.getvalue()),
        },
    )
    ledger = LedgerImport.objects.get()
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert ledger.changes["decisions"] == 1 and ledger.changes["visits"] == 1
    html = client.get(f"/screening/ledgers/imports/{ledger.pk}/").content.decode()
    assert "返乡甲" in html and "集中隔离 14 天" in html and "下达隔离" in html


@freeze_time("2022-01-10 12:00:00")
def test_an_order_names_the_visit_and_the_decision_it_came_from(
    make_user, make_person, hq, high_area
):
    person = _flag(make_person, hq)
    task = VisitTask.objects.get(person=person)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    visit = isolation.describe_source(cadre, f"screening.visit:{task.pk}")
    assert visit is not None and visit.label.startswith("入户走访后下达")
    assert visit.url == f"/screening/visits/{task.pk}/"
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)  # may not record visits: no link
    assert isolation.describe_source(doctor, f"screening.visit:{task.pk}").url == ""
    decision = ScreeningDecision.objects.get(person=person)
    named = isolation.describe_source(cadre, f"screening.decision:{decision.pk}")
    assert (
        named is not None
        and named.label.startswith("筛查研判（")
        and decision.reason in named.label
    )
    assert isolation.describe_source(cadre, "screening.visit:999999") is None
    assert isolation.describe_source(cadre, "somewhere.else:1") is None
