"""Cross-region notices (协查) round-trip between two jurisdictions.

Village A's investigator records a contact who lives in village C; C's cadre finds it in the
inbox, names the resident, and returns the result. Each side sees its own people in full
and the other side's masked, in the API as in the services.
"""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.tracing import selectors, services
from fangkong.tracing.models import Classification, NoticeStatus, TracingTask
from tests.conftest import GRID_C1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sides(make_user, make_person):
    investigator_a = make_user(Role.INVESTIGATOR, VILLAGE_A, display_name="甲村流调员")
    cadre_c = make_user(Role.VILLAGE_CADRE, VILLAGE_C, display_name="丙社区干部")
    grid_c = make_user(Role.GRID_WORKER, GRID_C1)
    patient = make_person(VILLAGE_A + "001", "赵敏", phone="13900000011")
    resident_c = make_person(GRID_C1, "钱多多", phone="13900000022")
    case = services.record_case(
        user=investigator_a,
        data=services.CaseInput(
            status="confirmed",
            person_id=patient.pk,
            onset_date=dt.date.today() - dt.timedelta(days=2),
        ),
    )
    return investigator_a, cadre_c, grid_c, patient, resident_c, case


def test_round_trip_with_each_side_seeing_only_its_own_people(two_sides):
    investigator_a, cadre_c, grid_c, _patient, resident_c, case = two_sides
    api_a, api_c = ApiClient(investigator_a), ApiClient(cadre_c)
    sent = api_a.post(
        f"/tracing/cases/{case.pk}/contacts",
        {
            "exposure_type": "meal",
            "last_exposure_date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
            "elsewhere": {"name": "钱多多", "phone": "13900000022", "region_code": VILLAGE_C},
        },
    )
    assert sent.status_code == 201, sent.content
    notice_id = sent.json()["notice_id"]
    assert sent.json()["link_id"] is None

    inbox = api_c.get("/tracing/notices?box=in").json()["items"]
    assert [n["id"] for n in inbox] == [notice_id]
    seen_by_c = inbox[0]
    assert seen_by_c["subject_name"] == "钱多多"
    assert seen_by_c["subject_phone"] == "13900000022"
    assert seen_by_c["case_name"] == "赵*" and seen_by_c["case_id"] is None

    outbox = api_a.get("/tracing/notices?box=out").json()["items"]
    seen_by_a = outbox[0]
    assert seen_by_a["subject_name"] == "钱**" and "13900000022" not in str(seen_by_a)
    assert seen_by_a["case_name"] == "赵敏" and seen_by_a["status"] == NoticeStatus.SENT
    assert api_a.get("/tracing/notices?box=in").json()["items"] == []

    assert api_c.post(f"/tracing/notices/{notice_id}/receive", {}).json()["status"] == "received"
    assert api_a.get(f"/tracing/notices/{notice_id}").json()["status"] == "received"
    # The sender cannot act for the receiver.
    assert (
        api_a.post(f"/tracing/notices/{notice_id}/accept", {"person_id": resident_c.pk}).status_code
        == 404
    )

    accepted = api_c.post(f"/tracing/notices/{notice_id}/accept", {"person_id": resident_c.pk})
    assert accepted.status_code == 200, accepted.content
    assert Classification.objects.get(person=resident_c).level == "close"
    task = TracingTask.objects.get(person=resident_c)
    assert task.assignee == grid_c and task.region_code == GRID_C1

    # The case's contact list on A's side shows C's resident masked, with the region.
    contacts = api_a.get(f"/tracing/cases/{case.pk}/contacts").json()["items"]
    assert [(c["name"], c["region_code"], c["person_id"], c["phone"]) for c in contacts] == [
        ("钱**", GRID_C1, None, "")
    ]
    # C sees its own unreached resident; A's unreached list does not include them.
    assert [t["name"] for t in api_c.get("/tracing/unreached").json()["tasks"]] == ["钱多多"]
    assert api_a.get("/tracing/unreached").json()["tasks"] == []

    done = api_c.post(
        f"/tracing/notices/{notice_id}/result", {"result": "已落实，集中隔离于县第二隔离点"}
    )
    assert done.status_code == 200
    back = api_a.get(f"/tracing/notices/{notice_id}").json()
    assert back["status"] == "result" and back["result"].startswith("已落实")
    assert back["subject_name"] == "钱**"


def test_notice_outside_the_system_gets_its_result_from_the_sender(two_sides):
    investigator_a, cadre_c, *_rest, case = two_sides
    outcome = services.record_contact(
        user=investigator_a,
        case_id=case.pk,
        exposure_type="vehicle",
        elsewhere=services.ElsewhereContact(name="孙立", destination="哈尔滨市南岗区"),
    )
    notice = outcome.notice
    assert selectors.notices(cadre_c, box="in") == []
    services.record_notice_result(
        user=investigator_a, notice_id=notice.pk, result="南岗区疾控电话回复：已管控"
    )
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.RESULT
