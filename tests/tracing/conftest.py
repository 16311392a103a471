"""Fixtures of the tracing tests: an investigator of the county, persons in villages A and C,
and a small helper to build contact graphs by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.tracing import services
from fangkong.tracing.models import CaseStatus
from tests.conftest import COUNTY, GRID_A1, GRID_A2, GRID_C1, VILLAGE_A, VILLAGE_C

ONSET = dt.date.today() - dt.timedelta(days=3)


@pytest.fixture
def investigator(make_user):
    return make_user(Role.INVESTIGATOR, COUNTY, username="liudiao", display_name="流调员王")


@pytest.fixture
def people(make_person):
    """Ten persons in grid A1 (p0..p9), two in A2 and two in village C."""
    found = {f"p{i}": make_person(GRID_A1, f"甲{i}") for i in range(10)}
    found.update({f"a2_{i}": make_person(GRID_A2, f"乙{i}") for i in range(2)})
    found.update({f"c{i}": make_person(GRID_C1, f"丙{i}") for i in range(2)})
    return found


@pytest.fixture
def case_of(investigator):
    def make(person, status=CaseStatus.CONFIRMED, onset=ONSET, user=None, **extra):
        return services.record_case(
            user=user or investigator,
            data=services.CaseInput(
                status=status,
                person_id=person.pk,
                onset_date=onset,
                confirmation_date=onset + dt.timedelta(days=1)
                if status in (CaseStatus.CONFIRMED, CaseStatus.ASYMPTOMATIC)
                else None,
                **extra,
            ),
        )

    return make


@pytest.fixture
def link(investigator):
    def make(case, a, b, *, days_ago=1, user=None, kind="meal"):
        return services.record_contact(
            user=user or investigator,
            case_id=case.pk,
            exposure_type=kind,
            contact_person_id=b.pk,
            from_person_id=a.pk,
            last_exposure_date=dt.date.today() - dt.timedelta(days=days_ago),
        ).link

    return make


__all__ = ["GRID_A1", "GRID_C1", "VILLAGE_A", "VILLAGE_C"]
