"""Suspected cases from testing reach tracing by themselves: a positive single tube opens a
suspected case here (or links the person's open case), with where it came from, for the
investigator of the region only; the testing side is marked handed over with a link. The
two modules talk through ``fangkong.core.signals`` only, and the same suspected case never
opens two records."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from fangkong.core import signals
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.testing import services as testing
from fangkong.testing.ingest import ScanRow
from fangkong.testing.models import Sample, SuspectedCase, Tube
from fangkong.tracing import services
from fangkong.tracing.models import Case, CaseStatus, FoundVia, TestingReferral
from tests.conftest import GRID_A1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lab(make_user):
    """A round of village A, its sampler (who also imports the lab's results), and
    investigators of village A and of village C."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    now = timezone.now()
    campaign = testing.create_campaign(
        user=cadre,
        name="富强村第二轮",
        region_codes=[VILLAGE_A],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
    )
    return {
        "campaign": campaign,
        "sampler": make_user(Role.TESTING_STAFF, VILLAGE_A),
        "investigator": make_user(Role.INVESTIGATOR, VILLAGE_A, username="cdc_a"),
        "outsider": make_user(Role.INVESTIGATOR, VILLAGE_C, username="cdc_c"),
    }


def positive_single(lab, person, tube: str = "ONE-1"):
    testing.ingest_samples(
        user=lab["sampler"],
        campaign_id=lab["campaign"].pk,
        rows=[
            ScanRow(
                device_sample_id=f"dev-{tube}",
                tube=tube,
                sampled_at=timezone.now(),
                id_number=person.id_number,
                capacity=1,
            ),
        ],
    )
    return testing.record_results(
        user=lab["sampler"],
        campaign_id=lab["campaign"].pk,
        source="lab.csv",
        results=[(tube, "positive", 1)],
    )


def test_a_positive_single_tube_opens_a_suspected_case_for_the_investigator(lab, make_person):
    person = make_person(GRID_A1, "赵敏")
    report = positive_single(lab, person)
    assert report.suspected_cases == 1

    case = Case.objects.get()
    assert (case.person_id, case.region_code, case.status, case.found_via) == (
        person.pk,
        GRID_A1,
        CaseStatus.SUSPECTED,
        FoundVia.TESTING_ROUND,
    )
    assert case.investigator == lab["investigator"]  # the one whose area covers the person
    assert case.report_date == timezone.localdate()
    tube, sample = Tube.objects.get(barcode="ONE-1"), Sample.objects.get()
    referral = case.referrals.get()
    assert (
        referral.campaign_name,
        referral.tube_barcode,
        referral.resulted_at,
        referral.sampled_at,
    ) == ("富强村第二轮", "ONE-1", tube.resulted_at, sample.sampled_at)

    suspected = SuspectedCase.objects.get()
    assert suspected.status == SuspectedCase.Status.HANDED_OVER
    assert suspected.handed_over_ref == f"tracing.case:{case.pk}"
    assert suspected.handed_over_url == f"/tracing/cases/{case.pk}/"
    assert suspected.handed_over_at is not None
    assert AuditEvent.objects.filter(
        object_type="case", object_id=str(case.pk), kind="create", user=lab["sampler"]
    ).exists()

    # The investigator of village A finds it on the case list, with its source.
    mine = client_for(lab["investigator"])
    home = mine.get("/tracing/").content.decode()
    assert "赵敏" in home and f"/tracing/cases/{case.pk}/" in home
    assert "富强村第二轮" in home and "ONE-1" in home and "出阳性结果" in home
    detail = mine.get(f"/tracing/cases/{case.pk}/").content.decode()
    assert "核酸检测移交" in detail and "ONE-1" in detail
    listed = ApiClient(lab["investigator"]).get("/tracing/cases").json()
    assert [(c["id"], c["status"], c["referrals"][0]["tube_barcode"]) for c in listed] == [
        (case.pk, "suspected", "ONE-1")
    ]
    # The testing module's list links to the tracing record.
    suspected_page = mine.get("/testing/suspected/").content.decode()
    assert f'href="/tracing/cases/{case.pk}/"' in suspected_page and "已移交流调" in suspected_page


def test_an_investigator_of_another_village_does_not_see_it(lab, make_person):
    positive_single(lab, make_person(GRID_A1, "赵敏"))
    case = Case.objects.get()
    outsider = client_for(lab["outsider"])
    assert "赵敏" not in outsider.get("/tracing/").content.decode()
    assert outsider.get(f"/tracing/cases/{case.pk}/").status_code == 404
    api = ApiClient(lab["outsider"])
    assert api.get("/tracing/cases").json() == []
    assert api.get(f"/tracing/cases/{case.pk}").status_code == 404
    # A role without tracing sees no case list at all.
    assert client_for(lab["sampler"]).get("/tracing/").status_code == 403


def test_the_same_suspected_case_never_opens_two_records(lab, make_person):
    person = make_person(GRID_A1, "赵敏")
    positive_single(lab, person)
    suspected = SuspectedCase.objects.get()
    found = signals.SuspectedCaseFound(
        ref=f"testing.suspected_case:{suspected.pk}",
        suspected_case_id=suspected.pk,
        person_id=person.pk,
        region_code=GRID_A1,
        campaign_id=lab["campaign"].pk,
        campaign_name="富强村第二轮",
        tube_barcode="ONE-1",
        sampled_at=timezone.now(),
        resulted_at=timezone.now(),
    )
    # Announced again (a resent signal, a replayed task): the same record answers.
    responses = signals.suspected_case_found.send(sender=SuspectedCase, cases=[found, found])
    taken = [item for _receiver, items in responses for item in items]
    case = Case.objects.get()
    assert {(t.suspected_case_id, t.ref) for t in taken} == {
        (suspected.pk, f"tracing.case:{case.pk}")
    }
    # The lab's file imported again changes nothing either.
    again = testing.record_results(
        user=lab["sampler"],
        campaign_id=lab["campaign"].pk,
        source="lab.csv",
        results=[("ONE-1", "positive", 1)],
    )
    assert (again.applied, again.unchanged, again.suspected_cases) == (0, 1, 0)
    assert (Case.objects.count(), TestingReferral.objects.count()) == (1, 1)
    # The key is unique in the database too, whatever path writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        TestingReferral.objects.create(
            case=case,
            source_ref=found.ref,
            region_code=GRID_A1,
            campaign_name="x",
            tube_barcode="ONE-1",
            sampled_at=timezone.now(),
            resulted_at=timezone.now(),
        )


def test_a_person_with_an_open_case_is_linked_not_opened_twice(lab, make_person):
    person = make_person(GRID_A1, "赵敏")
    existing = services.record_case(
        user=lab["investigator"],
        data=services.CaseInput(status=CaseStatus.SUSPECTED, person_id=person.pk),
    )
    positive_single(lab, person)
    assert list(Case.objects.all()) == [existing]
    assert existing.referrals.get().tube_barcode == "ONE-1"
    assert SuspectedCase.objects.get().handed_over_ref == f"tracing.case:{existing.pk}"
    # An excluded case is closed: a new positive opens a new case.
    services.change_case_status(
        user=lab["investigator"],
        case_id=existing.pk,
        version=existing.version,
        status=CaseStatus.EXCLUDED,
    )
    other = make_person(GRID_A1, "钱七")
    excluded = services.record_case(
        user=lab["investigator"],
        data=services.CaseInput(status=CaseStatus.SUSPECTED, person_id=other.pk),
    )
    services.change_case_status(
        user=lab["investigator"],
        case_id=excluded.pk,
        version=excluded.version,
        status=CaseStatus.EXCLUDED,
    )
    positive_single(lab, other, tube="ONE-3")
    fresh = Case.objects.exclude(pk__in=[existing.pk, excluded.pk]).get()
    assert (fresh.person_id, fresh.status) == (other.pk, CaseStatus.SUSPECTED)


def test_a_failing_tracing_side_never_loses_the_lab_results(lab, make_person, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("tracing is down")

    monkeypatch.setattr(services, "take_suspected_case", broken)
    report = positive_single(lab, make_person(GRID_A1, "赵敏"))
    assert report.applied == 1 and report.suspected_cases == 1
    assert Tube.objects.get(barcode="ONE-1").result == "positive"
    suspected = SuspectedCase.objects.get()
    assert (suspected.status, suspected.handed_over_ref) == (SuspectedCase.Status.NEW, "")
    assert not Case.objects.exists()
    # Still in the testing module's inbox for the investigator.
    page = client_for(lab["investigator"]).get("/testing/suspected/").content.decode()
    assert "赵敏" in page
