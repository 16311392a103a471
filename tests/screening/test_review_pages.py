"""The review pages: candidate pairs side by side confirmed or rejected in the browser
(decisions stored and reused), the grid worker's visit form; Chinese, denials, masking."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.screening import reconciliation
from fangkong.screening.models import CandidatePair, SourceRecord
from fangkong.screening.reconciliation import RecordInput
from tests.conftest import GRID_A1, VILLAGE_A, VILLAGE_C

from .test_pages import browser

PHONE = "13900002222"
MASKED = "139****2222"
REASON = "于2022-01-03至01-05在武汉市江汉区停留"


@pytest.fixture
def pair(make_user, make_person):
    """A police entry without an ID number that sounds like a registered person: a pair."""
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    vague = make_person(
        GRID_A1, "赵敏", id_number=None, phone=PHONE, birth_date=dt.date(1992, 2, 2), sex="F"
    )
    reconciliation.add_records(
        user=cadre,
        source="police",
        records=[
            RecordInput(
                "赵民", GRID_A1, dt.date(2022, 1, 5), sex="F", birth_date=dt.date(1992, 2, 2)
            )
        ],
    )
    reconciliation.reconcile(user=cadre, region_code=VILLAGE_A)
    found = CandidatePair.objects.get()
    assert found.person == vague
    return found


def test_reconciliation_page_in_chinese_shows_pair_side_by_side(pair, make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    home = browser(cadre).get("/screening/").content.decode()
    assert "/screening/reconciliation/" in home
    page = browser(cadre).get("/screening/reconciliation/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "名单比对" in body and "待核实" in body and "确认：同一人" in body
    assert "赵民" in body and "赵敏" in body and "zhaomin" in body and "1992-02-02" in body
    assert PHONE in body  # cadres see the registered person's full phone
    assert "公安名单有、村未上报" in body


def test_confirm_in_the_browser_links_the_record(pair, make_user):
    cadre = browser(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    answer = cadre.post(
        f"/screening/reconciliation/pairs/{pair.pk}/confirm/", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200 and "已确认" in answer.content.decode()
    pair.refresh_from_db()
    record = SourceRecord.objects.get()
    assert pair.status == "confirmed" and record.person_id == pair.person_id
    assert record.link_method == "confirmed"
    again = cadre.post(
        f"/screening/reconciliation/pairs/{pair.pk}/reject/", headers={"HX-Request": "true"}
    )
    assert again.status_code == 200 and "已处理" in again.content.decode()
    pair.refresh_from_db()
    assert pair.status == "confirmed"


def test_rejection_is_stored_and_reused(pair, make_user):
    user = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    answer = browser(user).post(f"/screening/reconciliation/pairs/{pair.pk}/reject/")
    assert answer.status_code == 302 and answer.url == "/screening/reconciliation/"
    pair.refresh_from_db()
    assert pair.status == "rejected" and pair.decided_by == user
    reconciliation.reconcile(user=user, region_code=VILLAGE_A)
    assert not CandidatePair.objects.filter(status="pending").exists()
    page = browser(user).get("/screening/reconciliation/").content.decode()
    assert "没有待核实" in page


def test_reconciliation_denials_and_masking(pair, make_user):
    url = f"/screening/reconciliation/pairs/{pair.pk}/confirm/"
    assert browser().post(url).status_code == 302  # to the login page
    supply = browser(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    assert supply.get("/screening/reconciliation/").status_code == 403
    doctor = browser(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))  # view only, masked IDs
    assert doctor.post(url).status_code == 403
    assert browser(make_user(Role.VILLAGE_CADRE, VILLAGE_C)).post(url).status_code == 404
    assert browser(make_user(Role.VILLAGE_CADRE, VILLAGE_A)).get(url).status_code == 405
    inspector = browser(make_user(Role.INSPECTOR, VILLAGE_A))  # no phone permission
    body = inspector.get("/screening/reconciliation/").content.decode()
    assert "赵民" in body and MASKED in body and PHONE not in body
    assert "确认：同一人" not in body  # no buttons for a role that may not decide
    pair.refresh_from_db()
    assert pair.status == "pending"
    outsider = browser(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert "赵民" not in outsider.get("/screening/reconciliation/").content.decode()


@pytest.fixture
def visit(make_visit_task):
    return make_visit_task(name="张伟", due_in=-1, person_fields={"phone": PHONE}, reason=REASON)


def test_visit_list_and_form_in_chinese(visit, make_user):
    worker = browser(make_user(Role.GRID_WORKER, GRID_A1))
    listing = worker.get("/screening/visits/").content.decode()
    assert "待走访" in listing and "张伟" in listing and "已超时" in listing
    assert "visit-overdue" in listing and PHONE in listing  # grid workers see full phones
    form = worker.get(f"/screening/visits/{visit.pk}/").content.decode()
    assert "是否在家" in form and "武汉市江汉区" in form and f'value="{PHONE}"' in form
    wrong = worker.post(
        f"/screening/visits/{visit.pk}/", {"present": "yes", "health": "symptoms", "phone": PHONE}
    )
    assert wrong.status_code == 200 and "请填写症状或体温" in wrong.content.decode()
    bad_phone = worker.post(
        f"/screening/visits/{visit.pk}/", {"present": "yes", "health": "normal", "phone": "12345"}
    )
    assert (
        bad_phone.status_code == 200 and 'class="field field-error"' in bad_phone.content.decode()
    )
    done = worker.post(
        f"/screening/visits/{visit.pk}/",
        {
            "present": "yes",
            "health": "symptoms",
            "temperature": "37.8",
            "symptoms": "咳嗽",
            "phone": "139 1111 2222",
            "note": "已告知居家",
        },
    )
    assert done.status_code == 302 and done.url == "/screening/visits/"
    visit.refresh_from_db()
    assert visit.status == "done" and visit.present is True and visit.healthy is False
    assert str(visit.temperature) == "37.8" and visit.phone_checked == "13911112222"
    assert visit.note == "症状：咳嗽；已告知居家"
    after = worker.get("/screening/visits/").content.decode()
    assert "对张伟的走访已登记" in after and "没有待走访的任务" in after
    assert "该走访已登记" in worker.get(f"/screening/visits/{visit.pk}/").content.decode()


def test_visit_denials_and_masking(visit, make_user):
    url = f"/screening/visits/{visit.pk}/"
    doctor = browser(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))
    assert doctor.get(url).status_code == 403
    assert doctor.post(url, {"present": "yes", "health": "normal"}).status_code == 403
    assert (
        browser(make_user(Role.SUPPLY_OFFICER, VILLAGE_A)).get("/screening/visits/").status_code
        == 403
    )
    outsider = browser(make_user(Role.GRID_WORKER, VILLAGE_C + "001"))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"present": "yes", "health": "normal"}).status_code == 404
    assert "张伟" not in outsider.get("/screening/visits/").content.decode()
    checkpoint = browser(make_user(Role.CHECKPOINT_STAFF, VILLAGE_A))  # masked ID and phone
    for page in (checkpoint.get("/screening/visits/"), checkpoint.get(url)):
        body = page.content.decode()
        assert page.status_code == 200 and "张伟" in body
        assert PHONE not in body and MASKED in body
        assert visit.person.id_number not in body
    visit.refresh_from_db()
    assert visit.status == "open"
