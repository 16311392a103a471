"""The investigator's journey through the pages, in Chinese: record a case, its trajectory,
an event and contacts; see close and secondary contacts with who must reach them; export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangkong.core.roles import Role
from fangkong.tracing.models import Case, Notice
from tests.conftest import GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


def test_investigator_records_a_case_with_its_event_in_chinese(make_user, make_person):
    investigator = make_user(Role.INVESTIGATOR, VILLAGE_A, display_name="流调员")
    grid = make_user(Role.GRID_WORKER, GRID_A1, display_name="网格员小李")
    patient = make_person(GRID_A1, "赵敏")
    guest = make_person(GRID_A1, "钱多多")
    guest_of_guest = make_person(GRID_A1, "孙立")
    client = Client()
    client.force_login(investigator)
    home = client.get("/tracing/")
    assert "流调" in home.content.decode() or "病例" in home.content.decode()
    onset = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    response = client.post(
        "/tracing/cases/new/",
        {
            "status": "confirmed",
            "person_id": patient.pk,
            "onset_date": onset,
            "found_via": "fever_clinic",
            "hospital": "县人民医院",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tracing/cases/{case.pk}/"
    start = timezone.localtime(timezone.now() - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/tracing/cases/{case.pk}/timeline/", {"starts_at": start, "place": "富强村饭店"})
    response = client.post(
        "/tracing/events/new/",
        {
            "kind": "dinner",
            "title": "同学聚餐",
            "place": "富强村饭店",
            "region_code": VILLAGE_A,
            "starts_at": start,
            "ends_at": start,
            "attendees": f"{patient.name}，{guest.name}",
        },
    )
    assert response.status_code == 302
    client.post(
        f"/tracing/cases/{case.pk}/contacts/",
        {
            "exposure_type": "household",
            "contact_person_id": guest_of_guest.pk,
        },
    )
    client.post(
        f"/tracing/cases/{case.pk}/contacts/",
        {
            "exposure_type": "work",
            "elsewhere_name": "周杰",
            "elsewhere_destination": "拜泉镇东升社区",
        },
    )
    assert Notice.objects.count() == 1
    page = client.get(f"/tracing/cases/{case.pk}/").content.decode()
    assert "钱多多" in page and "孙立" in page and "密切接触者" in page
    assert "网格员小李" in page and "富强村饭店" in page
    assert grid.pk
    workbook = client.get("/tracing/chains.xlsx")
    assert workbook.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook.content)).get_sheet_by_index(0)
    rows = sheet.to_python()
    assert rows[1][2] == "赵敏"
    chain = client.get("/api/v1/tracing/chains").json()
    assert {n["label"] for n in chain["nodes"]} == {"赵敏", "钱多多", "孙立"}
